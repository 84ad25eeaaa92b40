"""Readers for the CMS alpha-numeric HCPCS file: Level II codes and modifiers.

CMS publishes the annual file as a ZIP (2020-Alpha-Numeric-HCPCS-File.zip)
holding `HCPC2020_ANWEB_w_disclaimer.txt`: a few lines of disclaimer, then
fixed-width records laid out as in the "HCPCS Contractor Record" (CMS RIF
record layout, 2019 edition). Each record carries a record identification code
in position 11 (layout field 6): 3 opens a procedure code, 4 continues its long
description, 7 opens a modifier and 8 continues a modifier's description.
Positions below are 1-based and inclusive, as in the layout.

Both readers make their own pass over the file and share the parsing below.
`stats.rows_read` counts in one unit, the logical code: one per RECID 3 (or 7)
record, whose accepted continuation lines belong to it and are not counted
again. A continuation line that cannot be attached to its code is rejected and
counted on its own, as is a line that is a record of neither kind. So
`rows_read == loaded rows + len(stats.rejects)` always holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatch
from itertools import chain
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from payerbrief.errors import SourceFileError
from payerbrief.sources.base import (
    BatchBuilder,
    Provenance,
    ReadStats,
    open_member,
    sha256_of,
    text_lines,
)

PUBLISHER = "Centers for Medicare & Medicaid Services"
WHAT = "the HCPCS ANWEB .txt file"

# The 2020 ANWEB file is not UTF-8: its disclaimer spells "CMS’" with byte 0x92,
# the right single quotation mark of Windows-1252. Everything else is ASCII.
ENCODING = "cp1252"

RECORD_LENGTH = 320
# Continuation records carry no detail past the long description (layout field
# 6, codes 4 and 8), and CMS ships them cut at its end, position 91.
CONTINUATION_LENGTH = 91
HEADER_LIMIT = 50
RECIDS = ("3", "4", "7", "8")

Row = dict[str, object]
Lines = Iterator[tuple[int, str]]


@dataclass(frozen=True)
class _Field:
    """One field of the HCPCS record layout, by its number and positions."""

    number: int
    name: str
    start: int
    end: int
    width: int = 0  # the width of one occurrence, for fields that repeat

    def cut(self, record: str) -> str:
        return record[self.start - 1 : self.end]

    def where(self) -> str:
        return f"field {self.number}, positions {self.start}-{self.end}"


CODE = _Field(1, "HCPCS code", 1, 5)
SEQUENCE = _Field(5, "sequence number", 6, 10)
LONG = _Field(7, "long description", 12, 91)
SHORT = _Field(8, "short description", 92, 119)
PRICING = _Field(9, "pricing indicator codes", 120, 127, width=2)
MULTIPLE_PRICING = _Field(10, "multiple pricing indicator", 128, 128)
CIM = _Field(11, "coverage issues manual references", 129, 146, width=6)
MCM = _Field(12, "Medicare carriers manual references", 147, 170, width=8)
STATUTE = _Field(13, "statute number", 171, 180)
LAB_CERTIFICATION = _Field(14, "lab certification codes", 181, 204, width=3)
XREF = _Field(15, "cross reference codes", 205, 229, width=5)
COVERAGE = _Field(16, "coverage code", 230, 230)
ASC_GROUP = _Field(17, "ASC payment group", 231, 232)
ASC_DATE = _Field(18, "ASC payment group effective date", 233, 240)
# Fields 19-21 (MOG payment group) are blank in every record of the 2020 file.
PROCESSING_NOTE = _Field(22, "processing note number", 253, 256)
BETOS = _Field(23, "BETOS code", 257, 259)
TYPE_OF_SERVICE = _Field(25, "type of service codes", 261, 265, width=1)
ANESTHESIA_UNITS = _Field(26, "anesthesia base units", 266, 268)
ADD_DATE = _Field(27, "code added date", 269, 276)
EFFECTIVE_DATE = _Field(28, "action effective date", 277, 284)
TERMINATION_DATE = _Field(29, "termination date", 285, 292)
ACTION = _Field(30, "action code", 293, 293)

PROCEDURE_CODE = re.compile(r"[A-Z][0-9]{4}")
MODIFIER_CODE = re.compile(r" {3}[A-Z0-9]{2}")
YEAR = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])")

WRONG_LAYOUT = (
    f"no HCPCS record in the first {HEADER_LIMIT} lines; expected the CMS "
    f"alpha-numeric HCPCS layout of {RECORD_LENGTH}-character records with a "
    "record identification code 3, 4, 7 or 8 in position 11"
)
WRONG_LAYOUT_HINT = (
    "pass the CMS ZIP (2020-Alpha-Numeric-HCPCS-File.zip) or the "
    "HCPC<year>_ANWEB .txt file inside it"
)


class _BadRecord(Exception):
    """A record that fails validation; the message is the reject reason."""


# Reading the fields of one record.


def _words(text: str) -> str:
    return " ".join(text.split())


def _text(record: str, spec: _Field) -> str | None:
    """A single-valued field, stripped, or None when blank."""
    return _words(spec.cut(record)) or None


def _repeated(record: str, spec: _Field) -> list[str]:
    """The occurrences of a repeating field (OCCURS in the layout), blanks dropped."""
    span = spec.cut(record)
    parts = (span[i : i + spec.width].strip() for i in range(0, len(span), spec.width))
    return [part for part in parts if part]


def _date(record: str, spec: _Field) -> date | None:
    """A CCYYMMDD date field; blank means no date."""
    value = spec.cut(record)
    if not value.strip():
        return None
    if value.isascii() and value.isdigit():
        try:
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            pass
    raise _BadRecord(f"{spec.name} {value!r} ({spec.where()}) is not a CCYYMMDD date")


def _dates(record: str) -> Row:
    return {
        "add_date": _date(record, ADD_DATE),
        "action_effective_date": _date(record, EFFECTIVE_DATE),
        "termination_date": _date(record, TERMINATION_DATE),
    }


def _code(record: str, pattern: re.Pattern[str], what: str) -> str:
    value = CODE.cut(record)
    if not pattern.fullmatch(value):
        raise _BadRecord(f"{value!r} ({CODE.where()}) is not {what}")
    return value.strip()


def _procedure_row(record: str) -> Row:
    """The fields of a RECID 3 record, all but the joined long description."""
    return {
        "hcpcs": _code(record, PROCEDURE_CODE, "a HCPCS Level II code"),
        "short_description": _words(SHORT.cut(record)),
        "pricing_indicators": _repeated(record, PRICING),
        "multiple_pricing": _text(record, MULTIPLE_PRICING),
        "coverage_code": _text(record, COVERAGE),
        "asc_group": _text(record, ASC_GROUP),
        "asc_group_effective_date": _date(record, ASC_DATE),
        "betos": _text(record, BETOS),
        "type_of_service": _repeated(record, TYPE_OF_SERVICE),
        "anesthesia_units": _text(record, ANESTHESIA_UNITS),
        "action_code": _text(record, ACTION),
        "processing_note": _text(record, PROCESSING_NOTE),
        "statute": _text(record, STATUTE),
        "xref_codes": _repeated(record, XREF),
        "lab_certifications": _repeated(record, LAB_CERTIFICATION),
        "cim_references": _repeated(record, CIM),
        "mcm_references": _repeated(record, MCM),
        **_dates(record),
    }


def _modifier_row(record: str) -> Row:
    """The fields of a RECID 7 record; the modifier sits in positions 4-5."""
    return {
        "modifier": _code(
            record, MODIFIER_CODE, "a modifier (three blanks, two characters)"
        ),
        "short_description": _words(SHORT.cut(record)),
        "coverage_code": _text(record, COVERAGE),
        "action_code": _text(record, ACTION),
        **_dates(record),
    }


# Grouping records into codes.


@dataclass(frozen=True)
class _Kind:
    """What one reader takes from the file: which records, and how to read them."""

    first: str
    continuation: str
    noun: str
    parse: Callable[[str], Row]


PROCEDURES = _Kind("3", "4", "procedure", _procedure_row)
MODIFIERS = _Kind("7", "8", "modifier", _modifier_row)


@dataclass
class _Pending:
    """A code whose first record is read and whose continuations may follow."""

    code: str
    line: int
    row: Row
    parts: list[tuple[int, str]] = field(default_factory=list)

    def finish(self) -> Row:
        # Continuations join in sequence-number order (layout field 5).
        text = " ".join(part for _, part in sorted(self.parts))
        return {**self.row, "long_description": _words(text), "line": self.line}


def _length_problem(record: str, shortest: int) -> str | None:
    size = len(record)
    if shortest <= size <= RECORD_LENGTH:
        return None
    expected = (
        RECORD_LENGTH if shortest == RECORD_LENGTH else f"{shortest} to {RECORD_LENGTH}"
    )
    return f"record is {size} characters, expected {expected}"


def _sequence(record: str) -> int:
    value = SEQUENCE.cut(record)
    if not (value.isascii() and value.isdigit()):
        raise _BadRecord(
            f"sequence number {value!r} ({SEQUENCE.where()}) is not a number"
        )
    return int(value)


def _start(number: int, record: str, kind: _Kind) -> _Pending:
    """Read the first record of a code, or raise `_BadRecord` saying why not."""
    problem = _length_problem(record, RECORD_LENGTH)
    if problem:
        raise _BadRecord(problem)
    sequence = _sequence(record)
    row = kind.parse(record)
    pending = _Pending(CODE.cut(record).strip(), number, row)
    pending.parts.append((sequence, LONG.cut(record)))
    return pending


def _attach(pending: _Pending | None, record: str, kind: _Kind) -> None:
    """Add a continuation line to the code before it, or raise `_BadRecord`."""
    problem = _length_problem(record, CONTINUATION_LENGTH)
    if problem:
        raise _BadRecord(problem)
    sequence = _sequence(record)
    code = CODE.cut(record).strip()
    if pending is None:
        raise _BadRecord(
            f"continuation line for {code} does not follow a {kind.noun} record"
        )
    if code != pending.code:
        raise _BadRecord(
            f"continuation line for {code} follows the {kind.noun} record "
            f"for {pending.code}"
        )
    pending.parts.append((sequence, LONG.cut(record)))


def _unknown_reason(record: str) -> str:
    if len(record) < 11:
        return f"record is {len(record)} characters, expected {RECORD_LENGTH}"
    return (
        f"unknown record identification code {record[10]!r} in position 11 "
        "(expected 3, 4, 7 or 8)"
    )


def _codes(records: Lines, stats: ReadStats, kind: _Kind) -> Iterator[Row]:
    """Yield one row per valid code of `kind`, rejecting what cannot be read.

    The continuation lines of a rejected first record go with it: they are
    neither loaded nor rejected a second time. Blank lines are skipped.
    """
    pending: _Pending | None = None
    dropped: str | None = None  # the code of a rejected first record
    for number, record in records:
        if not record.strip():
            continue
        recid = record[10:11]

        # A continuation line extends the code just read, if it is the same code.
        if recid == kind.continuation:
            if pending is None and CODE.cut(record).strip() == dropped:
                continue
            try:
                _attach(pending, record, kind)
            except _BadRecord as exc:
                stats.rows_read += 1
                stats.reject(number, str(exc), record)
            continue

        # Any other record ends the code being collected.
        if pending is not None:
            yield pending.finish()
        pending, dropped = None, None
        if recid == kind.first:
            stats.rows_read += 1
            try:
                pending = _start(number, record, kind)
            except _BadRecord as exc:
                stats.reject(number, str(exc), record)
                dropped = CODE.cut(record).strip()
        elif recid not in RECIDS:
            stats.rows_read += 1
            stats.reject(number, _unknown_reason(record), record)

    if pending is not None:
        yield pending.finish()


# The file around the records: its disclaimer, its name, its release year.


def _looks_like_record(line: str) -> bool:
    sequence = SEQUENCE.cut(line)
    return line[10:11] in RECIDS and sequence.isascii() and sequence.isdigit()


def _split_header(path: Path, lines: Lines) -> tuple[list[str], Lines]:
    """Separate the disclaimer lines from the records that follow them.

    A file with no record in its first lines is not this layout at all, so the
    read stops there rather than rejecting every line.
    """
    header: list[str] = []
    for number, line in lines:
        if _looks_like_record(line):
            return header, chain([(number, line)], lines)
        if number >= HEADER_LIMIT:
            break
        header.append(line)
    raise SourceFileError(path, WRONG_LAYOUT, hint=WRONG_LAYOUT_HINT)


def _notice(header: list[str]) -> str:
    """The disclaimer as paragraphs, each on one line, separated by a blank line."""
    paragraphs: list[list[str]] = [[]]
    for line in header:
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return "\n\n".join(_words(" ".join(p)) for p in paragraphs if p)


def _is_anweb(name: str) -> bool:
    return fnmatch(Path(name).name.lower(), "*anweb*.txt")


def _release_year(path: Path, member: str) -> int:
    """The year in the data file's name (HCPC2020_...), else in the ZIP's name."""
    for name in (Path(member).name, path.name):
        found = YEAR.search(name)
        if found:
            return int(found.group(1))
    raise SourceFileError(
        path,
        "cannot tell the HCPCS release year from the file name",
        hint="keep the CMS file name, which carries the year "
        "(HCPC2020_ANWEB_w_disclaimer.txt or 2020-Alpha-Numeric-HCPCS-File.zip)",
    )


# The readers.


def _list() -> pa.DataType:
    return pa.list_(pa.string())


_TAIL = [
    pa.field("add_date", pa.date32()),
    pa.field("action_effective_date", pa.date32()),
    pa.field("termination_date", pa.date32()),
    pa.field("action_code", pa.string()),
    pa.field("line", pa.int64(), nullable=False),
]


class _HcpcsReader:
    kind: ClassVar[str]
    table: ClassVar[str]
    schema: ClassVar[pa.Schema]
    records: ClassVar[_Kind]

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.stats = ReadStats()

    def provenance(self) -> Provenance:
        """Name the release from the file name and take the disclaimer as notice."""
        with open_member(self.path, _is_anweb, WHAT) as raw:
            member = str(getattr(raw, "name", self.path.name))
            header, _ = _split_header(self.path, text_lines(self.path, raw, ENCODING))
        year = _release_year(self.path, member)
        return Provenance(
            kind=self.kind,
            file_name=self.path.name,
            sha256=sha256_of(self.path),
            publisher=PUBLISHER,
            release=str(year),
            # The annual file takes effect on January 1 of its year.
            as_of=date(year, 1, 1),
            notice=_notice(header),
        )

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Stream the codes; each call starts `stats` afresh."""
        self.stats.rows_read = 0
        self.stats.rejects.clear()
        builder = BatchBuilder(self.schema)
        with open_member(self.path, _is_anweb, WHAT) as raw:
            lines = text_lines(self.path, raw, ENCODING)
            _, records = _split_header(self.path, lines)
            for row in _codes(records, self.stats, self.records):
                batch = builder.add(row)
                if batch is not None:
                    yield batch
        last = builder.flush()
        if last is not None:
            yield last


class HcpcsCodeReader(_HcpcsReader):
    """HCPCS Level II procedure codes: one row per RECID 3 record and its RECID 4 lines.

    List columns hold the occurrences of repeating layout fields with blanks
    dropped; blank single fields and dates are null.
    """

    kind: ClassVar[str] = "hcpcs"
    table: ClassVar[str] = "hcpcs_code"
    records: ClassVar[_Kind] = PROCEDURES
    schema: ClassVar[pa.Schema] = pa.schema(
        [
            pa.field("hcpcs", pa.string(), nullable=False),
            pa.field("long_description", pa.string()),
            pa.field("short_description", pa.string()),
            pa.field("pricing_indicators", _list()),
            pa.field("multiple_pricing", pa.string()),
            pa.field("coverage_code", pa.string()),
            pa.field("asc_group", pa.string()),
            pa.field("asc_group_effective_date", pa.date32()),
            pa.field("betos", pa.string()),
            pa.field("type_of_service", _list()),
            pa.field("anesthesia_units", pa.string()),
            pa.field("processing_note", pa.string()),
            pa.field("statute", pa.string()),
            pa.field("xref_codes", _list()),
            pa.field("lab_certifications", _list()),
            pa.field("cim_references", _list()),
            pa.field("mcm_references", _list()),
            *_TAIL,
        ]
    )


class HcpcsModifierReader(_HcpcsReader):
    """HCPCS Level II modifiers: one row per RECID 7 record and its RECID 8 lines."""

    kind: ClassVar[str] = "hcpcs-modifier"
    table: ClassVar[str] = "hcpcs_modifier"
    records: ClassVar[_Kind] = MODIFIERS
    schema: ClassVar[pa.Schema] = pa.schema(
        [
            pa.field("modifier", pa.string(), nullable=False),
            pa.field("long_description", pa.string()),
            pa.field("short_description", pa.string()),
            pa.field("coverage_code", pa.string()),
            *_TAIL,
        ]
    )
