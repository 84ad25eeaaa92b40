"""Reader of the Medicare Physician Fee Schedule relative value file (PPRRVU).

CMS publishes the file in every quarterly RVU release (RVU25A for January,
RVU25B for April, and so on) inside a ZIP that also holds it as text and Excel.
The CSV opens with notice rows: the title, the AMA and ADA copyright lines and
the release date. A header stacked over several rows follows, its last row
starting HCPCS, MOD, DESCRIPTION, and then one row per billing code and
modifier.

The helpers in the first half of this module serve the GPCI and
locality-county readers too, since those files come from the same release.
"""

from __future__ import annotations

import csv
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import ClassVar, NamedTuple

import pyarrow as pa

from payerbrief.errors import SourceFileError
from payerbrief.sources.base import (
    BatchBuilder,
    Provenance,
    ReadStats,
    csv_rows,
    open_member,
    sha256_of,
    text_lines,
)

PUBLISHER = "Centers for Medicare & Medicaid Services"
HEADER_SEARCH_LINES = 30

# Column name, the label error messages use, and the function that turns the
# cell text into the column value (raising ValueError with the reason).
Column = tuple[str, str, Callable[[str], object]]


class CsvRow(NamedTuple):
    """One CSV record with the number of its first line and its text as read."""

    line: int
    cells: list[str]
    text: str


@dataclass(frozen=True)
class Head:
    """The header row of a CMS file and the notice rows above it."""

    line: int
    cells: list[str]
    preamble: list[list[str]]


@contextmanager
def cms_csv(
    path: Path, pick: Callable[[str], bool], what: str
) -> Iterator[Iterator[CsvRow]]:
    """Open the CSV at `path`, or the member of the ZIP there that `pick` accepts."""
    with open_member(path, pick, what) as raw:
        yield _rows_with_text(path, text_lines(path, raw))


def _rows_with_text(path: Path, lines: Iterator[tuple[int, str]]) -> Iterator[CsvRow]:
    """Parse CSV rows and keep the text each came from, for rejected-row reports."""
    taken: list[tuple[int, str]] = []

    def tap() -> Iterator[tuple[int, str]]:
        for number, text in lines:
            taken.append((number, text))
            yield number, text

    # Two failures pass through `text_lines` and `csv_rows` untranslated:
    # csv.Error for a carriage return outside quotes (which damaged ZIP data
    # also produces) and zlib.error for compressed data that does not inflate.
    try:
        for line, cells in csv_rows(tap()):
            text = "\n".join(part for _, part in taken)
            taken.clear()
            yield CsvRow(line, cells, text)
    except csv.Error as exc:
        raise SourceFileError(
            path,
            f"the row cannot be read as CSV ({exc})",
            line=taken[0][0] if taken else None,
            hint="pass the file as CMS publishes it; download it again if it "
            "may be damaged",
        ) from exc
    except zlib.error as exc:
        raise SourceFileError(
            path,
            f"the ZIP archive is damaged ({exc})",
            hint="download the file again; it may be truncated",
        ) from exc


def find_header(
    path: Path,
    rows: Iterator[CsvRow],
    is_header: Callable[[list[str]], bool],
    expected: str,
    hint: str,
) -> Head:
    """Read up to the header row, keeping the notice rows above it."""
    preamble: list[list[str]] = []
    for row in rows:
        if row.line > HEADER_SEARCH_LINES:
            break
        if is_header(row.cells):
            return Head(row.line, row.cells, preamble)
        preamble.append(row.cells)
    raise SourceFileError(
        path,
        f"no header row {expected} in the first {HEADER_SEARCH_LINES} lines",
        hint=hint,
    )


def check_width(path: Path, head: Head, width: int, hint: str) -> None:
    """Fail when the header does not have the columns the layout defines."""
    found = len(fit(head.cells, width))
    if found != width:
        raise SourceFileError(
            path,
            f"the header row has {found} columns, expected {width}",
            line=head.line,
            hint=hint,
        )


def is_blank(cells: Sequence[str]) -> bool:
    """True for a row with nothing in it.

    The January 2025 PPRRVU file ends with a DOS end-of-file mark (Ctrl-Z,
    0x1A) followed by empty cells; that row counts as blank too.
    """
    return all(not cell.replace("\x1a", "").strip() for cell in cells)


def fit(cells: list[str], width: int) -> list[str]:
    """Drop empty cells past `width`, which spreadsheet exports often append."""
    end = len(cells)
    while end > width and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def convert(cells: Sequence[str], columns: Sequence[Column]) -> dict[str, object]:
    """Turn the cells of one row into a record, naming the column that fails."""
    record: dict[str, object] = {}
    for (name, label, parse), text in zip(columns, cells, strict=True):
        try:
            record[name] = parse(text)
        except ValueError as exc:
            raise ValueError(f"column {label}: {exc}") from None
    return record


def valid_records(
    rows: Iterable[CsvRow],
    stats: ReadStats,
    width: int,
    parse: Callable[[int, list[str]], dict[str, object]],
    skip: Callable[[list[str]], bool] = is_blank,
) -> Iterator[dict[str, object]]:
    """Yield the records of the data rows, rejecting the rows that fail `parse`."""
    for row in rows:
        if skip(row.cells):
            continue
        stats.rows_read += 1
        cells = fit(row.cells, width)
        try:
            if len(cells) != width:
                raise ValueError(f"expected {width} columns, found {len(cells)}")
            record = parse(row.line, cells)
        except ValueError as exc:
            stats.reject(row.line, str(exc), row.text)
            continue
        record["line"] = row.line
        yield record


def batched(
    schema: pa.Schema, records: Iterable[dict[str, object]]
) -> Iterator[pa.RecordBatch]:
    """Group records into record batches of `schema`."""
    builder = BatchBuilder(schema)
    for record in records:
        batch = builder.add(record)
        if batch is not None:
            yield batch
    last = builder.flush()
    if last is not None:
        yield last


def text_or_none(text: str) -> str | None:
    """The stripped cell, or None when it is empty."""
    return text.strip() or None


def required_text(text: str) -> str:
    value = text.strip()
    if not value:
        raise ValueError("the cell is empty")
    return value


_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def decimal_or_none(text: str) -> float | None:
    """A decimal number, or None for an empty cell."""
    value = text.strip()
    if not value:
        return None
    if not _DECIMAL.fullmatch(value):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


def decimal_or_zero(text: str) -> float:
    """A decimal number, with an empty cell read as 0, as `parse_number` does.

    The RVU file writes 0.00 (or 0) wherever a code has no units, so an empty
    cell does not occur in CMS's files.
    """
    return decimal_or_none(text) or 0.0


def required_decimal(text: str) -> float:
    value = decimal_or_none(text)
    if value is None:
        raise ValueError("the cell is empty, expected a number")
    return value


def zero_padded(text: str, digits: int, what: str) -> str:
    """A numeric code padded back to its width.

    CMS's CSV files pass through Excel, which drops leading zeros from codes
    such as locality 00 or contractor 02102.
    """
    value = text.strip()
    if not value.isdigit() or len(value) > digits:
        raise ValueError(f"{value!r} is not a {what} of up to {digits} digits")
    return value.zfill(digits)


def year_in(text: str) -> int | None:
    """The first year 20xx in `text`, also inside a name such as GPCI2025.csv."""
    found = re.search(r"(?<!\d)(20\d\d)(?!\d)", text)
    return int(found.group(1)) if found else None


def row_text(cells: Sequence[str]) -> str:
    return " ".join(cell.strip() for cell in cells if cell.strip())


_MONTH_LETTER = {"JAN": "A", "APR": "B", "JUL": "C", "OCT": "D"}


def _hcpcs(text: str) -> str:
    """A billing code: five letters and digits.

    The January 2025 file lost the leading zeros of CPT anesthesia codes
    (00100 is written 100), so an all-digit code of three or four digits is
    padded back to five.
    """
    value = text.strip().upper()
    if not value:
        raise ValueError("the code is empty")
    if value.isdigit() and 3 <= len(value) < 5:
        value = value.zfill(5)
    if len(value) != 5 or not value.isascii() or not value.isalnum():
        raise ValueError(f"{value!r} is not 5 letters and digits")
    return value


def _hcpcs_or_none(text: str) -> str | None:
    return _hcpcs(text) if text.strip() else None


def _na_indicator(text: str) -> bool:
    """True where CMS marks the setting's RVUs "NA" (not paid in that setting)."""
    value = text.strip().upper()
    if value not in ("", "NA"):
        raise ValueError(f"{value!r} is neither NA nor empty")
    return value == "NA"


def _padded_indicator(width: int) -> Callable[[str], str | None]:
    """An indicator whose numeric values the layout writes with `width` digits.

    The January 2025 file writes global days 090 as 90 and physician
    supervision 09 as 9; padding makes releases compare equal.
    """

    def parse(text: str) -> str | None:
        value = text.strip()
        return value.zfill(width) if value.isdigit() else value or None

    return parse


# PPRRVU layout: the 31 columns in file order, each labelled with the words of
# its stacked header rows, as the RVU release's record layout names them.
PPRRVU_COLUMNS: tuple[Column, ...] = (
    ("hcpcs", "HCPCS", _hcpcs),
    ("modifier", "MOD", text_or_none),
    ("description", "DESCRIPTION", text_or_none),
    ("status", "STATUS CODE", text_or_none),
    ("not_used_for_medicare", "NOT USED FOR MEDICARE PAYMENT", text_or_none),
    ("work_rvu", "WORK RVU", decimal_or_zero),
    ("nonfac_pe_rvu", "NON-FAC PE RVU", decimal_or_zero),
    ("nonfac_na", "NON-FAC NA INDICATOR", _na_indicator),
    ("fac_pe_rvu", "FACILITY PE RVU", decimal_or_zero),
    ("fac_na", "FACILITY NA INDICATOR", _na_indicator),
    ("mp_rvu", "MP RVU", decimal_or_zero),
    ("nonfac_total", "NON-FACILITY TOTAL", decimal_or_zero),
    ("fac_total", "FACILITY TOTAL", decimal_or_zero),
    ("pctc", "PCTC IND", text_or_none),
    ("global_days", "GLOB DAYS", _padded_indicator(3)),
    ("pre_op", "PRE OP", decimal_or_zero),
    ("intra_op", "INTRA OP", decimal_or_zero),
    ("post_op", "POST OP", decimal_or_zero),
    ("mult_proc", "MULT PROC", text_or_none),
    ("bilat_surg", "BILAT SURG", text_or_none),
    ("asst_surg", "ASST SURG", text_or_none),
    ("co_surg", "CO-SURG", text_or_none),
    ("team_surg", "TEAM SURG", text_or_none),
    ("endo_base", "ENDO BASE", _hcpcs_or_none),
    ("conv_factor", "CONV FACTOR", decimal_or_zero),
    (
        "phys_supervision",
        "PHYSICIAN SUPERVISION OF DIAGNOSTIC PROCEDURES",
        _padded_indicator(2),
    ),
    ("calc_flag", "CALCULATION FLAG", text_or_none),
    ("diag_imaging_family", "DIAGNOSTIC IMAGING FAMILY INDICATOR", text_or_none),
    ("opps_nonfac_pe", "NON-FACILITY PE USED FOR OPPS PAYMENT AMOUNT", decimal_or_zero),
    ("opps_fac_pe", "FACILITY PE USED FOR OPPS PAYMENT AMOUNT", decimal_or_zero),
    ("opps_mp", "MP USED FOR OPPS PAYMENT AMOUNT", decimal_or_zero),
)


def _arrow_type(parse: Callable[[str], object]) -> pa.DataType:
    if parse is decimal_or_zero:
        return pa.float64()
    if parse is _na_indicator:
        return pa.bool_()
    return pa.string()


PPRRVU_SCHEMA = pa.schema(
    [(name, _arrow_type(parse)) for name, _, parse in PPRRVU_COLUMNS]
    + [("line", pa.int64())]
)

WHAT = "the PPRRVU CSV (PPRRVU*.csv)"
_PPRRVU_HINT = (
    "pass the PPRRVU CSV of a CMS RVU release (for example PPRRVU2025_Oct.csv) "
    "or the RVU ZIP that holds it"
)


def _is_pprrvu_member(name: str) -> bool:
    return re.fullmatch(r"(?:.*/)?PPRRVU[^/]*\.csv", name, re.IGNORECASE) is not None


def _is_pprrvu_header(cells: list[str]) -> bool:
    first = [cell.strip().upper() for cell in cells[:3]]
    return first == ["HCPCS", "MOD", "DESCRIPTION"]


def pprrvu_release(preamble: Sequence[Sequence[str]], file_name: str) -> str:
    """The RVU release name, such as RVU25D, from the title row or file name.

    The title reads "2025 National Physician Fee Schedule Relative Value File
    October Release"; CMS letters the quarterly releases A (January) to D
    (October).
    """
    for cells in preamble:
        text = row_text(cells)
        if "relative value" not in text.lower():
            continue
        year = year_in(text)
        month = re.search(r"\b(January|April|July|October)\b", text, re.IGNORECASE)
        if year and month:
            return f"RVU{year % 100:02d}{_MONTH_LETTER[month.group(1)[:3].upper()]}"
    return _release_from_name(file_name)


def _release_from_name(file_name: str) -> str:
    """The release from names like PPRRVU25_JAN1.csv, PPRRVU2025_Oct.csv, RVU25D.zip."""
    found = re.search(r"PPRRVU(?:20)?(\d\d)_?(JAN|APR|JUL|OCT)", file_name, re.I)
    if found:
        return f"RVU{found.group(1)}{_MONTH_LETTER[found.group(2).upper()]}"
    found = re.search(r"RVU(\d\d)([A-D])(?![A-Z])", file_name, re.IGNORECASE)
    if found:
        return f"RVU{found.group(1)}{found.group(2).upper()}"
    return "unknown"


def pprrvu_released(preamble: Sequence[Sequence[str]]) -> date | None:
    """The date of the "RELEASED MM/DD/YYYY" row, or None when absent."""
    for cells in preamble:
        found = re.search(r"RELEASED\s+(\d\d?)/(\d\d?)/(\d{4})", row_text(cells), re.I)
        if not found:
            continue
        month, day, year = (int(part) for part in found.groups())
        try:
            return date(year, month, day)
        except ValueError:
            return None
    return None


def pprrvu_notice(preamble: Sequence[Sequence[str]]) -> str:
    """The copyright rows (AMA for CPT, ADA for dental codes), one per line."""
    lines = [row_text(cells) for cells in preamble]
    return "\n".join(line for line in lines if "copyright" in line.lower())


class PfsRvuReader:
    """The PPRRVU file: relative value units and payment indicators per code."""

    kind: ClassVar[str] = "pfs-rvu"
    table: ClassVar[str] = "pfs_rvu"
    schema: ClassVar[pa.Schema] = PPRRVU_SCHEMA

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.stats = ReadStats()

    def provenance(self) -> Provenance:
        with cms_csv(self.path, _is_pprrvu_member, WHAT) as rows:
            head = self._header(rows)
        return Provenance(
            kind=self.kind,
            file_name=self.path.name,
            sha256=sha256_of(self.path),
            publisher=PUBLISHER,
            release=pprrvu_release(head.preamble, self.path.name),
            as_of=pprrvu_released(head.preamble),
            notice=pprrvu_notice(head.preamble),
        )

    def batches(self) -> Iterator[pa.RecordBatch]:
        self.stats = ReadStats()
        width = len(PPRRVU_COLUMNS)
        with cms_csv(self.path, _is_pprrvu_member, WHAT) as rows:
            self._header(rows)
            records = valid_records(rows, self.stats, width, self._parse)
            yield from batched(self.schema, records)

    def _header(self, rows: Iterator[CsvRow]) -> Head:
        expected = "starting HCPCS,MOD,DESCRIPTION"
        head = find_header(self.path, rows, _is_pprrvu_header, expected, _PPRRVU_HINT)
        check_width(self.path, head, len(PPRRVU_COLUMNS), _PPRRVU_HINT)
        return head

    @staticmethod
    def _parse(line: int, cells: list[str]) -> dict[str, object]:
        return convert(cells, PPRRVU_COLUMNS)
