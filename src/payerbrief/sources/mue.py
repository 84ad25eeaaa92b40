"""Reader of the Medicare NCCI Medically Unlikely Edit (MUE) tables.

CMS publishes three tables every quarter: practitioner services, outpatient
hospital services and DME supplier services, each a ZIP (for example
medicare-ncci-2026-q3-practitioner-services-mue-table.zip) holding the table
as CSV and as Excel, named for its effective date:
MCR_MUE_PractitionerServices_Eff_07-01-2026.csv,
MCR_MUE_OutpatientHospitalServices_Eff_..., MCR_MUE_DMESupplierServices_Eff_....
(CMS page "Medicare NCCI Medically Unlikely Edits",
https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits/medicare-ncci-medically-unlikely-edits)

The CSV, as the public excerpt of the July 2026 practitioner table in
github.com/reuven-ops/Biller (evals/fixtures/cms_ncci_mue) shows it, is
Latin-1 text ("CPT®" is byte 0xAE). Its first record is the AMA notice, one
quoted cell spanning seven lines followed by three empty cells; the header
follows, its first cell broken over two lines:

    "HCPCS/
    CPT Code",Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale

and then one row per code: 0001U,1,2 Date of Service Edit: Policy,Code
Descriptor / CPT Instruction. The adjudication indicator cell holds the
indicator and its wording: 1 Line Edit, 2 Date of Service Edit: Policy,
3 Date of Service Edit: Clinical. The second column names the table's service
type ("Outpatient Hospital Services MUE Values", "DME Supplier Services MUE
Values").
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from payerbrief.errors import SourceFileError
from payerbrief.sources.base import (
    Provenance,
    ReadStats,
    csv_rows,
    open_member,
    sha256_of,
    text_lines,
)
from payerbrief.sources.ncci import (
    QUARTER,
    billing_code,
    member_name,
    quarter_start,
)
from payerbrief.sources.pfs import (
    PUBLISHER,
    Column,
    CsvRow,
    Head,
    batched,
    convert,
    find_header,
    fit,
    text_or_none,
    valid_records,
)

# Windows-1252 reads the Latin-1 the tables are written in (0xAE is ® in both)
# and, unlike Latin-1, still refuses the bytes no Windows text holds, so a
# file in some other encoding fails with its line number.
ENCODING = "cp1252"

PRACTITIONER = "practitioner"
OUTPATIENT_HOSPITAL = "outpatient hospital"
DME = "dme"
SERVICE_TYPES = (PRACTITIONER, OUTPATIENT_HOSPITAL, DME)

# The second header column of each table, which names its service type.
VALUE_LABELS = {
    PRACTITIONER: "Practitioner Services MUE Values",
    OUTPATIENT_HOSPITAL: "Outpatient Hospital Services MUE Values",
    DME: "DME Supplier Services MUE Values",
}

WHAT = "the MUE table CSV (MCR_MUE_*.csv)"
HINT = (
    "pass a CMS MUE table CSV (for example "
    "MCR_MUE_PractitionerServices_Eff_10-01-2025.csv) or the CMS ZIP that holds it"
)
LAYOUT = (
    "HCPCS/CPT Code",
    "<service type> Services MUE Values",
    "MUE Adjudication Indicator",
    "MUE Rationale",
)
LAYOUT_TEXT = ", ".join(LAYOUT)
WIDTH = len(LAYOUT)

# The date in CMS's file name, MM-DD-YYYY: ..._Eff_10-01-2025.csv.
_EFFECTIVE = re.compile(r"Eff_(\d\d)-(\d\d)-(\d{4})", re.IGNORECASE)
_UNITS = re.compile(r"\d+")
_INDICATOR = re.compile(r"([0-9])(?:\s+(.*))?", re.DOTALL)


def mue_value(text: str) -> int:
    """The most units of service a table allows: a whole number, 0 included."""
    value = text.strip()
    if not value:
        raise ValueError("the cell is empty, expected a whole number of units")
    if not _UNITS.fullmatch(value):
        raise ValueError(f"{value!r} is not a whole number of units")
    return int(value)


def adjudication_indicator(text: str) -> str:
    """The MUE adjudication indicator, the digit that opens the cell: 1, 2 or 3."""
    value = text.strip()
    if not value:
        raise ValueError("the cell is empty, expected adjudication indicator 1, 2 or 3")
    found = _INDICATOR.fullmatch(value)
    if not found or found.group(1) not in ("1", "2", "3"):
        raise ValueError(
            f"{value!r} does not start with adjudication indicator 1, 2 or 3"
        )
    return found.group(1)


def adjudication_text(text: str) -> str | None:
    """The wording after the indicator ("Date of Service Edit: Policy"), if any."""
    found = _INDICATOR.fullmatch(text.strip())
    return text_or_none(found.group(2) or "") if found else None


def mue_columns(service_type: str) -> tuple[Column, ...]:
    """The layout's columns, labelled as the table of `service_type` labels them."""
    return (
        ("code", "HCPCS/CPT Code", billing_code),
        ("mue_value", VALUE_LABELS[service_type], mue_value),
        (
            "adjudication_indicator",
            "MUE Adjudication Indicator",
            adjudication_indicator,
        ),
        ("rationale", "MUE Rationale", text_or_none),
    )


MUE_SCHEMA = pa.schema(
    [
        ("code", pa.string()),
        ("mue_value", pa.int64()),
        ("adjudication_indicator", pa.string()),
        ("adjudication_text", pa.string()),
        ("rationale", pa.string()),
        ("service_type", pa.string()),
        ("line", pa.int64()),
    ]
)


# Reading the CSV.


def is_mue_member(name: str) -> bool:
    """The table's CSV in a CMS ZIP, beside its Excel twin."""
    base = Path(name).name.lower()
    return base.startswith("mcr_mue_") and base.endswith(".csv")


@contextmanager
def mue_csv(path: Path) -> Iterator[tuple[str, Iterator[CsvRow]]]:
    """The name of the MUE CSV at `path` (or in the ZIP there) and its records."""
    with open_member(path, is_mue_member, WHAT) as raw:
        lines = text_lines(path, raw, ENCODING)
        yield member_name(raw, path), _records(path, lines)


def _records(path: Path, lines: Iterator[tuple[int, str]]) -> Iterator[CsvRow]:
    """CSV records with the text they were read from, for rejected-row reports."""
    taken: list[str] = []
    first = 0

    def tap() -> Iterator[tuple[int, str]]:
        nonlocal first
        for number, text in lines:
            first = first or number
            taken.append(text)
            yield number, text

    # A carriage return inside an unquoted cell is the one thing `csv` refuses.
    try:
        for line, cells in csv_rows(tap()):
            yield CsvRow(line, cells, "\n".join(taken))
            taken.clear()
            first = 0
    except csv.Error as exc:
        raise SourceFileError(
            path,
            f"the record cannot be read as CSV ({exc})",
            line=first or None,
            hint="pass the file as CMS publishes it; download it again if it "
            "may be damaged",
        ) from exc


def _closed(rows: Iterator[CsvRow], stats: ReadStats) -> Iterator[CsvRow]:
    """Pass on the records, rejecting one the file ends inside a quoted cell of.

    `csv_rows` reads on while a quote is open, so an odd count of quotes can
    only mean the file ended inside the record.
    """
    for row in rows:
        if row.text.count('"') % 2:
            stats.rows_read += 1
            stats.reject(
                row.line,
                "the file ends inside a quoted cell of this record; "
                "it may be truncated",
                row.text,
            )
            continue
        yield row


def _normal(label: str) -> str:
    return "".join(label.split()).lower()


def _is_header(cells: list[str]) -> bool:
    return bool(cells) and _normal(cells[0]) == "hcpcs/cptcode"


def read_header(path: Path, rows: Iterator[CsvRow]) -> Head:
    """Read the notice record and the header, and check the header's columns."""
    expected = f"of the MUE layout ({LAYOUT_TEXT})"
    head = find_header(path, rows, _is_header, expected, HINT)
    labels = [" ".join(cell.split()) for cell in fit(head.cells, WIDTH)]
    if len(labels) != WIDTH:
        raise SourceFileError(
            path,
            f"the header row has {len(labels)} columns, expected the {WIDTH} of "
            f"the MUE layout ({LAYOUT_TEXT})",
            line=head.line,
            hint=HINT,
        )
    checks = (
        _normal(labels[1]).endswith("muevalues"),
        _normal(labels[2]) == "mueadjudicationindicator",
        _normal(labels[3]) == "muerationale",
    )
    for number, ok in enumerate(checks, start=2):
        if not ok:
            raise SourceFileError(
                path,
                f"header column {number} reads {labels[number - 1]!r}, expected "
                f"{LAYOUT[number - 1]!r} of the MUE layout ({LAYOUT_TEXT})",
                line=head.line,
                hint=HINT,
            )
    return Head(head.line, labels, head.preamble)


# Naming the release and the service type.


def mue_release(names: Sequence[str]) -> tuple[str, date | None]:
    """The release and its effective date, from the file names.

    The date in the CSV's name (Eff_10-01-2025) gives both: "2025Q4" when it
    is a quarter's first day, as CMS's quarterly tables are, else the date
    itself. A ZIP named for its quarter (medicare-ncci-2026-q3-...) gives the
    quarter and its first day.
    """
    for found in filter(None, map(_EFFECTIVE.search, names)):
        month, day, year = (int(part) for part in found.groups())
        try:
            effective = date(year, month, day)
        except ValueError:
            continue
        if day == 1 and month % 3 == 1:
            return f"{year}Q{(month + 2) // 3}", effective
        return effective.isoformat(), effective
    for found in filter(None, map(QUARTER.search, names)):
        year, quarter = int(found.group(1)), int(found.group(2))
        return f"{year}Q{quarter}", quarter_start(year, quarter)
    return "unknown", None


# What names a service type in a header label or a file name: the words of
# CMS's labels and names (PractitionerServices, OutpatientHospitalServices,
# DMESupplierServices, ...-practitioner-services-mue-table.zip).
_SERVICE_MARKS = (
    (re.compile(r"practitioner"), PRACTITIONER),
    (re.compile(r"hospital"), OUTPATIENT_HOSPITAL),
    (re.compile(r"(?<![a-z])dme"), DME),
)


def _service_type_in(text: str) -> str | None:
    lowered = text.lower()
    return next((kind for mark, kind in _SERVICE_MARKS if mark.search(lowered)), None)


def mue_service_type(value_label: str, names: Sequence[str]) -> str | None:
    """The service type the header's value column names, else a file name names."""
    return next(filter(None, map(_service_type_in, [value_label, *names])), None)


def mue_notice(preamble: Sequence[Sequence[str]]) -> str:
    """The notice record above the header, one non-empty line per line."""
    lines = (
        line.strip() for cells in preamble for c in cells for line in c.split("\n")
    )
    return "\n".join(line for line in lines if line)


class MueReader:
    """One MUE table: the most units of service per code, day or line.

    The service type comes from the header (or the file name); pass
    `service_type` to set it for a table re-exported without either.
    """

    kind: ClassVar[str] = "mue"
    table: ClassVar[str] = "mue"
    schema: ClassVar[pa.Schema] = MUE_SCHEMA

    def __init__(self, path: Path, service_type: str | None = None) -> None:
        if service_type is not None and service_type not in SERVICE_TYPES:
            raise ValueError(
                f"service_type must be one of {SERVICE_TYPES}, not {service_type!r}"
            )
        self.path = Path(path)
        self.service_type = service_type
        self.stats = ReadStats()

    def provenance(self) -> Provenance:
        with mue_csv(self.path) as (member, rows):
            head = read_header(self.path, rows)
        names = [self.path.name, member]
        self._service_type(head, names)
        release, as_of = mue_release(names)
        return Provenance(
            kind=self.kind,
            file_name=self.path.name,
            sha256=sha256_of(self.path),
            publisher=PUBLISHER,
            release=release,
            as_of=as_of,
            notice=mue_notice(head.preamble),
        )

    def batches(self) -> Iterator[pa.RecordBatch]:
        self.stats = ReadStats()
        with mue_csv(self.path) as (member, rows):
            head = read_header(self.path, rows)
            service_type = self._service_type(head, [self.path.name, member])
            columns = mue_columns(service_type)

            def parse(line: int, cells: list[str]) -> dict[str, object]:
                record = convert(cells, columns)
                record["adjudication_text"] = adjudication_text(cells[2])
                record["service_type"] = service_type
                return record

            records = valid_records(_closed(rows, self.stats), self.stats, WIDTH, parse)
            yield from batched(self.schema, records)

    def _service_type(self, head: Head, names: Sequence[str]) -> str:
        service_type = self.service_type or mue_service_type(head.cells[1], names)
        if service_type is None:
            raise SourceFileError(
                self.path,
                f"neither the header ({head.cells[1]!r}) nor the file name says "
                "whether the table is for practitioner, outpatient hospital or DME "
                "supplier services",
                line=head.line,
                hint="keep CMS's header and file name "
                "(MCR_MUE_PractitionerServices_Eff_MM-DD-YYYY.csv), or pass the "
                "service type",
            )
        return service_type
