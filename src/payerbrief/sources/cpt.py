"""Reader of CPT descriptors from a file the user supplies under an AMA licence.

payerbrief ships no CPT descriptor text. A user who holds a licence can load
the AMA's own data files, or a CSV they made, and briefs then quote the full
descriptors. The layouts below are those of the "standard" folder of the AMA's
annual CPT data files, as the AMA's own loaders read them (AMADataLabs/Core,
`datalabs/curate/cpt/descriptor.py` and its tests); the AMA ends lines with
CRLF.

- LONGULT.txt (long descriptors, upper and lower case): paragraphs of notice,
  a blank line, then one line per code: the code, a tab, the descriptor.
- MEDU.txt and SHORTU.txt (medium and short descriptors, upper case): the
  same notice, then the code in positions 1-5, a space, the descriptor.
- ConsumerDescriptor.txt: tab-separated with the header row
  `Concept Id, CPT Code, Consumer Friendly Descriptor`.
- ClinicianDescriptor.txt: tab-separated with the header row
  `Concept Id, CPT Code, Clinician Descriptor Id, Clinician Descriptor`;
  a code has several clinician descriptors.
- A plain CSV with the header row `code,descriptor`.

The format is told from the first line that is not notice text; MEDU and
SHORTU share a layout, so the file name (or `descriptor_kind`) tells them
apart.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from payerbrief.errors import SourceFileError
from payerbrief.sources.base import (
    BatchBuilder,
    Provenance,
    ReadStats,
    require_file,
    sha256_of,
    text_lines,
)

PUBLISHER = "American Medical Association (file supplied by the user)"
WHAT = "a CPT descriptor file (LONGULT.txt, MEDU.txt, SHORTU.txt, a descriptor CSV)"
FORMAT_HINT = (
    "pass one of the AMA's CPT data files (LONGULT.txt, MEDU.txt, SHORTU.txt, "
    "ConsumerDescriptor.txt, ClinicianDescriptor.txt) as the AMA ships it, or a "
    "CSV whose header row is code,descriptor"
)
NOTICE = (
    "CPT descriptors from a file the user supplied under their own licence from "
    "the American Medical Association; payerbrief ships none."
)
KINDS = ("long", "medium", "short", "consumer", "clinician")
NOTICE_LIMIT = 60

# CPT codes are four digits and a digit (Category I), A (Category I vaccines),
# F (Category II), T (Category III), U (PLA) or M (MAAA): AMA CPT code set.
CODE = re.compile(r"[0-9]{4}[0-9AFMTU]")
TAB_LINE = re.compile(r"[0-9]{4}[0-9A-Z]\t")
FIXED_LINE = re.compile(r"[0-9]{4}[0-9A-Z] \S")

# The AMA's file names tell the descriptor length; `U` is upper case, `UL`
# upper and lower, `T` tab-delimited, `F` fixed-field.
NAME_KINDS = (
    (re.compile(r"^LONG", re.IGNORECASE), "long"),
    (re.compile(r"^MED", re.IGNORECASE), "medium"),
    (re.compile(r"^SHORT", re.IGNORECASE), "short"),
    (re.compile(r"consumer", re.IGNORECASE), "consumer"),
    (re.compile(r"clinician", re.IGNORECASE), "clinician"),
)
HEADER_KINDS = {
    "consumer friendly descriptor": "consumer",
    "clinician descriptor": "clinician",
}


@dataclass(frozen=True)
class Layout:
    """How the data lines of one file are laid out, and what they describe."""

    name: str  # "tab", "fixed", "headed" or "csv"
    kind: str
    first_line: int  # the first data line
    notice: tuple[str, ...] = ()
    code_column: int = 0
    descriptor_column: int = 1
    width: int = 2


class CptDescriptorReader:
    """CPT descriptors of one kind (long, medium, short, consumer, clinician)."""

    kind: ClassVar[str] = "cpt-descriptors"
    table: ClassVar[str] = "cpt_descriptor"
    schema: ClassVar[pa.Schema] = pa.schema(
        [
            ("code", pa.string()),
            ("descriptor", pa.string()),
            ("descriptor_kind", pa.string()),
            ("line", pa.int64()),
        ]
    )

    def __init__(
        self,
        path: Path,
        release: str | None = None,
        descriptor_kind: str | None = None,
        encoding: str = "utf-8",
    ) -> None:
        if descriptor_kind is not None and descriptor_kind not in KINDS:
            raise ValueError(
                f"descriptor_kind {descriptor_kind!r} is not one of {', '.join(KINDS)}"
            )
        self.path = Path(path)
        self.release = release
        self.descriptor_kind = descriptor_kind
        self.encoding = encoding
        self.stats = ReadStats()

    def provenance(self) -> Provenance:
        layout = self.layout()
        year = _year(self.release or "") or _year_of_path(self.path)
        return Provenance(
            kind=self.kind,
            file_name=self.path.name,
            sha256=sha256_of(self.path),
            publisher=PUBLISHER,
            release=self.release or descriptor_set(layout.kind, year),
            as_of=date(year, 1, 1) if year else None,
            notice="\n".join([NOTICE, *layout.notice]),
        )

    def layout(self) -> Layout:
        """Tell the file's layout from its first lines."""
        with self._lines() as lines:
            return self._detect(lines)

    def batches(self) -> Iterator[pa.RecordBatch]:
        self.stats = ReadStats()
        builder = BatchBuilder(self.schema)
        with self._lines() as lines:
            layout = self._detect(lines)
            for row in self._records(layout, lines):
                if (batch := builder.add(row)) is not None:
                    yield batch
        if (batch := builder.flush()) is not None:
            yield batch

    def _lines(self) -> _Lines:
        require_file(self.path, WHAT)
        return _Lines(self.path, self.encoding)

    def _detect(self, lines: _Lines) -> Layout:
        notice: list[str] = []
        for number, text in lines:
            if not text.strip():
                continue
            layout = self._layout_of(number, text, tuple(notice))
            if layout is not None:
                lines.push_back(number, text)
                return layout
            notice.append(text.strip())
            if len(notice) >= NOTICE_LIMIT:
                break
        raise SourceFileError(
            self.path,
            f"no line among the first {NOTICE_LIMIT} that are not blank reads as "
            "CPT descriptors (a code and a tab, a code and a space, a header row "
            "naming CPT Code, or the CSV header code,descriptor)",
            hint=FORMAT_HINT,
        )

    def _layout_of(
        self, number: int, text: str, notice: tuple[str, ...]
    ) -> Layout | None:
        """The layout that `text`, the first line that is not blank notice, starts."""
        if "\t" in text and "cpt code" in _cells(text, "\t"):
            return self._headed(number, text, notice)
        if _cells(text, ",")[:2] == ["code", "descriptor"]:
            kind = self.descriptor_kind or _kind_of_name(self.path.name) or "long"
            return Layout("csv", kind, number + 1, notice)
        if TAB_LINE.match(text):
            kind = self.descriptor_kind or _kind_of_name(self.path.name) or "long"
            return Layout("tab", kind, number, notice)
        if FIXED_LINE.match(text):
            return Layout("fixed", self._fixed_kind(), number, notice)
        return None

    def _headed(self, number: int, text: str, notice: tuple[str, ...]) -> Layout:
        """The layout of a consumer or clinician file, from its header row."""
        cells = _cells(text, "\t")
        found = [(i, HEADER_KINDS[c]) for i, c in enumerate(cells) if c in HEADER_KINDS]
        if not found:
            raise SourceFileError(
                self.path,
                f"the header row names no descriptor column: {text.strip()!r}",
                line=number,
                hint=FORMAT_HINT,
            )
        column, kind = found[0]
        if self.descriptor_kind not in (None, kind):
            raise SourceFileError(
                self.path,
                f"the file holds {kind} descriptors, not {self.descriptor_kind} ones",
                line=number,
                hint=f"pass descriptor_kind {kind!r}, or leave it out",
            )
        return Layout(
            "headed",
            kind,
            number + 1,
            notice,
            code_column=cells.index("cpt code"),
            descriptor_column=column,
            width=len(cells),
        )

    def _fixed_kind(self) -> str:
        kind = self.descriptor_kind or _kind_of_name(self.path.name)
        if kind is None:
            raise SourceFileError(
                self.path,
                "the lines hold a code and a descriptor after a space, the layout "
                "of both MEDU.txt and SHORTU.txt, and the file name tells neither",
                hint="keep the AMA's file name (MEDU.txt or SHORTU.txt), or pass "
                "descriptor_kind 'medium' or 'short'",
            )
        return kind

    def _records(self, layout: Layout, lines: _Lines) -> Iterator[dict[str, object]]:
        """Validated rows from the data lines; bad ones are rejected with a reason."""
        seen: dict[str, int] = {}
        rows = _csv_records(lines) if layout.name == "csv" else lines
        for number, text in rows:
            if number < layout.first_line or not text.strip():
                continue
            self.stats.rows_read += 1
            try:
                code, descriptor = _split(layout, text)
                _check(code, descriptor)
                if layout.kind != "clinician" and code in seen:
                    raise ValueError(f"code {code} repeats line {seen[code]}")
            except ValueError as exc:
                self.stats.reject(number, str(exc), text)
                continue
            seen.setdefault(code, number)
            yield {
                "code": code,
                "descriptor": descriptor,
                "descriptor_kind": layout.kind,
                "line": number,
            }


class _Lines:
    """Numbered lines of the file, strictly decoded, with one line of look-back.

    Telling the layout reads the first data line; it is pushed back so the
    records start with it.
    """

    def __init__(self, path: Path, encoding: str) -> None:
        self._stream = path.open("rb")
        self._lines = text_lines(path, self._stream, encoding)
        self._back: list[tuple[int, str]] = []

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *_: object) -> None:
        self._stream.close()

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> tuple[int, str]:
        # An iterator, not a generator: leaving a loop over it early must not
        # close the file's lines, which telling the layout does.
        if self._back:
            return self._back.pop()
        return next(self._lines)

    def push_back(self, number: int, text: str) -> None:
        self._back.append((number, text))


def _csv_records(lines: _Lines) -> Iterator[tuple[int, str]]:
    """CSV records as text, numbered by their first line; a quoted value may span
    lines."""
    pending: list[str] = []
    start = 0
    for number, text in lines:
        if not pending:
            start = number
        pending.append(text)
        joined = "\n".join(pending)
        if joined.count('"') % 2 == 0:
            pending = []
            yield start, joined
    if pending:
        yield start, "\n".join(pending)


def _split(layout: Layout, text: str) -> tuple[str, str]:
    """The code and descriptor of one data line, or ValueError saying why not."""
    if layout.name == "tab":
        code, tab, descriptor = text.partition("\t")
        if not tab:
            raise ValueError("expected the code, a tab and the descriptor")
        return code.strip(), descriptor.strip()
    if layout.name == "fixed":
        if len(text) < 7 or text[5] != " ":
            raise ValueError(
                "expected the code in positions 1-5, a space, then the descriptor"
            )
        return text[:5].strip(), text[6:].strip()
    if layout.name == "headed":
        # The AMA's tab-separated files do not quote: a quote is text.
        cells = text.split("\t")
        name = "tab-separated"
    else:
        if text.count('"') % 2:
            raise ValueError("the file ends inside a quoted field of this row")
        cells = next(csv.reader([text]), [])
        name = "comma-separated"
    if len(cells) != layout.width:
        raise ValueError(f"expected {layout.width} {name} columns, found {len(cells)}")
    return cells[layout.code_column].strip(), cells[layout.descriptor_column].strip()


def _check(code: str, descriptor: str) -> None:
    if not CODE.fullmatch(code):
        raise ValueError(f"{code!r} is not a CPT code")
    if not descriptor:
        raise ValueError(f"the descriptor of {code} is empty")


def _cells(text: str, separator: str) -> list[str]:
    """The cells of a possible header row, lower case."""
    if separator == "\t":
        return [cell.strip().lower() for cell in text.split("\t")]
    row = next(csv.reader([text.strip()]), [])
    return [cell.strip().lower() for cell in row]


def _kind_of_name(file_name: str) -> str | None:
    for pattern, kind in NAME_KINDS:
        if pattern.search(file_name):
            return kind
    return None


def _year(text: str) -> int | None:
    found = re.search(r"(?<!\d)(20\d\d)(?!\d)", text)
    return int(found.group(1)) if found else None


def _year_of_path(path: Path) -> int | None:
    """The year in the file name, or in the nearest folder that names one.

    The AMA ships its data files in folders named for the year
    (for example "CPT 2026 Data Files/standard/LONGULT.txt").
    """
    for part in (path.name, *(parent.name for parent in path.parents)):
        year = _year(part)
        if year is not None:
            return year
    return None


def descriptor_set(kind: str, year: int | None) -> str:
    """The name a brief cites for the descriptors, such as
    "AMA CPT 2026 long descriptors (user-supplied licence)"."""
    edition = f"AMA CPT {year}" if year else "AMA CPT (year not named)"
    return f"{edition} {kind} descriptors (user-supplied licence)"
