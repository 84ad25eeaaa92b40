"""The NCCI PTP edit reader on a file in CMS's layout, its ZIP, and broken copies."""

import hashlib
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from payerbrief.errors import MissingSourceError, SourceFileError
from payerbrief.sources.base import read_all
from payerbrief.sources.ncci import (
    IN_FORCE_SQL,
    NcciPtpReader,
    edits_in_force,
    in_force,
    ptp_release,
)
from payerbrief.store.warehouse import Warehouse

DATA = Path(__file__).parent / "data" / "ncci"
NAME = "ccipra-v313r0-f1.TXT"
CMS_ZIP = "medicare-ncci-2025q4-practitioner-ptp-edits-ccipra-v313r0-f1.zip"

HINT = (
    "pass a CMS NCCI PTP edit file (for example ccipra-v313r0-f1.txt) "
    "or the CMS ZIP that holds it"
)
LAYOUT = (
    "Column 1, Column 2, *=in existence prior to 1996, Effective Date, "
    "Deletion Date, Modifier, PTP Edit Rationale"
)
NOTICE = "CPT only copyright 2024 American Medical Association.  All rights reserved."
CPT = "CPT Manual or CMS manual coding instruction"
MISUSE = "Misuse of Column Two code with Column One code"


def read(reader: NcciPtpReader) -> list[dict[str, Any]]:
    return read_all(reader).to_pylist()


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def write(tmp_path: Path, name: str, lines: list[bytes]) -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(lines))
    return path


def with_line(lines: list[bytes], number: int, text: bytes) -> list[bytes]:
    """A copy of `lines` with line `number` (1-based) replaced by `text` + CRLF."""
    return lines[: number - 1] + [text + b"\r\n"] + lines[number:]


def cells_of(line: bytes) -> list[bytes]:
    return line.rstrip(b"\r\n").split(b"\t")


@pytest.fixture
def source_lines() -> list[bytes]:
    return lines_of(DATA / NAME)


@pytest.fixture(scope="module")
def edits() -> list[dict[str, Any]]:
    reader = NcciPtpReader(DATA / NAME)
    rows = read(reader)
    assert reader.stats.rows_read == len(rows)
    assert reader.stats.rejects == []
    return rows


def by_line(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {row["line"]: row for row in rows}


# The file as written in CMS's layout


def test_schema_has_the_layout_columns_then_setting_and_line() -> None:
    assert NcciPtpReader.schema.names == [
        "column1", "column2", "prior_1996", "effective_date", "deletion_date",
        "modifier_indicator", "rationale", "setting", "line",
    ]  # fmt: skip
    types = Counter(str(field.type) for field in NcciPtpReader.schema)
    assert types == {"string": 5, "date32[day]": 2, "bool": 1, "int64": 1}


def test_reads_every_edit_below_the_wrapped_header(edits: list[dict[str, Any]]) -> None:
    # Lines 1-2 notice and title, 3-6 the header wrapped over four rows,
    # 7-20 one edit each.
    assert len(edits) == 14
    assert [row["line"] for row in edits] == list(range(7, 21))
    assert Counter(row["modifier_indicator"] for row in edits) == {
        "1": 7,
        "0": 3,
        "9": 4,
    }
    assert {row["setting"] for row in edits} == {"practitioner"}
    assert sum(row["deletion_date"] is None for row in edits) == 3
    assert sum(row["prior_1996"] for row in edits) == 1


def test_edit_values(edits: list[dict[str, Any]]) -> None:
    rows = by_line(edits)
    assert rows[10] == {
        "column1": "0001A",
        "column2": "99213",
        "prior_1996": False,
        "effective_date": date(2022, 1, 1),
        "deletion_date": date(2023, 12, 31),
        "modifier_indicator": "1",
        "rationale": CPT,
        "setting": "practitioner",
        "line": 10,
    }
    assert rows[14]["deletion_date"] is None
    assert rows[14]["rationale"] == MISUSE
    assert rows[13]["rationale"] == "Standards of medical/surgical practice"


def test_the_same_pair_on_two_rows_is_kept_twice(edits: list[dict[str, Any]]) -> None:
    # 13121/13120: deleted retroactively (indicator 9), and in force since
    # before 1996 with indicator 0.
    pairs = [
        (r["line"], r["prior_1996"], r["deletion_date"], r["modifier_indicator"])
        for r in edits
        if (r["column1"], r["column2"]) == ("13121", "13120")
    ]
    assert pairs == [(17, False, date(1996, 1, 1), "9"), (18, True, None, "0")]


def test_provenance() -> None:
    path = DATA / NAME
    provenance = NcciPtpReader(path).provenance()
    assert provenance.kind == "ncci-ptp"
    assert provenance.file_name == NAME
    assert provenance.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert provenance.publisher == "Centers for Medicare & Medicaid Services"
    assert (provenance.release, provenance.as_of) == ("2025Q4 v31.3", date(2025, 10, 1))
    # The title row "Column1/Column2 Edits" is not part of the notice.
    assert provenance.notice == NOTICE


@pytest.mark.parametrize(
    ("names", "release", "as_of"),
    [
        (["ccipra-v313r0-f1.TXT"], "2025Q4 v31.3", date(2025, 10, 1)),
        (["ccioph-v322r0-f4.txt"], "2026Q3 v32.2", date(2026, 7, 1)),
        (["ccipra-v310r1-f2.txt"], "2025Q1 v31.0 r1", date(2025, 1, 1)),
        (["ccipra-v292r0-f1.txt"], "2023Q3 v29.2", date(2023, 7, 1)),
        ([CMS_ZIP, "ccipra-v313r0-f1.TXT"], "2025Q4 v31.3", date(2025, 10, 1)),
        (["medicare-ncci-2026q1-ptp.zip", "edits.txt"], "2026Q1", date(2026, 1, 1)),
        (["ccipra-v315r0-f1.txt"], "v31.5", None),
        (["ptp-edits.txt"], "unknown", None),
    ],
)
def test_release_from_the_file_names(
    names: list[str], release: str, as_of: date | None
) -> None:
    assert ptp_release(names) == (release, as_of)


def test_provenance_reads_only_the_head(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    path = write(tmp_path, NAME, with_line(source_lines, 12, b"\x81"))
    assert NcciPtpReader(path).provenance().release == "2025Q4 v31.3"
    with pytest.raises(SourceFileError):
        read_all(NcciPtpReader(path))


# The setting


def test_outpatient_hospital_file_by_its_name(tmp_path: Path) -> None:
    path = tmp_path / "ccioph-v313r0-f1.TXT"
    path.write_bytes((DATA / NAME).read_bytes())
    rows = read(NcciPtpReader(path))
    assert {row["setting"] for row in rows} == {"outpatient hospital"}
    assert NcciPtpReader(path).provenance().release == "2025Q4 v31.3"


def test_setting_given_for_a_renamed_file(tmp_path: Path) -> None:
    path = tmp_path / "edits.txt"
    path.write_bytes((DATA / NAME).read_bytes())
    reader = NcciPtpReader(path, setting="outpatient hospital")
    assert {row["setting"] for row in read(reader)} == {"outpatient hospital"}
    assert reader.provenance().release == "unknown"


def test_setting_named_by_a_notice_row(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    title = b"Outpatient Hospital Column1/Column2 Edits\t\t\t\t\t\t"
    path = write(tmp_path, "edits.txt", with_line(source_lines, 2, title))
    assert {row["setting"] for row in read(NcciPtpReader(path))} == {
        "outpatient hospital"
    }


@pytest.mark.parametrize("method", ["provenance", "batches"])
def test_setting_unknown(tmp_path: Path, method: str) -> None:
    path = tmp_path / "edits.txt"
    path.write_bytes((DATA / NAME).read_bytes())
    reader = NcciPtpReader(path)
    with pytest.raises(SourceFileError) as caught:
        reader.provenance() if method == "provenance" else read_all(reader)
    assert str(caught.value) == (
        f"{path}: neither the file name nor the notice rows say whether the edits "
        "are for practitioners or outpatient hospitals\n"
        "Hint: keep CMS's file name (ccipra-... for practitioners, ccioph-... for "
        "outpatient hospitals), or pass the setting"
    )


def test_setting_must_be_one_of_the_two() -> None:
    with pytest.raises(ValueError, match="setting must be one of"):
        NcciPtpReader(DATA / NAME, setting="hospital")


# Applying the edits by date of service


@pytest.mark.parametrize(
    ("as_of", "lines"),
    [
        # The release's first day: the three edits without a deletion date.
        (date(2025, 10, 1), [14, 16, 18]),
        # 0001U/0428U holds through its deletion date, 2024-12-31, only.
        (date(2024, 9, 30), [14, 16, 18]),
        (date(2024, 10, 1), [14, 15, 16, 18]),
        (date(2024, 12, 31), [14, 15, 16, 18]),
        (date(2025, 1, 1), [14, 16, 18]),
        # 0001A's edits start 2022-01-01 and end 2023-12-31; those deleted on
        # their effective date (lines 9 and 11) never apply.
        (date(2021, 12, 31), [14, 16, 18]),
        (date(2022, 1, 1), [7, 8, 10, 14, 16, 18]),
        (date(2023, 12, 31), [7, 8, 10, 14, 16, 18]),
        (date(2024, 1, 1), [14, 16, 18]),
        (date(2004, 12, 31), [13, 18, 20]),
        (date(2005, 1, 1), [18]),
        (date(2018, 6, 30), [12, 16, 18]),
        (date(1999, 7, 1), [18, 20]),
        (date(1996, 1, 1), [18]),
        (date(1995, 12, 31), []),
    ],
)
def test_edits_in_force(
    edits: list[dict[str, Any]], as_of: date, lines: list[int]
) -> None:
    assert [row["line"] for row in edits_in_force(edits, as_of)] == lines


@pytest.mark.parametrize(
    "as_of",
    [date(2025, 10, 1), date(2024, 12, 31), date(2022, 1, 1), date(1996, 1, 1)],
)
def test_in_force_sql_agrees_with_the_function(as_of: date) -> None:
    table = read_all(NcciPtpReader(DATA / NAME))
    connection = duckdb.connect()
    connection.register("ncci_ptp", table)
    found = connection.execute(
        f"SELECT line FROM ncci_ptp WHERE {IN_FORCE_SQL} ORDER BY line",
        {"as_of": as_of},
    ).fetchall()
    expected = edits_in_force(table.to_pylist(), as_of)
    assert [line for (line,) in found] == [row["line"] for row in expected]


@pytest.mark.parametrize(
    ("effective", "deletion", "as_of", "expected"),
    [
        (date(2020, 1, 1), None, date(2019, 12, 31), False),
        (date(2020, 1, 1), None, date(2020, 1, 1), True),
        (date(2020, 1, 1), date(2020, 3, 31), date(2020, 3, 31), True),
        (date(2020, 1, 1), date(2020, 3, 31), date(2020, 4, 1), False),
        (date(2020, 1, 1), date(2020, 1, 1), date(2020, 1, 1), False),
    ],
)
def test_in_force_boundaries(
    effective: date, deletion: date | None, as_of: date, expected: bool
) -> None:
    assert in_force(effective, deletion, as_of) is expected


# Other spellings of the same layout


def test_lf_line_ends_bom_and_trailing_blank_lines(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    lines = [line.replace(b"\r\n", b"\n") for line in source_lines]
    lines = [b"\xef\xbb\xbf" + lines[0], *lines[1:], b"\n", b"\t\t\t\t\t\t\n"]
    reader = NcciPtpReader(write(tmp_path, NAME, lines))
    rows = read(reader)
    assert rows == read(NcciPtpReader(DATA / NAME))
    assert reader.stats.rows_read == 14


def test_older_header_spacing_and_a_lower_case_code(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    # CMS's 2018 files spaced the labels ("* = no data", "0 = not allowed").
    spaced = b"\t\t\t\t* = no data\t1 = allowed\t"
    lines = with_line(
        with_line(source_lines, 5, spaced),
        11,
        b"0001a\tg0008" + source_lines[10][11:].rstrip(),
    )
    rows = by_line(read(NcciPtpReader(write(tmp_path, NAME, lines))))
    assert (rows[11]["column1"], rows[11]["column2"]) == ("0001A", "G0008")


# The CMS ZIP


@pytest.fixture(scope="module")
def ptp_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ZIP laid out like CMS's: the text file beside its Excel twin."""
    path = tmp_path_factory.mktemp("zip") / CMS_ZIP
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(DATA / NAME, NAME)
        archive.writestr("ccipra-v313r0-f1.xlsx", b"PK\x03\x04 not a workbook")
    return path


def test_reads_the_text_file_in_the_cms_zip(ptp_zip: Path) -> None:
    reader = NcciPtpReader(ptp_zip)
    assert read(reader) == read(NcciPtpReader(DATA / NAME))
    provenance = reader.provenance()
    assert provenance.file_name == CMS_ZIP
    assert provenance.sha256 == hashlib.sha256(ptp_zip.read_bytes()).hexdigest()
    assert (provenance.release, provenance.as_of) == ("2025Q4 v31.3", date(2025, 10, 1))
    assert provenance.notice == NOTICE


def test_a_renamed_zip_is_named_by_its_member(tmp_path: Path, ptp_zip: Path) -> None:
    path = tmp_path / "download.zip"
    path.write_bytes(ptp_zip.read_bytes())
    reader = NcciPtpReader(path)
    assert {row["setting"] for row in read(reader)} == {"practitioner"}
    assert reader.provenance().release == "2025Q4 v31.3"


def test_zip_without_the_text_file(tmp_path: Path) -> None:
    path = tmp_path / CMS_ZIP
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ccipra-v313r0-f1.xlsx", b"workbook")
    with pytest.raises(SourceFileError) as caught:
        NcciPtpReader(path).provenance()
    assert str(caught.value) == (
        f"{path}: the ZIP holds no file that could be the NCCI PTP edit text file "
        "(cci*.txt) (it holds ccipra-v313r0-f1.xlsx)\n"
        "Hint: pass the NCCI PTP edit text file (cci*.txt) itself, or a ZIP that "
        "holds exactly one"
    )


def test_zip_with_two_parts(tmp_path: Path) -> None:
    path = tmp_path / "ptp.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(DATA / NAME, NAME)
        archive.write(DATA / NAME, "ccipra-v313r0-f2.TXT")
    with pytest.raises(SourceFileError) as caught:
        read_all(NcciPtpReader(path))
    assert str(caught.value).startswith(
        f"{path}: the ZIP holds 2 files that could be the NCCI PTP edit text file "
        f"(cci*.txt) (it holds {NAME}, ccipra-v313r0-f2.TXT)\n"
    )


def test_zip_cut_in_half(tmp_path: Path, ptp_zip: Path) -> None:
    data = ptp_zip.read_bytes()
    path = tmp_path / CMS_ZIP
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceFileError) as caught:
        read_all(NcciPtpReader(path))
    assert str(caught.value) == (
        f"{path}: the ZIP archive is damaged (File is not a zip file)\n"
        "Hint: download the file again; it may be truncated"
    )


@pytest.mark.parametrize("method", ["provenance", "batches"])
def test_missing_file(tmp_path: Path, method: str) -> None:
    path = tmp_path / NAME
    reader = NcciPtpReader(path)
    with pytest.raises(MissingSourceError) as caught:
        reader.provenance() if method == "provenance" else read_all(reader)
    assert str(caught.value) == (
        f"{path}: file not found\n"
        "Hint: pass the path of the NCCI PTP edit text file (cci*.txt)"
    )


# Broken copies: the header


@pytest.mark.parametrize("damage", ["missing", "renamed"])
@pytest.mark.parametrize("method", ["provenance", "batches"])
def test_header_not_found(
    tmp_path: Path, source_lines: list[bytes], damage: str, method: str
) -> None:
    lines = source_lines[:2] + source_lines[6:]
    if damage == "renamed":
        renamed = source_lines[2].replace(b"Column 1", b"Code 1").rstrip()
        lines = with_line(source_lines, 3, renamed)
    path = write(tmp_path, NAME, lines)
    reader = NcciPtpReader(path)
    with pytest.raises(SourceFileError) as caught:
        reader.provenance() if method == "provenance" else read_all(reader)
    assert caught.value.line is None
    assert str(caught.value) == (
        f"{path}: no header row of the PTP edit layout ({LAYOUT}) in the first 30 "
        f"lines\nHint: {HINT}"
    )


def test_header_below_line_30_is_not_found(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    notes = [b"note\t\t\t\t\t\t\r\n"] * 28
    path = write(tmp_path, NAME, source_lines[:2] + notes + source_lines[2:])
    with pytest.raises(SourceFileError, match="in the first 30 lines"):
        NcciPtpReader(path).provenance()


def test_header_with_a_column_missing(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    # The layout before CMS added the rationale column: six columns.
    six = b"\t".join(cells_of(source_lines[2])[:-1])
    path = write(tmp_path, NAME, with_line(source_lines, 3, six))
    with pytest.raises(SourceFileError) as caught:
        NcciPtpReader(path).provenance()
    assert caught.value.line == 3
    assert str(caught.value) == (
        f"{path}, line 3: the header row has 6 columns, expected the 7 of the PTP "
        f"edit layout ({LAYOUT})\nHint: {HINT}"
    )


def test_header_with_a_column_renamed(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    renamed = source_lines[2].replace(b"Deletion", b"Removal").rstrip()
    path = write(tmp_path, NAME, with_line(source_lines, 3, renamed))
    with pytest.raises(SourceFileError) as caught:
        read_all(NcciPtpReader(path))
    assert str(caught.value) == (
        f"{path}, line 3: header column 5 reads 'Removal Date *=no data', expected "
        f"'Deletion Date' of the PTP edit layout ({LAYOUT})\nHint: {HINT}"
    )


def test_header_with_columns_swapped(tmp_path: Path, source_lines: list[bytes]) -> None:
    cells = cells_of(source_lines[2])
    cells[3], cells[4] = cells[4], cells[3]
    path = write(tmp_path, NAME, with_line(source_lines, 3, b"\t".join(cells)))
    with pytest.raises(SourceFileError) as caught:
        NcciPtpReader(path).provenance()
    assert str(caught.value).startswith(
        f"{path}, line 3: header column 4 reads 'Deletion Date', expected "
        "'Effective Date' of the PTP edit layout"
    )


# Broken copies: the rows


def test_truncated_mid_row_rejects_the_last_row(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    # The download stops inside line 15 (0001U 0428U 20241001 ...).
    cut = source_lines[14][:17]
    assert cut == b"0001U\t0428U\t\t2024"
    reader = NcciPtpReader(write(tmp_path, NAME, source_lines[:14] + [cut]))
    rows = read(reader)
    assert [row["line"] for row in rows] == list(range(7, 15))
    assert reader.stats.rows_read == 9
    assert [(r.line, r.reason, r.raw) for r in reader.stats.rejects] == [
        (15, "expected 7 columns, found 4", cut.decode())
    ]


@pytest.mark.parametrize(
    ("change", "found"),
    [("drop the rationale", 6), ("add a cell", 8), ("spaces for tabs", 1)],
)
def test_wrong_column_count_mid_file_rejects_that_row_only(
    tmp_path: Path, source_lines: list[bytes], change: str, found: int
) -> None:
    cells = cells_of(source_lines[9])
    if change == "drop the rationale":
        bad = b"\t".join(cells[:-1])
    elif change == "add a cell":
        bad = b"\t".join([*cells, b"extra"])
    else:
        bad = b" ".join(cells)
    reader = NcciPtpReader(write(tmp_path, NAME, with_line(source_lines, 10, bad)))
    rows = read(reader)
    assert len(rows) == 13
    assert 10 not in {row["line"] for row in rows}
    assert reader.stats.rows_read == 14
    assert [(r.line, r.reason, r.raw) for r in reader.stats.rejects] == [
        (10, f"expected 7 columns, found {found}", bad.decode())
    ]


def test_trailing_empty_cells_are_padding(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    padded = source_lines[9].rstrip() + b"\t\t"
    rows = read(
        NcciPtpReader(write(tmp_path, NAME, with_line(source_lines, 10, padded)))
    )
    assert len(rows) == 14


def test_bad_encoding_names_the_line(tmp_path: Path, source_lines: list[bytes]) -> None:
    # 0x81 is a byte no Windows-1252 text holds.
    broken = b"\x81" + source_lines[9][1:].rstrip(b"\r\n")
    path = write(tmp_path, NAME, with_line(source_lines, 10, broken))
    with pytest.raises(SourceFileError) as caught:
        read_all(NcciPtpReader(path))
    assert caught.value.line == 10
    assert str(caught.value) == (
        f"{path}, line 10: byte 1 of the line is not valid cp1252 (b'\\x81001')\n"
        "Hint: save the file as cp1252, as the publisher ships it"
    )


def test_deletion_before_effective_is_rejected(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    # Line 16 is 0001U 81161, effective 20180101, no deletion date.
    bad = b"0001U\t81161\t\t20200101\t20191231\t1\t" + MISUSE.encode()
    reader = NcciPtpReader(write(tmp_path, NAME, with_line(source_lines, 16, bad)))
    rows = read(reader)
    assert len(rows) == 13
    assert [(r.line, r.reason, r.raw) for r in reader.stats.rejects] == [
        (
            16,
            "deletion date 2019-12-31 is before the effective date 2020-01-01",
            bad.decode(),
        )
    ]


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        (5, b"2", "column Modifier: '2' is not a modifier indicator (0 not allowed, 1 allowed, 9 not applicable)"),
        (5, b"01", "column Modifier: '01' is not a modifier indicator (0 not allowed, 1 allowed, 9 not applicable)"),
        (5, b"", "column Modifier: '' is not a modifier indicator (0 not allowed, 1 allowed, 9 not applicable)"),
        (3, b"20221301", "column Effective Date: '20221301' is not a date written YYYYMMDD"),
        (3, b"2022011", "column Effective Date: '2022011' is not a date written YYYYMMDD"),
        (3, b"2022-01-01", "column Effective Date: '2022-01-01' is not a date written YYYYMMDD"),
        (3, b"", "column Effective Date: the cell is empty, expected a date written YYYYMMDD"),
        (3, b"*", "column Effective Date: '*' is not a date written YYYYMMDD"),
        (4, b"20230231", "column Deletion Date: '20230231' is not a date written YYYYMMDD"),
        (4, b"", "column Deletion Date: the cell is empty, expected a date written YYYYMMDD or * for none"),
        (0, b"9921", "column Column 1: '9921' is not a billing code of 5 letters and digits"),
        (0, b"", "column Column 1: the cell is empty, expected a billing code"),
        (1, b"99213-25", "column Column 2: '99213-25' is not a billing code of 5 letters and digits"),
        (2, b"Y", "column *=in existence prior to 1996: 'Y' is neither * nor empty"),
    ],
)  # fmt: skip
def test_bad_row_is_rejected_and_the_rest_loads(
    tmp_path: Path, source_lines: list[bytes], column: int, value: bytes, reason: str
) -> None:
    # Line 10 reads 0001A 99213 "" 20220101 20231231 1 CPT Manual or ...
    cells = cells_of(source_lines[9])
    cells[column] = value
    bad = b"\t".join(cells)
    reader = NcciPtpReader(write(tmp_path, NAME, with_line(source_lines, 10, bad)))
    rows = read(reader)
    assert len(rows) == 13
    assert 10 not in {row["line"] for row in rows}
    assert reader.stats.rows_read == 14
    assert [(r.line, r.reason, r.raw) for r in reader.stats.rejects] == [
        (10, reason, bad.decode())
    ]


def test_a_row_without_codes_after_the_header_is_rejected_not_read_as_header(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    bad = b"\t\t\t20220101\t20231231\t1\t" + CPT.encode()
    reader = NcciPtpReader(write(tmp_path, NAME, with_line(source_lines, 7, bad)))
    assert len(read(reader)) == 13
    assert [(r.line, r.reason) for r in reader.stats.rejects] == [
        (7, "column Column 1: the cell is empty, expected a billing code")
    ]


def test_arrow_batches_match_the_schema() -> None:
    batches = list(NcciPtpReader(DATA / NAME).batches())
    assert [batch.num_rows for batch in batches] == [14]
    assert all(isinstance(batch, pa.RecordBatch) for batch in batches)
    assert batches[0].schema == NcciPtpReader.schema


def test_warehouse_load_reconciles_and_applies_the_edits_in_sql(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    bad = b"0001U\t81161\t\t20200101\t20191231\t1\t" + MISUSE.encode()
    path = write(tmp_path, NAME, with_line(source_lines, 16, bad))
    with Warehouse(tmp_path / "home") as warehouse:
        entry = warehouse.load(NcciPtpReader(path)).entry
        assert (entry.kind, entry.release, entry.as_of) == (
            "ncci-ptp",
            "2025Q4 v31.3",
            date(2025, 10, 1),
        )
        assert (entry.rows_read, entry.rows_loaded, entry.rows_rejected) == (14, 13, 1)
        assert entry.notice == NOTICE
        found = warehouse.db.execute(
            f"SELECT column1, column2 FROM ncci_ptp WHERE {IN_FORCE_SQL} ORDER BY line",
            {"as_of": date(2025, 10, 1)},
        ).fetchall()
    assert found == [("0001U", "0030U"), ("13121", "13120")]
