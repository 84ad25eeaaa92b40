"""Reader of the Geographic Practice Cost Indices by Medicare locality.

CMS publishes them as Addendum E of the final Physician Fee Schedule rule and
in every RVU release as GPCI<year>.csv: a title row, a blank row, the header
row, one row per payment locality, then footnote rows (the MAC assignment
date, and what a `*` or `**` after a locality name means).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from payerbrief.sources.base import Provenance, ReadStats, sha256_of
from payerbrief.sources.pfs import (
    PUBLISHER,
    Column,
    CsvRow,
    Head,
    batched,
    check_width,
    cms_csv,
    convert,
    find_header,
    required_decimal,
    required_text,
    row_text,
    valid_records,
    year_in,
    zero_padded,
)

GPCI_SCHEMA = pa.schema(
    [
        ("mac", pa.string()),
        ("state", pa.string()),
        ("locality_number", pa.string()),
        ("locality_name", pa.string()),
        ("pw_gpci", pa.float64()),
        ("pe_gpci", pa.float64()),
        ("mp_gpci", pa.float64()),
        ("line", pa.int64()),
    ]
)

WHAT = "the GPCI CSV (GPCI*.csv)"
_HINT = (
    "pass the GPCI CSV of a CMS RVU release (for example GPCI2025.csv) "
    "or the RVU ZIP that holds it"
)


def mac_number(text: str) -> str:
    """A Medicare Administrative Contractor number, five digits (02102)."""
    return zero_padded(text, 5, "contractor number")


def locality_number(text: str) -> str:
    """A payment locality number, two digits (00, 99)."""
    return zero_padded(text, 2, "locality number")


def is_footnote(cells: Sequence[str]) -> bool:
    """True for a blank row or a note row among the data of a CMS locality file.

    Notes fill only the first cell with text, such as "MAC Assignments as of
    November 22, 2023" or "*Work GPCI reflects a 1.5 floor in Alaska"; a data
    row always fills more than one cell.
    """
    filled = [cell.strip() for cell in cells if cell.strip()]
    if not filled or cells[0].lstrip().startswith("*"):
        return True
    return len(filled) == 1 and bool(cells[0].strip()) and not filled[0].isdigit()


def calendar_release(
    preamble: Sequence[Sequence[str]], file_name: str
) -> tuple[str, date | None]:
    """The calendar year a locality file applies to, as ("CY2025", 2025-01-01).

    The year comes from the title row, else from the file name; a file that
    names no year gets ("unknown", None).
    """
    year = next((y for y in map(year_in, map(row_text, preamble)) if y), None)
    if year is None:
        year = year_in(file_name)
    if year is None:
        short = re.match(r"(\d\d)LOCCO", file_name, re.IGNORECASE)
        year = 2000 + int(short.group(1)) if short else None
    if year is None:
        return "unknown", None
    return f"CY{year}", date(year, 1, 1)


def _state_code(text: str) -> str:
    value = text.strip().upper()
    if len(value) != 2 or not value.isalpha():
        raise ValueError(f"{value!r} is not a two-letter state code")
    return value


def unmarked_name(text: str) -> str:
    """A locality name without the `*` or `**` that points to a footnote."""
    return required_text(text.strip().rstrip("*"))


GPCI_COLUMNS: tuple[Column, ...] = (
    ("mac", "Medicare Administrative Contractor (MAC)", mac_number),
    ("state", "State", _state_code),
    ("locality_number", "Locality Number", locality_number),
    ("locality_name", "Locality Name", unmarked_name),
    ("pw_gpci", "PW GPCI", required_decimal),
    ("pe_gpci", "PE GPCI", required_decimal),
    ("mp_gpci", "MP GPCI", required_decimal),
)


def _is_gpci_member(name: str) -> bool:
    return re.fullmatch(r"(?:.*/)?GPCI[^/]*\.csv", name, re.IGNORECASE) is not None


def _is_gpci_header(cells: list[str]) -> bool:
    first = cells[0].strip().lower() if cells else ""
    return first.startswith("medicare administrative contractor")


class CalendarCsvReader:
    """What the GPCI and locality-county readers share.

    Both are CMS CSVs of a calendar year, found by their member name in the
    RVU ZIP, with a header row starting "Medicare Administrative Contractor"
    after a title. Subclasses name the member test, the header test, the
    columns, what the file is and the hint for a wrong header.
    """

    kind: ClassVar[str]
    what: ClassVar[str]
    hint: ClassVar[str]
    column_count: ClassVar[int]

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.stats = ReadStats()

    @staticmethod
    def _is_member(name: str) -> bool:
        raise NotImplementedError

    @staticmethod
    def _is_header(cells: list[str]) -> bool:
        raise NotImplementedError

    def _rows(self) -> AbstractContextManager[Iterator[CsvRow]]:
        return cms_csv(self.path, self._is_member, self.what)

    def provenance(self) -> Provenance:
        with self._rows() as rows:
            head = self._header(rows)
        release, as_of = calendar_release(head.preamble, self.path.name)
        return Provenance(
            kind=self.kind,
            file_name=self.path.name,
            sha256=sha256_of(self.path),
            publisher=PUBLISHER,
            release=release,
            as_of=as_of,
        )

    def _header(self, rows: Iterator[CsvRow]) -> Head:
        expected = "starting 'Medicare Administrative Contractor'"
        head = find_header(self.path, rows, self._is_header, expected, self.hint)
        check_width(self.path, head, self.column_count, self.hint)
        return head


class GpciReader(CalendarCsvReader):
    """GPCI2025.csv: the work, practice expense and malpractice indices."""

    kind: ClassVar[str] = "gpci"
    table: ClassVar[str] = "gpci"
    schema: ClassVar[pa.Schema] = GPCI_SCHEMA
    what = WHAT
    hint = _HINT
    column_count = len(GPCI_COLUMNS)
    _is_member = staticmethod(_is_gpci_member)
    _is_header = staticmethod(_is_gpci_header)

    def batches(self) -> Iterator[pa.RecordBatch]:
        self.stats = ReadStats()
        width = len(GPCI_COLUMNS)
        with self._rows() as rows:
            self._header(rows)
            records = valid_records(
                rows, self.stats, width, self._parse, skip=is_footnote
            )
            yield from batched(self.schema, records)

    @staticmethod
    def _parse(line: int, cells: list[str]) -> dict[str, object]:
        return convert(cells, GPCI_COLUMNS)
