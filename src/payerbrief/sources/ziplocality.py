"""Reader of the CMS ZIP code to carrier locality file (ZIP5, fixed width).

CMS publishes it with the fee schedules as a ZIP holding `ZIP5_<quarter>.txt`
and its record layout `ZIP5lyout.txt`. Each record is 80 characters (ZIP5
record layout, positions 1-based and inclusive):

    State 1-2, ZIP code 3-7, Carrier 8-12, Pricing locality 13-14,
    Rural indicator 15 (blank urban, R rural, B super rural),
    Bene lab CB locality 16-17, Rural indicator 2 18, filler 19-20,
    Plus four flag 21, Part B payment indicator 23, filler 24-75,
    Year/quarter 76-80 (YYYYQ).

The carrier and locality name the GPCI row of the ZIP (`gpci.mac`,
`gpci.locality_number`), which is how a provider's practice ZIP finds its
Medicare locality.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from payerbrief.errors import SourceFileError
from payerbrief.sources.base import (
    BatchBuilder,
    Provenance,
    ReadStats,
    open_member,
    require_file,
    sha256_of,
    text_lines,
)

WHAT = "the CMS ZIP code to carrier locality file (ZIP5_*.txt)"
PUBLISHER = "Centers for Medicare & Medicaid Services"
RECORD = re.compile(r"^[A-Z]{2}\d{5}\d{5}\d{2}[ RB]")
QUARTER_STARTS = {"1": 1, "2": 4, "3": 7, "4": 10}
HEAD_LINES = 20


def _is_zip5(name: str) -> bool:
    base = name.rsplit("/", 1)[-1].upper()
    return base.startswith("ZIP5") and base.endswith(".TXT") and "LYOUT" not in base


class ZipLocalityReader:
    """One row per ZIP code: its state, carrier (MAC) and pricing locality."""

    kind: ClassVar[str] = "zip-locality"
    table: ClassVar[str] = "zip_locality"
    schema: ClassVar[pa.Schema] = pa.schema(
        [
            ("zip5", pa.string()),
            ("state", pa.string()),
            ("mac", pa.string()),
            ("locality_number", pa.string()),
            ("rural", pa.string()),
            ("plus_four", pa.bool_()),
            ("year_quarter", pa.string()),
            ("line", pa.int64()),
        ]
    )

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.stats = ReadStats()

    def provenance(self) -> Provenance:
        require_file(self.path, WHAT)
        quarter = self._first_quarter()
        release = f"{quarter[:4]}Q{quarter[4]}" if quarter else "unknown"
        as_of = None
        if quarter and quarter[4] in QUARTER_STARTS:
            as_of = date(int(quarter[:4]), QUARTER_STARTS[quarter[4]], 1)
        return Provenance(
            kind=self.kind,
            file_name=self.path.name,
            sha256=sha256_of(self.path),
            publisher=PUBLISHER,
            release=release,
            as_of=as_of,
        )

    def _first_quarter(self) -> str:
        """The YYYYQ of the first record; the file has no header to say it."""
        with open_member(self.path, _is_zip5, WHAT) as raw:
            for number, text in text_lines(self.path, raw, "ascii"):
                if RECORD.match(text):
                    quarter = text[75:80].strip()
                    return quarter if re.fullmatch(r"\d{4}[1-4]", quarter) else ""
                if number >= HEAD_LINES:
                    break
        raise SourceFileError(
            self.path,
            f"no ZIP5 record in the first {HEAD_LINES} lines: expected 80-character "
            "records starting with a state, a ZIP code, a carrier and a locality",
            line=1,
            hint=f"pass {WHAT}",
        )

    def batches(self) -> Iterator[pa.RecordBatch]:
        self.stats = ReadStats()
        builder = BatchBuilder(self.schema)
        seen: dict[str, int] = {}
        with open_member(self.path, _is_zip5, WHAT) as raw:
            for number, text in text_lines(self.path, raw, "ascii"):
                if not text.strip():
                    continue
                self.stats.rows_read += 1
                row = self._row(number, text, seen)
                if row is not None and (batch := builder.add(row)) is not None:
                    yield batch
        if (batch := builder.flush()) is not None:
            yield batch

    def _row(
        self, number: int, text: str, seen: dict[str, int]
    ) -> dict[str, object] | None:
        reason = ""
        if len(text) < 21:
            reason = f"record is {len(text)} characters, expected 80"
        elif not RECORD.match(text):
            reason = f"record {text[:15]!r} does not start with state, ZIP, carrier and locality"
        elif text[2:7] in seen:
            reason = f"ZIP code {text[2:7]} repeats line {seen[text[2:7]]}"
        if reason:
            self.stats.reject(number, reason, text)
            return None
        seen[text[2:7]] = number
        return {
            "zip5": text[2:7],
            "state": text[0:2],
            "mac": text[7:12],
            "locality_number": text[12:14],
            "rural": text[14].strip() or None,
            "plus_four": text[20:21] == "1",
            "year_quarter": text[75:80].strip() or None,
            "line": number,
        }
