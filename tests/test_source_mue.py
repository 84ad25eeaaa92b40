"""The MUE table reader on a file in CMS's layout, its ZIP, and broken copies."""

import hashlib
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from payerbrief.errors import MissingSourceError, SourceFileError
from payerbrief.sources.base import read_all
from payerbrief.sources.mue import MueReader, mue_release
from payerbrief.store.warehouse import Warehouse

DATA = Path(__file__).parent / "data" / "mue"
NAME = "MCR_MUE_PractitionerServices_Eff_10-01-2025.csv"
CMS_ZIP = "medicare-ncci-2025-q4-practitioner-services-mue-table.zip"

HINT = (
    "pass a CMS MUE table CSV (for example "
    "MCR_MUE_PractitionerServices_Eff_10-01-2025.csv) or the CMS ZIP that holds it"
)
LAYOUT = (
    "HCPCS/CPT Code, <service type> Services MUE Values, "
    "MUE Adjudication Indicator, MUE Rationale"
)
NOTICE = (
    "Current Procedural Terminology (CPT) codes, descriptions and other data only "
    "are copyright 2024 American Medical Association. All rights reserved.\n"
    "CPT\u00ae is a registered trademark of the American Medical Association.\n"
    "Applicable FARS/DFARS Restrictions Apply to Government Use.\n"
    "Fee schedules, relative value units, conversion factors and/or related "
    "components are not assigned by the AMA, are not part of CPT, and the AMA is "
    "not recommending their use.  The AMA does not directly or indirectly practice "
    "medicine or dispense medical services.  The AMA assumes no liability for the "
    "data contained or not contained herein."
)
HEADER_LINE = 9  # the header record's second line; it opens on line 8
PRACTITIONER_LABEL = b"Practitioner Services MUE Values"


def read(reader: MueReader) -> list[dict[str, Any]]:
    return read_all(reader).to_pylist()


def lines_of(path: Path) -> list[bytes]:
    """The file's physical lines: the notice and header records span several."""
    return path.read_bytes().splitlines(keepends=True)


def write(tmp_path: Path, name: str, lines: list[bytes]) -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(lines))
    return path


def with_line(lines: list[bytes], number: int, text: bytes) -> list[bytes]:
    """A copy of `lines` with line `number` (1-based) replaced by `text` + CRLF."""
    return lines[: number - 1] + [text + b"\r\n"] + lines[number:]


@pytest.fixture
def source_lines() -> list[bytes]:
    return lines_of(DATA / NAME)


@pytest.fixture(scope="module")
def table() -> list[dict[str, Any]]:
    reader = MueReader(DATA / NAME)
    rows = read(reader)
    assert reader.stats.rows_read == len(rows)
    assert reader.stats.rejects == []
    return rows


def by_code(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["code"]: row for row in rows}


# The file as written in CMS's layout


def test_schema() -> None:
    assert MueReader.schema.names == [
        "code", "mue_value", "adjudication_indicator", "adjudication_text",
        "rationale", "service_type", "line",
    ]  # fmt: skip
    types = Counter(str(field.type) for field in MueReader.schema)
    assert types == {"string": 5, "int64": 2}


def test_reads_every_code_below_the_notice_and_header(
    table: list[dict[str, Any]],
) -> None:
    # Lines 1-7 the notice record, 8-9 the header record, 10-21 one code each.
    assert len(table) == 12
    assert [row["line"] for row in table] == list(range(10, 22))
    assert Counter(row["adjudication_indicator"] for row in table) == {
        "3": 7,
        "2": 4,
        "1": 1,
    }
    assert {row["service_type"] for row in table} == {"practitioner"}


def test_values(table: list[dict[str, Any]]) -> None:
    rows = by_code(table)
    assert rows["0001U"] == {
        "code": "0001U",
        "mue_value": 1,
        "adjudication_indicator": "2",
        "adjudication_text": "Date of Service Edit: Policy",
        "rationale": "Code Descriptor / CPT Instruction",
        "service_type": "practitioner",
        "line": 10,
    }
    assert rows["0022U"]["rationale"] == "Clinical: CMS Workgroup"
    assert (rows["J1100"]["mue_value"], rows["J1100"]["adjudication_text"]) == (
        20,
        "Line Edit",
    )
    assert rows["0010U"]["adjudication_text"] == "Date of Service Edit: Clinical"


def test_provenance() -> None:
    path = DATA / NAME
    provenance = MueReader(path).provenance()
    assert provenance.kind == "mue"
    assert provenance.file_name == NAME
    assert provenance.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert provenance.publisher == "Centers for Medicare & Medicaid Services"
    assert (provenance.release, provenance.as_of) == ("2025Q4", date(2025, 10, 1))
    assert provenance.notice == NOTICE


@pytest.mark.parametrize(
    ("names", "release", "as_of"),
    [
        ([NAME], "2025Q4", date(2025, 10, 1)),
        (["MCR_MUE_DMESupplierServices_Eff_01-01-2026.csv"], "2026Q1", date(2026, 1, 1)),
        (["MCR_MUE_PractitionerServices_Eff_02-15-2025.csv"], "2025-02-15", date(2025, 2, 15)),
        ([CMS_ZIP, NAME], "2025Q4", date(2025, 10, 1)),
        (["medicare-ncci-2026-q3-practitioner-services-mue-table.zip", "mue.csv"], "2026Q3", date(2026, 7, 1)),
        (["MCR_MUE_PractitionerServices_Eff_13-45-2025.csv"], "unknown", None),
        (["mue.csv"], "unknown", None),
    ],
)  # fmt: skip
def test_release_from_the_file_names(
    names: list[str], release: str, as_of: date | None
) -> None:
    assert mue_release(names) == (release, as_of)


def test_provenance_reads_only_the_head(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    path = write(tmp_path, NAME, with_line(source_lines, 12, b"\x81"))
    assert MueReader(path).provenance().release == "2025Q4"
    with pytest.raises(SourceFileError):
        read_all(MueReader(path))


# The service type


@pytest.mark.parametrize(
    ("label", "service_type"),
    [
        (b"Outpatient Hospital Services MUE Values", "outpatient hospital"),
        (b"DME Supplier Services MUE Values", "dme"),
        (PRACTITIONER_LABEL, "practitioner"),
    ],
)
def test_service_type_from_the_header(
    tmp_path: Path, source_lines: list[bytes], label: bytes, service_type: str
) -> None:
    # The file keeps its practitioner name; the header column decides.
    header = source_lines[HEADER_LINE - 1].replace(PRACTITIONER_LABEL, label)
    path = write(
        tmp_path, "mue.csv", with_line(source_lines, HEADER_LINE, header.rstrip())
    )
    rows = read(MueReader(path))
    assert {row["service_type"] for row in rows} == {service_type}


@pytest.mark.parametrize(
    ("name", "service_type"),
    [
        ("MCR_MUE_OutpatientHospitalServices_Eff_10-01-2025.csv", "outpatient hospital"),
        ("MCR_MUE_DMESupplierServices_Eff_10-01-2025.csv", "dme"),
        ("MCR_MUE_PractitionerServices_Eff_10-01-2025.csv", "practitioner"),
    ],
)  # fmt: skip
def test_service_type_from_the_file_name(
    tmp_path: Path, source_lines: list[bytes], name: str, service_type: str
) -> None:
    header = source_lines[HEADER_LINE - 1].replace(PRACTITIONER_LABEL, b"MUE Values")
    path = write(tmp_path, name, with_line(source_lines, HEADER_LINE, header.rstrip()))
    assert {row["service_type"] for row in read(MueReader(path))} == {service_type}


def test_service_type_given(tmp_path: Path, source_lines: list[bytes]) -> None:
    header = source_lines[HEADER_LINE - 1].replace(PRACTITIONER_LABEL, b"MUE Values")
    path = write(
        tmp_path, "mue.csv", with_line(source_lines, HEADER_LINE, header.rstrip())
    )
    reader = MueReader(path, service_type="dme")
    rows = read(reader)
    assert {row["service_type"] for row in rows} == {"dme"}
    assert reader.provenance().release == "unknown"


@pytest.mark.parametrize("method", ["provenance", "batches"])
def test_service_type_unknown(
    tmp_path: Path, source_lines: list[bytes], method: str
) -> None:
    header = source_lines[HEADER_LINE - 1].replace(PRACTITIONER_LABEL, b"MUE Values")
    path = write(
        tmp_path, "mue.csv", with_line(source_lines, HEADER_LINE, header.rstrip())
    )
    reader = MueReader(path)
    with pytest.raises(SourceFileError) as caught:
        reader.provenance() if method == "provenance" else read_all(reader)
    assert str(caught.value) == (
        f"{path}, line 8: neither the header ('MUE Values') nor the file name says "
        "whether the table is for practitioner, outpatient hospital or DME supplier "
        "services\nHint: keep CMS's header and file name "
        "(MCR_MUE_PractitionerServices_Eff_MM-DD-YYYY.csv), or pass the service type"
    )


def test_service_type_must_be_one_of_three() -> None:
    with pytest.raises(ValueError, match="service_type must be one of"):
        MueReader(DATA / NAME, service_type="hospital")


# Other spellings of the same layout


def test_lf_line_ends_bom_and_trailing_blank_rows(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    lines = [line.replace(b"\r\n", b"\n") for line in source_lines]
    lines = [b"\xef\xbb\xbf" + lines[0], *lines[1:], b",,,\n", b"\n"]
    reader = MueReader(write(tmp_path, NAME, lines))
    assert read(reader) == read(MueReader(DATA / NAME))
    assert reader.stats.rows_read == 12


def test_a_header_on_one_line_and_a_zero_value(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    header = b"HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale"
    lines = source_lines[:7] + [header + b"\r\n"] + source_lines[9:]
    lines = with_line(lines, 9, b"0001U,0,2 Date of Service Edit: Policy,CMS Policy")
    rows = read(MueReader(write(tmp_path, NAME, lines)))
    assert len(rows) == 12
    assert (rows[0]["line"], rows[0]["mue_value"]) == (9, 0)


def test_an_indicator_without_its_wording(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    lines = with_line(source_lines, 21, b"J1100,20,1,Prescribing Information")
    rows = by_code(read(MueReader(write(tmp_path, NAME, lines))))
    assert (
        rows["J1100"]["adjudication_indicator"],
        rows["J1100"]["adjudication_text"],
    ) == ("1", None)


# The CMS ZIP


@pytest.fixture(scope="module")
def mue_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ZIP laid out like CMS's: the CSV beside its Excel twin."""
    path = tmp_path_factory.mktemp("zip") / CMS_ZIP
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(DATA / NAME, NAME)
        archive.writestr(NAME.replace(".csv", ".xlsx"), b"PK\x03\x04 not a workbook")
    return path


def test_reads_the_csv_in_the_cms_zip(mue_zip: Path) -> None:
    reader = MueReader(mue_zip)
    assert read(reader) == read(MueReader(DATA / NAME))
    provenance = reader.provenance()
    assert provenance.file_name == CMS_ZIP
    assert provenance.sha256 == hashlib.sha256(mue_zip.read_bytes()).hexdigest()
    assert (provenance.release, provenance.as_of) == ("2025Q4", date(2025, 10, 1))
    assert provenance.notice == NOTICE


def test_a_renamed_zip_is_dated_by_its_member(tmp_path: Path, mue_zip: Path) -> None:
    path = tmp_path / "download.zip"
    path.write_bytes(mue_zip.read_bytes())
    assert MueReader(path).provenance().as_of == date(2025, 10, 1)


def test_zip_without_the_csv(tmp_path: Path) -> None:
    path = tmp_path / CMS_ZIP
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("MCR_MUE_PractitionerServices_Eff_10-01-2025.xlsx", b"x")
    with pytest.raises(SourceFileError) as caught:
        MueReader(path).provenance()
    assert str(caught.value) == (
        f"{path}: the ZIP holds no file that could be the MUE table CSV "
        "(MCR_MUE_*.csv) (it holds MCR_MUE_PractitionerServices_Eff_10-01-2025.xlsx)\n"
        "Hint: pass the MUE table CSV (MCR_MUE_*.csv) itself, or a ZIP that holds "
        "exactly one"
    )


def test_zip_cut_in_half(tmp_path: Path, mue_zip: Path) -> None:
    data = mue_zip.read_bytes()
    path = tmp_path / CMS_ZIP
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceFileError) as caught:
        read_all(MueReader(path))
    assert str(caught.value) == (
        f"{path}: the ZIP archive is damaged (File is not a zip file)\n"
        "Hint: download the file again; it may be truncated"
    )


@pytest.mark.parametrize("method", ["provenance", "batches"])
def test_missing_file(tmp_path: Path, method: str) -> None:
    path = tmp_path / NAME
    reader = MueReader(path)
    with pytest.raises(MissingSourceError) as caught:
        reader.provenance() if method == "provenance" else read_all(reader)
    assert str(caught.value) == (
        f"{path}: file not found\nHint: pass the path of the MUE table CSV (MCR_MUE_*.csv)"
    )


# Broken copies: the header


@pytest.mark.parametrize("damage", ["missing", "renamed"])
@pytest.mark.parametrize("method", ["provenance", "batches"])
def test_header_not_found(
    tmp_path: Path, source_lines: list[bytes], damage: str, method: str
) -> None:
    lines = source_lines[:7] + source_lines[9:]
    if damage == "renamed":
        lines = with_line(source_lines, 8, b'"HCPCS')
    path = write(tmp_path, NAME, lines)
    reader = MueReader(path)
    with pytest.raises(SourceFileError) as caught:
        reader.provenance() if method == "provenance" else read_all(reader)
    assert str(caught.value) == (
        f"{path}: no header row of the MUE layout ({LAYOUT}) in the first 30 lines\n"
        f"Hint: {HINT}"
    )


def test_header_with_a_column_missing(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    three = source_lines[HEADER_LINE - 1].replace(b",MUE Rationale", b"").rstrip()
    path = write(tmp_path, NAME, with_line(source_lines, HEADER_LINE, three))
    with pytest.raises(SourceFileError) as caught:
        MueReader(path).provenance()
    assert caught.value.line == 8
    assert str(caught.value) == (
        f"{path}, line 8: the header row has 3 columns, expected the 4 of the MUE "
        f"layout ({LAYOUT})\nHint: {HINT}"
    )


@pytest.mark.parametrize(
    ("old", "new", "number", "reads", "expected"),
    [
        (b"MUE Adjudication Indicator", b"MAI", 3, "MAI", "MUE Adjudication Indicator"),
        (b"MUE Rationale", b"Rationale", 4, "Rationale", "MUE Rationale"),
        (
            PRACTITIONER_LABEL,
            b"Units",
            2,
            "Units",
            "<service type> Services MUE Values",
        ),
    ],
)
def test_header_with_a_column_renamed(
    tmp_path: Path,
    source_lines: list[bytes],
    old: bytes,
    new: bytes,
    number: int,
    reads: str,
    expected: str,
) -> None:
    header = source_lines[HEADER_LINE - 1].replace(old, new).rstrip()
    path = write(tmp_path, NAME, with_line(source_lines, HEADER_LINE, header))
    with pytest.raises(SourceFileError) as caught:
        read_all(MueReader(path))
    assert str(caught.value) == (
        f"{path}, line 8: header column {number} reads {reads!r}, expected "
        f"{expected!r} of the MUE layout ({LAYOUT})\nHint: {HINT}"
    )


# Broken copies: the rows


def test_truncated_mid_row_rejects_the_last_row(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    cut = b"J1100,2"
    reader = MueReader(write(tmp_path, NAME, source_lines[:20] + [cut]))
    rows = read(reader)
    assert len(rows) == 11
    assert reader.stats.rows_read == 12
    assert [(r.line, r.reason, r.raw) for r in reader.stats.rejects] == [
        (21, "expected 4 columns, found 2", "J1100,2")
    ]


def test_truncated_inside_a_quoted_cell(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    cut = b'J1100,20,1 Line Edit,"Prescribing Inf'
    reader = MueReader(write(tmp_path, NAME, source_lines[:20] + [cut]))
    assert len(read(reader)) == 11
    assert [(r.line, r.reason, r.raw) for r in reader.stats.rejects] == [
        (
            21,
            "the file ends inside a quoted cell of this record; it may be truncated",
            cut.decode(),
        )
    ]


@pytest.mark.parametrize(
    ("bad", "found"),
    [
        (b"0009U,2,3 Date of Service Edit: Clinical", 3),
        (b"0009U,2,3 Date of Service Edit: Clinical,Nature of Analyte,extra", 5),
        (b"0009U;2;3 Date of Service Edit: Clinical;Nature of Analyte", 1),
    ],
)
def test_wrong_column_count_mid_file_rejects_that_row_only(
    tmp_path: Path, source_lines: list[bytes], bad: bytes, found: int
) -> None:
    reader = MueReader(write(tmp_path, NAME, with_line(source_lines, 12, bad)))
    rows = read(reader)
    assert len(rows) == 11
    assert "0009U" not in by_code(rows)
    assert reader.stats.rows_read == 12
    assert [(r.line, r.reason, r.raw) for r in reader.stats.rejects] == [
        (12, f"expected 4 columns, found {found}", bad.decode())
    ]


def test_bad_encoding_names_the_line(tmp_path: Path, source_lines: list[bytes]) -> None:
    broken = b"\x81" + source_lines[11][1:].rstrip(b"\r\n")
    path = write(tmp_path, NAME, with_line(source_lines, 12, broken))
    with pytest.raises(SourceFileError) as caught:
        read_all(MueReader(path))
    assert caught.value.line == 12
    assert str(caught.value) == (
        f"{path}, line 12: byte 1 of the line is not valid cp1252 (b'\\x81009')\n"
        "Hint: save the file as cp1252, as the publisher ships it"
    )


def test_a_utf8_copy_is_not_read_as_utf8_but_does_not_fail(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    # Re-saved as UTF-8, ® becomes two bytes that Windows-1252 reads as "Â®".
    lines = [line.decode("cp1252").encode("utf-8") for line in source_lines]
    provenance = MueReader(write(tmp_path, NAME, lines)).provenance()
    assert "CPT\u00c2\u00ae is a registered trademark" in provenance.notice


def test_carriage_return_inside_a_cell(
    tmp_path: Path, source_lines: list[bytes]
) -> None:
    bad = b"0009U,2\r,3 Date of Service Edit: Clinical,Nature of Analyte"
    path = write(tmp_path, NAME, with_line(source_lines, 12, bad))
    with pytest.raises(SourceFileError) as caught:
        read_all(MueReader(path))
    assert caught.value.line == 12
    assert str(caught.value).startswith(
        f"{path}, line 12: the record cannot be read as CSV (new-line character "
        "seen in unquoted field"
    )


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        (1, "1.5", "column Practitioner Services MUE Values: '1.5' is not a whole number of units"),
        (1, "-1", "column Practitioner Services MUE Values: '-1' is not a whole number of units"),
        (1, "one", "column Practitioner Services MUE Values: 'one' is not a whole number of units"),
        (1, "", "column Practitioner Services MUE Values: the cell is empty, expected a whole number of units"),
        (2, "4 Line Edit", "column MUE Adjudication Indicator: '4 Line Edit' does not start with adjudication indicator 1, 2 or 3"),
        (2, "Line Edit", "column MUE Adjudication Indicator: 'Line Edit' does not start with adjudication indicator 1, 2 or 3"),
        (2, "3Date of Service Edit: Clinical", "column MUE Adjudication Indicator: '3Date of Service Edit: Clinical' does not start with adjudication indicator 1, 2 or 3"),
        (2, "", "column MUE Adjudication Indicator: the cell is empty, expected adjudication indicator 1, 2 or 3"),
        (0, "009U", "column HCPCS/CPT Code: '009U' is not a billing code of 5 letters and digits"),
        (0, "", "column HCPCS/CPT Code: the cell is empty, expected a billing code"),
    ],
)  # fmt: skip
def test_bad_row_is_rejected_and_the_rest_loads(
    tmp_path: Path, source_lines: list[bytes], column: int, value: str, reason: str
) -> None:
    # Line 12 reads 0009U,2,3 Date of Service Edit: Clinical,Nature of Analyte.
    cells = source_lines[11].decode().rstrip("\r\n").split(",")
    cells[column] = value
    bad = ",".join(cells).encode()
    reader = MueReader(write(tmp_path, NAME, with_line(source_lines, 12, bad)))
    rows = read(reader)
    assert len(rows) == 11
    assert 12 not in {row["line"] for row in rows}
    assert reader.stats.rows_read == 12
    assert [(r.line, r.reason, r.raw) for r in reader.stats.rejects] == [
        (12, reason, bad.decode())
    ]


def test_arrow_batches_match_the_schema() -> None:
    batches = list(MueReader(DATA / NAME).batches())
    assert [batch.num_rows for batch in batches] == [12]
    assert all(isinstance(batch, pa.RecordBatch) for batch in batches)
    assert batches[0].schema == MueReader.schema


def test_warehouse_load_reconciles(tmp_path: Path, source_lines: list[bytes]) -> None:
    bad = b"0009U,2.5,3 Date of Service Edit: Clinical,Nature of Analyte"
    path = write(tmp_path, NAME, with_line(source_lines, 12, bad))
    with Warehouse(tmp_path / "home") as warehouse:
        entry = warehouse.load(MueReader(path)).entry
        assert (entry.kind, entry.release, entry.as_of) == (
            "mue",
            "2025Q4",
            date(2025, 10, 1),
        )
        assert (entry.rows_read, entry.rows_loaded, entry.rows_rejected) == (12, 11, 1)
        assert entry.reject_reasons == {"column Practitioner Services MUE Values": 1}
        found = warehouse.db.execute(
            "SELECT mue_value, adjudication_indicator FROM mue WHERE code = '0001U'"
        ).fetchall()
    assert found == [(1, "2")]
