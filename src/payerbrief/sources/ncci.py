"""Reader of the Medicare NCCI procedure-to-procedure (PTP) edit files.

CMS publishes the edits every quarter in two sets, one for practitioners
(`ccipra`) and one for outpatient hospitals (`ccioph`), each split by code range
into parts f1 to f4. A part is a ZIP such as
medicare-ncci-2025q4-practitioner-ptp-edits-ccipra-v313r0-f1.zip holding the
table twice, as tab-delimited text (ccipra-v313r0-f1.TXT; CMS spells the
extension .TXT or .txt) and as Excel.
(CMS page "Medicare NCCI Procedure to Procedure (PTP) Edits",
https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits/medicare-ncci-procedure-procedure-ptp-edits)

The text file, as the public excerpt of ccipra-v322r0-f1.TXT (2026 Q3) in
github.com/reuven-ops/Biller (evals/fixtures/cms_ncci_ptp) shows it, opens with
the AMA copyright line and the title "Column1/Column2 Edits", then a header
wrapped over four rows, each row adding a line to some columns' labels:

    row 1: Column 1 | Column 2 | *=in existence | Effective | Deletion |
           Modifier | PTP Edit Rationale
    row 2: column 3 "prior to 1996", 4 "Date", 5 "Date", 6 "0=not allowed"
    row 3: column 5 "*=no data", 6 "1=allowed"
    row 4: column 6 "9=not applicable"

and then one edit per row: 0001U, 0030U, "" or "*", 20180701, "*" or a
YYYYMMDD date, 0/1/9, rationale. The same pair may appear on several rows
(one deleted retroactively beside one in force, say), so rows are not
deduplicated.

`edits_in_force` and `IN_FORCE_SQL` apply the edits on a date of service.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from itertools import chain
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pyarrow as pa

from payerbrief.errors import SourceFileError
from payerbrief.sources.base import (
    Provenance,
    ReadStats,
    open_member,
    sha256_of,
    text_lines,
)
from payerbrief.sources.pfs import (
    PUBLISHER,
    Column,
    CsvRow,
    Head,
    batched,
    convert,
    find_header,
    is_blank,
    row_text,
    text_or_none,
    valid_records,
)

# The PTP text is plain ASCII in the releases seen; it is read as Windows-1252,
# the encoding of CMS's other NCCI files (the MUE CSVs spell "CPT®" with 0xAE),
# so that such a character in a rationale never stops a load.
ENCODING = "cp1252"

PRACTITIONER = "practitioner"
OUTPATIENT_HOSPITAL = "outpatient hospital"
SETTINGS = (PRACTITIONER, OUTPATIENT_HOSPITAL)

WHAT = "the NCCI PTP edit text file (cci*.txt)"
HINT = (
    "pass a CMS NCCI PTP edit file (for example ccipra-v313r0-f1.txt) "
    "or the CMS ZIP that holds it"
)

# The column labels with their wrapped header rows joined.
LAYOUT = (
    "Column 1",
    "Column 2",
    "*=in existence prior to 1996",
    "Effective Date",
    "Deletion Date",
    "Modifier",
    "PTP Edit Rationale",
)
LAYOUT_TEXT = ", ".join(LAYOUT)

# What identifies each header column once its rows are joined, lowered and
# stripped of spaces: CMS's spacing varies ("* = no data" in 2018, "*=no data"
# in 2026), its words do not.
_HEADER_KEYS = (
    "column1",
    "column2",
    "1996",
    "effectivedate",
    "deletiondate",
    "modifier",
    "rationale",
)

_CODE = re.compile(r"[0-9A-Z]{5}")
_YYYYMMDD = re.compile(r"\d{8}")

# CMS names each part cci<setting>-v<version>r<revision>-f<part>: v313r0 is
# version 31.3, revision 0.
_VERSION = re.compile(r"cci(?:pra|oph)-v(\d+)(\d)r(\d+)", re.IGNORECASE)
# The download names also carry the quarter: medicare-ncci-2025q4-..., and
# the MUE tables' medicare-ncci-2026-q3-....
QUARTER = re.compile(r"(?<!\d)(20\d\d)-?q([1-4])(?!\d)", re.IGNORECASE)
# A version's major number is its year less 1994 and its minor number the
# quarter counted from 0: 31.0 took effect 2025-01-01 and 31.3 on 2025-10-01,
# as the download names medicare-ncci-2025q1-...-v310r0 and
# medicare-ncci-2025q4-...-v313r0 pair them, and 29.2 and 29.3 took effect on
# 2023-07-01 and 2023-10-01 (American Academy of Dermatology, "CMS releases
# 2023 third and fourth quarter NCCI edits", January 2024).
_VERSION_YEAR_BASE = 1994


def billing_code(text: str) -> str:
    """A CPT or HCPCS code as NCCI files write it: five letters and digits."""
    value = text.strip().upper()
    if not value:
        raise ValueError("the cell is empty, expected a billing code")
    if not _CODE.fullmatch(value):
        raise ValueError(f"{value!r} is not a billing code of 5 letters and digits")
    return value


def yyyymmdd(text: str) -> date:
    """A date written YYYYMMDD, as every NCCI PTP date is."""
    value = text.strip()
    if not value:
        raise ValueError("the cell is empty, expected a date written YYYYMMDD")
    problem = f"{value!r} is not a date written YYYYMMDD"
    if not _YYYYMMDD.fullmatch(value):
        raise ValueError(problem)
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise ValueError(problem) from None


def deletion_date(text: str) -> date | None:
    """The deletion date, or None where the layout writes `*` ("no data")."""
    value = text.strip()
    if value == "*":
        return None
    if not value:
        raise ValueError(
            "the cell is empty, expected a date written YYYYMMDD or * for none"
        )
    return yyyymmdd(value)


def prior_1996(text: str) -> bool:
    """True where the layout marks the edit `*`, in existence prior to 1996."""
    value = text.strip()
    if value not in ("", "*"):
        raise ValueError(f"{value!r} is neither * nor empty")
    return value == "*"


def modifier_indicator(text: str) -> str:
    """The modifier indicator: 0 not allowed, 1 allowed, 9 not applicable."""
    value = text.strip()
    if value not in ("0", "1", "9"):
        raise ValueError(
            f"{value!r} is not a modifier indicator (0 not allowed, 1 allowed, "
            "9 not applicable)"
        )
    return value


PTP_COLUMNS: tuple[Column, ...] = (
    ("column1", "Column 1", billing_code),
    ("column2", "Column 2", billing_code),
    ("prior_1996", "*=in existence prior to 1996", prior_1996),
    ("effective_date", "Effective Date", yyyymmdd),
    ("deletion_date", "Deletion Date", deletion_date),
    ("modifier_indicator", "Modifier", modifier_indicator),
    ("rationale", "PTP Edit Rationale", text_or_none),
)

PTP_SCHEMA = pa.schema(
    [
        ("column1", pa.string()),
        ("column2", pa.string()),
        ("prior_1996", pa.bool_()),
        ("effective_date", pa.date32()),
        ("deletion_date", pa.date32()),
        ("modifier_indicator", pa.string()),
        ("rationale", pa.string()),
        ("setting", pa.string()),
        ("line", pa.int64()),
    ]
)


# Applying the edits by date of service.
#
# CMS writes a deletion date as the last day the edit applies: an edit that
# leaves the files with the January version reads 20231231, and every other
# deletion date in the files is likewise the last day of a quarter. An edit
# whose deletion date equals its effective date was deleted retroactively and
# never applied; CMS gives such edits modifier indicator 9 ("used for all code
# pairs that have a deletion date that is the same as the effective date").
# So an edit is in force on day D when effective <= D, and either it has no
# deletion date or D <= deletion date and the deletion date is later than the
# effective date.

IN_FORCE_SQL = (
    "effective_date <= $as_of AND (deletion_date IS NULL OR "
    "(deletion_date > effective_date AND deletion_date >= $as_of))"
)
"""The rule of `in_force` as a DuckDB condition with the parameter `$as_of`."""


def in_force(effective: date, deletion: date | None, as_of: date) -> bool:
    """Whether an edit with these dates applies to services on `as_of`."""
    if as_of < effective:
        return False
    if deletion is None:
        return True
    return effective < deletion and as_of <= deletion


Edit = TypeVar("Edit", bound=Mapping[str, Any])


def edits_in_force(rows: Iterable[Edit], as_of: date) -> list[Edit]:
    """The edits among `rows` (records of the `ncci_ptp` table) in force on `as_of`."""
    return [
        row
        for row in rows
        if in_force(row["effective_date"], row["deletion_date"], as_of)
    ]


# Reading the text file.


def is_ptp_member(name: str) -> bool:
    """A PTP text file in a CMS ZIP: ccipra-v313r0-f1.TXT, ccioph-v322r0-f4.txt."""
    base = Path(name).name.lower()
    return base.startswith("cci") and base.endswith(".txt")


def member_name(raw: object, path: Path) -> str:
    """The base name of the opened ZIP member, or of `path` when it is no ZIP.

    A ZIP member's file object names the member; a plain file's names its path.
    """
    return Path(str(getattr(raw, "name", path.name))).name


@contextmanager
def tab_rows(path: Path) -> Iterator[tuple[str, Iterator[CsvRow]]]:
    """The name of the PTP text at `path` (or in the ZIP there) and its rows.

    The rows are split at tabs; the layout quotes nothing.
    """
    with open_member(path, is_ptp_member, WHAT) as raw:
        lines = text_lines(path, raw, ENCODING)
        rows = (CsvRow(line, text.split("\t"), text) for line, text in lines)
        yield member_name(raw, path), rows


def _normal(label: str) -> str:
    return "".join(label.split()).lower()


def _is_header(cells: list[str]) -> bool:
    return [_normal(cell) for cell in cells[:2]] == ["column1", "column2"]


def _continues_header(cells: list[str]) -> bool:
    """True for a wrapped header row: no codes, some label text, no date."""
    if any(cell.strip() for cell in cells[:2]) or is_blank(cells):
        return False
    return not any(_YYYYMMDD.fullmatch(cell.strip()) for cell in cells)


def _stack(labels: list[str], cells: list[str]) -> list[str]:
    """Add the cells of a wrapped header row to the labels above them."""
    width = max(len(labels), len(cells))
    labels = labels + [""] * (width - len(labels))
    for index, cell in enumerate(cells):
        if cell.strip():
            labels[index] = f"{labels[index]} {cell.strip()}".strip()
    return labels


def read_header(path: Path, rows: Iterator[CsvRow]) -> tuple[Head, Iterator[CsvRow]]:
    """Read the notice rows and the wrapped header; return the rows after it.

    The header's cells come back with each column's wrapped label joined
    ("Deletion Date *=no data"), and the header is checked against the layout.
    """
    expected = f"of the PTP edit layout ({LAYOUT_TEXT})"
    head = find_header(path, rows, _is_header, expected, HINT)
    labels = [cell.strip() for cell in head.cells]
    rest: Iterator[CsvRow] = iter(())
    for row in rows:
        if not _continues_header(row.cells):
            rest = chain([row], rows)
            break
        labels = _stack(labels, row.cells)
    while labels and not labels[-1]:
        labels.pop()
    head = Head(head.line, labels, head.preamble)
    _check_layout(path, head)
    return head, rest


def _check_layout(path: Path, head: Head) -> None:
    if len(head.cells) != len(LAYOUT):
        raise SourceFileError(
            path,
            f"the header row has {len(head.cells)} columns, expected the "
            f"{len(LAYOUT)} of the PTP edit layout ({LAYOUT_TEXT})",
            line=head.line,
            hint=HINT,
        )
    for number, (label, key) in enumerate(
        zip(head.cells, _HEADER_KEYS, strict=True), start=1
    ):
        if key not in _normal(label):
            raise SourceFileError(
                path,
                f"header column {number} reads {label!r}, expected "
                f"{LAYOUT[number - 1]!r} of the PTP edit layout ({LAYOUT_TEXT})",
                line=head.line,
                hint=HINT,
            )


# Naming the release and the setting.


def quarter_start(year: int, quarter: int) -> date:
    return date(year, 3 * quarter - 2, 1)


def ptp_release(names: Sequence[str]) -> tuple[str, date | None]:
    """The release ("2025Q4 v31.3") and its first day, from the file names.

    The quarter comes from a name that spells it (medicare-ncci-2025q4-...),
    else from the version (v313 is 31.3, the fourth quarter of 1994 + 31).
    A revision other than r0 is added ("2025Q1 v31.0 r1").
    """
    version = next((m for m in map(_VERSION.search, names) if m), None)
    spelled = next((m for m in map(QUARTER.search, names) if m), None)
    year_quarter: tuple[int, int] | None = None
    if spelled:
        year_quarter = int(spelled.group(1)), int(spelled.group(2))
    elif version and int(version.group(2)) <= 3:
        year_quarter = (
            _VERSION_YEAR_BASE + int(version.group(1)),
            int(version.group(2)) + 1,
        )
    parts = [f"{year_quarter[0]}Q{year_quarter[1]}"] if year_quarter else []
    if version:
        major, minor, revision = version.groups()
        parts.append(f"v{int(major)}.{minor}")
        if int(revision):
            parts.append(f"r{int(revision)}")
    as_of = quarter_start(*year_quarter) if year_quarter else None
    return " ".join(parts) or "unknown", as_of


# What names a setting, strongest first: CMS's file prefixes, then the words
# of its download names (...-practitioner-ptp-edits-..., ...-hospital-ptp-...).
_SETTING_MARKS = (
    ("ccipra", PRACTITIONER),
    ("ccioph", OUTPATIENT_HOSPITAL),
    ("practitioner", PRACTITIONER),
    ("hospital", OUTPATIENT_HOSPITAL),
)


def ptp_setting(names: Sequence[str], preamble: Sequence[Sequence[str]]) -> str | None:
    """The setting the file names or the notice rows name, or None."""
    texts = [text.lower() for text in (*names, *map(row_text, preamble))]
    for mark, setting in _SETTING_MARKS:
        if any(mark in text for text in texts):
            return setting
    return None


def ptp_notice(preamble: Sequence[Sequence[str]]) -> str:
    """The copyright rows above the header (the AMA's, for CPT)."""
    lines = [row_text(cells) for cells in preamble]
    return "\n".join(line for line in lines if "copyright" in line.lower())


def deleted_before_effective(record: Mapping[str, object]) -> str | None:
    """The reason to reject an edit whose deletion date precedes its effective date."""
    effective, deletion = record["effective_date"], record["deletion_date"]
    if not isinstance(deletion, date) or not isinstance(effective, date):
        return None
    if deletion >= effective:
        return None
    return (
        f"deletion date {deletion.isoformat()} is before the effective date "
        f"{effective.isoformat()}"
    )


class NcciPtpReader:
    """One part of the NCCI PTP edits: one row per column 1 / column 2 edit.

    The setting (practitioner or outpatient hospital) comes from the file name;
    pass `setting` for a file renamed beyond recognition.
    """

    kind: ClassVar[str] = "ncci-ptp"
    table: ClassVar[str] = "ncci_ptp"
    schema: ClassVar[pa.Schema] = PTP_SCHEMA

    def __init__(self, path: Path, setting: str | None = None) -> None:
        if setting is not None and setting not in SETTINGS:
            raise ValueError(f"setting must be one of {SETTINGS}, not {setting!r}")
        self.path = Path(path)
        self.setting = setting
        self.stats = ReadStats()

    def provenance(self) -> Provenance:
        with tab_rows(self.path) as (member, rows):
            head, _ = read_header(self.path, rows)
        names = [self.path.name, member]
        self._setting(names, head)
        release, as_of = ptp_release(names)
        return Provenance(
            kind=self.kind,
            file_name=self.path.name,
            sha256=sha256_of(self.path),
            publisher=PUBLISHER,
            release=release,
            as_of=as_of,
            notice=ptp_notice(head.preamble),
        )

    def batches(self) -> Iterator[pa.RecordBatch]:
        self.stats = ReadStats()
        with tab_rows(self.path) as (member, rows):
            head, data = read_header(self.path, rows)
            setting = self._setting([self.path.name, member], head)

            def parse(line: int, cells: list[str]) -> dict[str, object]:
                record = convert(cells, PTP_COLUMNS)
                reason = deleted_before_effective(record)
                if reason:
                    raise ValueError(reason)
                record["setting"] = setting
                return record

            records = valid_records(data, self.stats, len(PTP_COLUMNS), parse)
            yield from batched(self.schema, records)

    def _setting(self, names: Sequence[str], head: Head) -> str:
        setting = self.setting or ptp_setting(names, head.preamble)
        if setting is None:
            raise SourceFileError(
                self.path,
                "neither the file name nor the notice rows say whether the edits "
                "are for practitioners or outpatient hospitals",
                hint="keep CMS's file name (ccipra-... for practitioners, "
                "ccioph-... for outpatient hospitals), or pass the setting",
            )
        return setting
