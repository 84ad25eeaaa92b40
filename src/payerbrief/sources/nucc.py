"""Reader for the NUCC Health Care Provider Taxonomy code set, CSV edition.

The CSV helpers at the end (`header_checked_rows`) are shared with the place of
service reader; they check a header and keep each row's raw text for rejects.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from payerbrief.errors import SourceFileError
from payerbrief.sources.base import (
    BatchBuilder,
    Provenance,
    ReadStats,
    csv_rows,
    open_member,
    require_file,
    sha256_of,
    text_lines,
)

WHAT = "the NUCC taxonomy CSV (nucc_taxonomy_NNN.csv)"
HEADER = (
    "Code",
    "Grouping",
    "Classification",
    "Specialization",
    "Definition",
    "Notes",
    "Display Name",
    "Section",
)
HEADER_HINT = (
    "pass the CSV file NUCC publishes at nucc.org (Code Sets, Taxonomy, CSV), unedited"
)
PUBLISHER = "National Uniform Claim Committee"
NOTICE = "NUCC Health Care Provider Taxonomy code set, used with attribution (nucc.org)"

# A taxonomy code is ten characters, nine letters or digits and a final X
# (NUCC, "Health Care Provider Taxonomy code set: code structure").
CODE_PATTERN = re.compile(r"^[0-9A-Z]{9}X$")

# NUCC names the CSV after its version without the dot: nucc_taxonomy_251.csv
# is version 25.1.
RELEASE_IN_NAME = re.compile(r"nucc_taxonomy_(\d{2})(\d)(?!\d)", re.IGNORECASE)


class NuccTaxonomyReader:
    """Reads the NUCC provider taxonomy CSV, one row per taxonomy code."""

    kind: ClassVar[str] = "nucc"
    table: ClassVar[str] = "nucc_taxonomy"
    schema: ClassVar[pa.Schema] = pa.schema(
        [
            ("code", pa.string()),
            ("grouping", pa.string()),
            ("classification", pa.string()),
            ("specialization", pa.string()),
            ("definition", pa.string()),
            ("notes", pa.string()),
            ("display_name", pa.string()),
            ("section", pa.string()),
            ("line", pa.int64()),
        ]
    )

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.stats = ReadStats()

    def provenance(self) -> Provenance:
        require_file(self.path, WHAT)
        release, as_of = nucc_release(self.path.name)
        return Provenance(
            kind=self.kind,
            file_name=self.path.name,
            sha256=sha256_of(self.path),
            publisher=PUBLISHER,
            release=release,
            as_of=as_of,
            notice=NOTICE,
        )

    def batches(self) -> Iterator[pa.RecordBatch]:
        self.stats = ReadStats()
        first_line: dict[str, int] = {}
        yield from code_set_batches(
            self.path,
            (WHAT, HEADER, HEADER_HINT),
            self.schema,
            self.stats,
            lambda line, fields, raw: self._row(line, fields, raw, first_line),
        )

    def _row(
        self, line: int, fields: list[str], raw: str, first_line: dict[str, int]
    ) -> dict[str, object] | None:
        code = fields[0]
        if not CODE_PATTERN.match(code):
            reason = (
                f"code {code!r} is not a taxonomy code (nine letters or digits, then X)"
            )
            self.stats.reject(line, reason, raw)
            return None
        if code in first_line:
            self.stats.reject(line, f"code {code} repeats line {first_line[code]}", raw)
            return None
        first_line[code] = line
        return {
            "code": code,
            "grouping": fields[1],
            "classification": fields[2],
            "specialization": fields[3] or None,
            "definition": fields[4],
            "notes": fields[5],
            "display_name": fields[6],
            "section": fields[7],
            "line": line,
        }


def nucc_release(file_name: str) -> tuple[str, date | None]:
    """The version a NUCC file name carries, and the date it took effect.

    NUCC publishes version N.0 effective January 1 and N.1 effective July 1 of
    20NN (nucc.org, taxonomy code set release schedule).
    """
    match = RELEASE_IN_NAME.search(file_name)
    if match is None:
        return "unknown", None
    year, half = int(match.group(1)), int(match.group(2))
    effective = {0: 1, 1: 7}
    as_of = date(2000 + year, effective[half], 1) if half in effective else None
    return f"{match.group(1)}.{half}", as_of


def _is_csv(name: str) -> bool:
    return name.lower().endswith(".csv")


class _LineTap:
    """Pass numbered lines on while keeping the text of the row being parsed."""

    def __init__(self, lines: Iterator[tuple[int, str]]) -> None:
        self._lines = lines
        self._held: list[str] = []

    def __iter__(self) -> Iterator[tuple[int, str]]:
        for number, text in self._lines:
            self._held.append(text)
            yield number, text

    def take(self) -> str:
        """The text read since the last call: the lines of the row just parsed."""
        raw = "\n".join(self._held)
        self._held = []
        return raw


def header_checked_rows(
    path: Path,
    stream: io.BufferedIOBase,
    header: tuple[str, ...],
    stats: ReadStats,
    hint: str,
) -> Iterator[tuple[int, list[str], str]]:
    """Yield (line, stripped fields, raw text) for each row after a matching header.

    Blank lines are skipped. A row with the wrong number of columns, or one the
    file ends inside of, is counted and rejected rather than yielded.
    """
    tap = _LineTap(text_lines(path, stream))
    rows = csv_rows(iter(tap))
    _check_header(path, next(rows, None), tap.take(), header, hint)
    for line, fields in rows:
        raw = tap.take()
        if not raw.strip():
            continue
        stats.rows_read += 1
        reason = _shape_problem(raw, fields, len(header))
        if reason:
            stats.reject(line, reason, raw)
            continue
        yield line, [field.strip() for field in fields], raw


def _check_header(
    path: Path,
    first: tuple[int, list[str]] | None,
    raw: str,
    header: tuple[str, ...],
    hint: str,
) -> None:
    expected = ",".join(header)
    if first is None:
        raise SourceFileError(
            path,
            f"the file is empty; expected the header {expected}",
            line=1,
            hint=hint,
        )
    if tuple(name.strip() for name in first[1]) != header:
        raise SourceFileError(
            path,
            f"the header is {raw[:200]!r}; expected {expected}",
            line=first[0],
            hint=hint,
        )


def _shape_problem(raw: str, fields: list[str], width: int) -> str:
    # `csv_rows` reads on while a quote is open, so an odd count of quotes can
    # only mean the file ended inside a quoted field.
    if raw.count('"') % 2:
        return "the file ends inside a quoted field of this row; it may be truncated"
    if len(fields) != width:
        return f"expected {width} columns, found {len(fields)}"
    return ""


# One row of a code-set CSV becomes a table row, or None when it is rejected.
MakeRow = Callable[[int, list[str], str], dict[str, object] | None]


def code_set_batches(
    path: Path,
    layout: tuple[str, tuple[str, ...], str],
    schema: pa.Schema,
    stats: ReadStats,
    make_row: MakeRow,
) -> Iterator[pa.RecordBatch]:
    """Batches of a header-checked code-set CSV (NUCC, place of service).

    `layout` is what the file is, its header and the hint for a wrong one.
    """
    what, header, hint = layout
    builder = BatchBuilder(schema)
    with open_member(path, _is_csv, what) as stream:
        for line, fields, raw in header_checked_rows(path, stream, header, stats, hint):
            row = make_row(line, fields, raw)
            if row is not None and (batch := builder.add(row)) is not None:
                yield batch
    if (batch := builder.flush()) is not None:
        yield batch
