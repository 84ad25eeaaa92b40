"""Reader of the counties in each Medicare payment locality (the LOCCO file).

CMS ships it in every RVU release as <yy>LOCCO<n>.csv: a title row, the header
row (CMS spells it "Medicare Adminstrative Contractor"), then the localities
of each state in a group. The state is written on the first row of its group
only, and a blank row closes the group. A footnote row ends the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

import pyarrow as pa

from payerbrief.sources.base import ReadStats
from payerbrief.sources.gpci import (
    CalendarCsvReader,
    is_footnote,
    locality_number,
    mac_number,
    unmarked_name,
)
from payerbrief.sources.pfs import (
    Column,
    batched,
    convert,
    is_blank,
    required_text,
    text_or_none,
    valid_records,
)

LOCALITY_SCHEMA = pa.schema(
    [
        ("mac", pa.string()),
        ("locality_number", pa.string()),
        ("state", pa.string()),
        ("fee_schedule_area", pa.string()),
        ("counties", pa.string()),
        ("county_names", pa.list_(pa.string())),
        ("line", pa.int64()),
    ]
)


def _single_spaced(text: str) -> str:
    return " ".join(required_text(text).split())


LOCALITY_COLUMNS: tuple[Column, ...] = (
    ("mac", "Medicare Administrative Contractor", mac_number),
    ("locality_number", "Locality Number", locality_number),
    ("state", "State", text_or_none),
    ("fee_schedule_area", "Fee Schedule Area", unmarked_name),
    ("counties", "Counties", _single_spaced),
)

WHAT = "the locality-county CSV (25LOCCO*.csv)"
_HINT = (
    "pass the locality-county CSV of a CMS RVU release (for example "
    "25LOCCO1.csv) or the RVU ZIP that holds it"
)

# The Counties column either names counties ("DADE AND MONROE", "SUTTER,
# YUBA", "SAN FRANCISCO/ALAMEDA") or covers the rest of the state ("ALL
# COUNTIES", "ALL OTHER COUNTIES EXCEPT MONTGOMERY AND PRINCE GEORGE'S").
_CATCH_ALL = ("ALL ", "REST OF STATE")
_SEPARATOR = re.compile(r"\s*(?:[,;/]|\bAND\b)\s*", re.IGNORECASE)
# The DC locality names counties of Virginia and Maryland: "... FALLS CHURCH
# CITY IN VIRGINIA; MONTGOMERY AND PRINCE GEORGE'S IN MARYLAND".
_OTHER_STATE = re.compile(r"\s+IN\s+[A-Z][A-Z .]*$", re.IGNORECASE)
# 25LOCCO1 writes Orange County as "ORAGNGE CNTY" in locality 18.
_MISSPELT = {"ORAGNGE": "ORANGE"}


def county_names(counties: str) -> list[str]:
    """The county names a Counties cell lists; a catch-all stays one entry."""
    text = " ".join(counties.split())
    if text.upper().startswith(_CATCH_ALL):
        return [text]
    names = []
    for part in text.split(";"):
        for name in _SEPARATOR.split(_OTHER_STATE.sub("", part.strip())):
            name = re.sub(r"\s+CNTY$", "", name, flags=re.IGNORECASE)
            if name:
                names.append(_MISSPELT.get(name, name))
    return names


def _is_locco_member(name: str) -> bool:
    found = re.fullmatch(r"(?:.*/)?\d*LOCCO[^/]*\.csv", name, re.IGNORECASE)
    return found is not None


def _is_locco_header(cells: list[str]) -> bool:
    first = cells[0].strip().lower() if cells else ""
    # Matches CMS's spelling "Adminstrative" as well as the correct one.
    return re.match(r"medicare\s+admini?strative\s+contractor", first) is not None


class _Groups:
    """What parsing one read carries from row to row.

    The state named on the first row of a group applies to the rows below it
    until a blank row; a row repeating an earlier one (25LOCCO1 lists Missouri
    locality 99 twice) is rejected so that each county maps to one locality.
    """

    def __init__(self) -> None:
        self.state: str | None = None
        self.seen: dict[tuple[object, ...], int] = {}

    def skip(self, cells: list[str]) -> bool:
        """True for rows that are not data; notes the state a data row names.

        The state is noted here, before the row is validated, so that one
        broken row does not cost the rest of its group their state.
        """
        if is_blank(cells):
            self.state = None
            return True
        if is_footnote(cells):
            return True
        if len(cells) > 2 and cells[2].strip():
            self.state = cells[2].strip()
        return False

    def parse(self, line: int, cells: list[str]) -> dict[str, object]:
        if self.state is None:
            raise ValueError(
                "column State: the cell is empty and no row above names it"
            )
        record = convert(cells, LOCALITY_COLUMNS)
        record["state"] = self.state
        record["county_names"] = county_names(str(record["counties"]))

        key = tuple(record[name] for name, _, _ in LOCALITY_COLUMNS)
        first = self.seen.setdefault(key, line)
        if first != line:
            raise ValueError(f"the row repeats line {first}")
        return record


class LocalityCountyReader(CalendarCsvReader):
    """The LOCCO file: which counties of which state make up each locality."""

    kind: ClassVar[str] = "locality-county"
    table: ClassVar[str] = "locality_county"
    schema: ClassVar[pa.Schema] = LOCALITY_SCHEMA
    what = WHAT
    hint = _HINT
    column_count = len(LOCALITY_COLUMNS)
    _is_member = staticmethod(_is_locco_member)
    _is_header = staticmethod(_is_locco_header)

    def batches(self) -> Iterator[pa.RecordBatch]:
        self.stats = ReadStats()
        groups = _Groups()
        width = len(LOCALITY_COLUMNS)
        with self._rows() as rows:
            self._header(rows)
            records = valid_records(
                rows, self.stats, width, groups.parse, skip=groups.skip
            )
            yield from batched(self.schema, records)
