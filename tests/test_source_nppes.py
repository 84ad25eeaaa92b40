"""The NPPES reader on fixture files in CMS's layout, and on broken copies."""

import hashlib
import threading
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from payerbrief.errors import MissingSourceError, SourceFileError
from payerbrief.sources import nppes
from payerbrief.sources.base import read_all
from payerbrief.sources.nppes import (
    NppesReader,
    current_providers_sql,
    npi_check_digit,
    npi_check_digits_valid,
    nppes_release,
)
from payerbrief.store.warehouse import Warehouse

DATA = Path(__file__).parent / "data" / "nppes"
MONTHLY = "npidata_pfile_20050523-20251109.csv"
WEEKLY = "npidata_pfile_20251110-20251116.csv"
HEADER_HINT = (
    "pass the npidata_pfile CSV from CMS's NPPES Data Dissemination ZIP (or the "
    "ZIP itself), unedited; its header row names all 330 columns"
)
ENCODING_HINT = "save the file as utf-8, as the publisher ships it"
SMALL_BLOCK = 16 << 10


def lines_of(name: str) -> list[bytes]:
    return (DATA / name).read_bytes().splitlines(keepends=True)


def write(tmp_path: Path, lines: list[bytes], name: str = MONTHLY) -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(lines))
    return path


def replaced(lines: list[bytes], number: int, old: bytes, new: bytes) -> list[bytes]:
    """A copy of `lines` with `old` replaced once in line `number` (1-based)."""
    assert old in lines[number - 1]
    changed = lines[number - 1].replace(old, new, 1)
    return lines[: number - 1] + [changed] + lines[number:]


def read(path: Path) -> tuple[NppesReader, dict[int, dict[str, Any]]]:
    reader = NppesReader(path)
    rows = read_all(reader).to_pylist()
    return reader, {row["line"]: row for row in rows}


@pytest.fixture(scope="module")
def monthly() -> dict[int, dict[str, Any]]:
    reader, rows = read(DATA / MONTHLY)
    assert reader.stats.rejects == []
    assert reader.stats.rows_read == len(rows) == 9
    return rows


# The fixture file as CMS lays it out


def test_schema() -> None:
    assert NppesReader.schema.names == [
        "npi",
        "entity_type",
        "primary_taxonomy",
        "taxonomies",
        "practice_state",
        "practice_zip5",
        "deactivation_date",
        "npi_valid",
        "line",
    ]
    assert NppesReader.schema.field("taxonomies").type == pa.list_(pa.string())
    assert NppesReader.schema.field("deactivation_date").type == pa.date32()


@pytest.mark.parametrize(
    ("line", "npi", "entity", "primary", "taxonomies", "state", "zip5"),
    [
        (2, "1234567893", "1", "207Q00000X", ["207Q00000X"], "MD", "20814"),
        (
            3,
            "1000000012",
            "1",
            "207RC0000X",
            ["207R00000X", "207RC0000X", "208D00000X"],
            "NY",
            "10001",
        ),
        (4, "1000000020", "2", None, ["193200000X", "261QM1300X"], "TX", "77330"),
        (5, "1000000038", "1", "363L00000X", ["363L00000X"], "CA", "94103"),
        (6, "1234567890", "1", "207Q00000X", ["207Q00000X"], "FL", "33101"),
        (7, "1000000053", None, None, [], None, None),
        (
            8,
            "1000000061",
            "2",
            "207P00000X",
            ["282N00000X", "261QE0700X", "207P00000X"],
            "OH",
            "43215",
        ),
        (9, "1000000087", "1", "207Q00000X", ["207Q00000X"], None, None),
        (
            10,
            "1000000095",
            "1",
            "207Q00000X",
            ["207Q00000X", "207R00000X"],
            "WA",
            "98101",
        ),
    ],
    ids=[
        "one-primary-zip4",
        "second-of-three-primary",
        "two-no-switch",
        "one-switch-x",
        "bad-check-digit",
        "deactivated",
        "slots-1-3-15",
        "outside-us",
        "two-switches-y",
    ],
)
def test_monthly_rows(
    monthly: dict[int, dict[str, Any]],
    line: int,
    npi: str,
    entity: str | None,
    primary: str | None,
    taxonomies: list[str],
    state: str | None,
    zip5: str | None,
) -> None:
    row = monthly[line]
    assert (row["npi"], row["entity_type"]) == (npi, entity)
    assert row["primary_taxonomy"] == primary
    assert row["taxonomies"] == taxonomies
    assert (row["practice_state"], row["practice_zip5"]) == (state, zip5)


def test_deactivation_date(monthly: dict[int, dict[str, Any]]) -> None:
    dates = {line: row["deactivation_date"] for line, row in monthly.items()}
    assert dates.pop(7) == date(2019, 3, 15)
    assert set(dates.values()) == {None}


def test_a_wrong_check_digit_is_flagged_not_rejected() -> None:
    reader, rows = read(DATA / MONTHLY)
    flagged = [line for line, row in rows.items() if not row["npi_valid"]]
    assert flagged == [6]
    assert reader.check_digit_failures == 1
    assert reader.stats.rejects == []


@pytest.mark.parametrize(
    ("base", "digit"),
    [("123456789", "3"), ("100000001", "2"), ("100000005", "3"), ("200000004", "4")],
)
def test_npi_check_digit(base: str, digit: str) -> None:
    # 123456789 -> 3 is the worked example in CMS's check digit requirements.
    assert npi_check_digit(base) == digit


def test_vectorised_check_digits_agree_with_the_rule() -> None:
    npis = [f"{base}{npi_check_digit(base)}" for base in ("123456789", "987654321")]
    npis += ["1234567890", "1234567894", "0000000000"]
    valid = npi_check_digits_valid(pa.array(npis)).to_pylist()
    assert valid == [True, True, False, False, False]


# Provenance and releases


@pytest.mark.parametrize(
    ("name", "release", "as_of"),
    [
        (MONTHLY, "2025-11 monthly", date(2025, 11, 9)),
        (WEEKLY, "weekly 20251110-20251116", date(2025, 11, 16)),
        ("npidata_pfile_20050523-20240114.csv", "2024-01 monthly", date(2024, 1, 14)),
        ("npidata.csv", "unknown", None),
        ("npidata_pfile_20050523-20251345.csv", "unknown", None),
    ],
)
def test_release_from_the_file_name(
    name: str, release: str, as_of: date | None
) -> None:
    assert nppes_release(name) == (release, as_of)


def test_provenance() -> None:
    provenance = NppesReader(DATA / WEEKLY).provenance()
    assert provenance.kind == "nppes"
    assert provenance.file_name == WEEKLY
    assert provenance.publisher == "Centers for Medicare & Medicaid Services (NPPES)"
    assert (provenance.release, provenance.as_of) == (
        "weekly 20251110-20251116",
        date(2025, 11, 16),
    )
    expected = hashlib.sha256((DATA / WEEKLY).read_bytes()).hexdigest()
    assert provenance.sha256 == expected


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A ZIP laid out like CMS's NPPES_Data_Dissemination_November_2025.zip."""
    path = tmp_path / "NPPES_Data_Dissemination_November_2025.zip"
    stem = MONTHLY.removesuffix(".csv")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(DATA / MONTHLY, MONTHLY)
        archive.writestr(f"{stem}_fileheader.csv", lines_of(MONTHLY)[0])
        archive.writestr("othername_pfile_20050523-20251109.csv", '"NPI"\r\n')
        archive.writestr("NPPES_Data_Dissemination_Readme.pdf", b"%PDF-1.4")
    return path


def test_reads_the_data_file_of_the_zip(
    bundle: Path, monthly: dict[int, dict[str, Any]]
) -> None:
    reader, rows = read(bundle)
    assert rows == monthly
    provenance = reader.provenance()
    assert provenance.file_name == bundle.name
    assert provenance.release == "2025-11 monthly"


# Weekly updates over the monthly file


def test_weekly_rows_replace_monthly_ones(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "home") as warehouse:
        warehouse.load(NppesReader(DATA / MONTHLY))
        warehouse.load(NppesReader(DATA / WEEKLY))
        current = warehouse.rows(current_providers_sql())
    by_npi = {row["npi"]: row for row in current}
    assert len(current) == 10
    assert by_npi["1234567893"]["practice_state"] == "VA"
    assert by_npi["1234567893"]["primary_taxonomy"] == "207R00000X"
    assert by_npi["1000000111"]["practice_state"] == "MD"
    assert by_npi["1000000012"]["practice_state"] == "NY"


def test_a_weekly_file_older_than_the_monthly_one_is_ignored(tmp_path: Path) -> None:
    older = write(tmp_path, lines_of(WEEKLY), "npidata_pfile_20251027-20251102.csv")
    with Warehouse(tmp_path / "home") as warehouse:
        warehouse.load(NppesReader(older))
        warehouse.load(NppesReader(DATA / MONTHLY))
        current = warehouse.rows(current_providers_sql())
    by_npi = {row["npi"]: row for row in current}
    assert len(current) == 9
    assert by_npi["1234567893"]["practice_state"] == "MD"


def test_weekly_files_alone_are_all_current(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "home") as warehouse:
        warehouse.load(NppesReader(DATA / WEEKLY))
        current = warehouse.rows(current_providers_sql())
    assert sorted(row["npi"] for row in current) == ["1000000111", "1234567893"]


# Broken copies


@pytest.mark.parametrize("method", ["provenance", "batches"])
def test_missing_columns(tmp_path: Path, method: str) -> None:
    lines = replaced(lines_of(MONTHLY), 1, b'"NPI Deactivation Date"', b'"Deactivated"')
    lines = replaced(
        lines, 1, b'"Healthcare Provider Taxonomy Code_3"', b'"Taxonomy 3"'
    )
    path = write(tmp_path, lines)
    reader = NppesReader(path)
    with pytest.raises(SourceFileError) as caught:
        reader.provenance() if method == "provenance" else read_all(reader)
    assert caught.value.line == 1
    assert str(caught.value) == (
        f"{path}, line 1: the header row lacks 2 of the columns the reader needs: "
        "NPI Deactivation Date, Healthcare Provider Taxonomy Code_3\n"
        f"Hint: {HEADER_HINT}"
    )


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, [])
    with pytest.raises(SourceFileError) as caught:
        read_all(NppesReader(path))
    assert str(caught.value) == (
        f"{path}, line 1: the file is empty; expected a header row naming the "
        f"NPPES columns\nHint: {HEADER_HINT}"
    )


@pytest.mark.parametrize("method", ["provenance", "batches"])
def test_missing_file(tmp_path: Path, method: str) -> None:
    path = tmp_path / MONTHLY
    reader = NppesReader(path)
    with pytest.raises(MissingSourceError) as caught:
        reader.provenance() if method == "provenance" else read_all(reader)
    assert str(caught.value) == (
        f"{path}: file not found\nHint: pass the path of the NPPES data file "
        "(npidata_pfile_YYYYMMDD-YYYYMMDD.csv)"
    )


@pytest.fixture(params=["one block", "small blocks"])
def block_size(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Read the fixture in one block, or in two: the first holds the header row
    (12,268 bytes) and three rows, the second the other six. Each block's rows
    are then handed on as they are, not joined."""
    size = nppes.BLOCK_SIZE if request.param == "one block" else SMALL_BLOCK
    monkeypatch.setattr(nppes, "BLOCK_SIZE", size)
    monkeypatch.setattr(nppes, "OUTPUT_ROWS", 1)
    return size


def test_a_bad_byte_in_a_read_column_names_the_line(
    tmp_path: Path, block_size: int
) -> None:
    # Line 8's practice state, OH, becomes O and byte 0xFF.
    lines = replaced(lines_of(MONTHLY), 8, b'"OH"', b'"O\xff"')
    path = write(tmp_path, lines)
    position = lines[7].index(b"\xff") + 1
    with pytest.raises(SourceFileError) as caught:
        read_all(NppesReader(path))
    assert caught.value.line == 8
    assert str(caught.value) == (
        f"{path}, line 8: byte {position} of the line is not valid utf-8 "
        f"(b'\\xff\",\"')\nHint: {ENCODING_HINT}"
    )


def test_a_bad_byte_in_a_column_not_read_passes(tmp_path: Path) -> None:
    lines = replaced(lines_of(MONTHLY), 4, b"FAKE CLINIC", b"FAKE CL\xefNIC")
    reader, rows = read(write(tmp_path, lines))
    assert len(rows) == 9
    assert reader.stats.rejects == []


def test_a_row_truncated_at_the_end_is_rejected(
    tmp_path: Path, block_size: int
) -> None:
    lines = lines_of(MONTHLY)
    cut = lines[9][: lines[9].index(b"FAKETWOPRIMARY") + 4]
    reader, rows = read(write(tmp_path, [*lines[:9], cut]))
    assert sorted(rows) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert reader.stats.rows_read == 9
    [reject] = reader.stats.rejects
    assert (reject.line, reject.reason, reject.raw) == (
        10,
        "the file ends inside a quoted field of this row; it may be truncated",
        cut.decode(),
    )


def test_a_short_row_mid_file_is_rejected_and_the_lines_after_it_hold(
    tmp_path: Path, block_size: int
) -> None:
    lines = lines_of(MONTHLY)
    short = b'"1000000038","1","","","","FAKENURSE"\r\n'
    reader, rows = read(write(tmp_path, [*lines[:4], short, *lines[5:]]))
    assert sorted(rows) == [2, 3, 4, 6, 7, 8, 9, 10]
    assert rows[6]["npi"] == "1234567890"
    assert rows[10]["npi"] == "1000000095"
    assert reader.stats.rows_read == 9
    assert [(r.line, r.reason) for r in reader.stats.rejects] == [
        (5, "expected 330 columns, found 6")
    ]


@pytest.mark.parametrize(
    ("line", "old", "new", "reason", "raw_start"),
    [
        (
            3,
            b'"1000000012"',
            b'"12345"',
            "column NPI: '12345' is not 10 digits",
            '"12345","1","",',
        ),
        (
            4,
            b'"1000000020","2"',
            b'"1000000020","3"',
            "column Entity Type Code: '3' is neither 1 (individual) nor 2 "
            "(organization)",
            '"1000000020","3","",',
        ),
        (
            5,
            b'"07/08/2024","",""',
            b'"07/08/2024","","13/45/2019"',
            "column NPI Deactivation Date: '13/45/2019' is not a date MM/DD/YYYY",
            '"1000000038","1","13/45/2019",',
        ),
    ],
    ids=["npi", "entity-type", "deactivation-date"],
)
def test_a_malformed_value_rejects_its_row(
    tmp_path: Path,
    line: int,
    old: bytes,
    new: bytes,
    reason: str,
    raw_start: str,
) -> None:
    reader, rows = read(write(tmp_path, replaced(lines_of(MONTHLY), line, old, new)))
    assert len(rows) == 8 and line not in rows
    assert reader.stats.rows_read == 9
    [reject] = reader.stats.rejects
    assert (reject.line, reject.reason) == (line, reason)
    assert reject.raw.startswith(raw_start)


def test_a_value_spanning_lines_is_read_and_later_lines_run_behind(
    tmp_path: Path,
) -> None:
    lines = replaced(lines_of(MONTHLY), 4, b"FAKE CLINIC ", b"FAKE CLINIC\r\n")
    reader, rows = read(write(tmp_path, lines))
    assert reader.stats.rejects == []
    assert sorted(rows) == list(range(2, 11))
    assert rows[4]["npi"] == "1000000020"
    # The row on physical line 6 reports line 5: a record number, see the module.
    assert rows[5]["npi"] == "1000000038"


def test_rejects_are_kept_by_the_warehouse(tmp_path: Path) -> None:
    lines = lines_of(MONTHLY)
    short = b'"1000000038","1"\r\n'
    broken = replaced([*lines[:4], short, *lines[5:]], 3, b'"1000000012"', b'"12"')
    path = write(tmp_path, broken)
    with Warehouse(tmp_path / "home") as warehouse:
        entry = warehouse.load(NppesReader(path)).entry
        rejects = warehouse.rows("SELECT line, reason FROM rejects ORDER BY line")
    assert (entry.rows_read, entry.rows_loaded, entry.rows_rejected) == (9, 7, 2)
    assert rejects == [
        {"line": 3, "reason": "column NPI: '12' is not 10 digits"},
        {"line": 5, "reason": "expected 330 columns, found 2"},
    ]


def test_batches_span_blocks_with_lines_in_order(block_size: int) -> None:
    batches = list(NppesReader(DATA / MONTHLY).batches())
    lines = [line for batch in batches for line in batch.column("line").to_pylist()]
    assert lines == list(range(2, 11))
    sizes = [batch.num_rows for batch in batches]
    assert sizes == ([9] if block_size != SMALL_BLOCK else [3, 6])


def test_small_batches_are_joined(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nppes, "BLOCK_SIZE", SMALL_BLOCK)
    monkeypatch.setattr(nppes, "OUTPUT_ROWS", 5)
    [batch] = list(NppesReader(DATA / MONTHLY).batches())
    assert batch.column("line").to_pylist() == list(range(2, 11))
    assert batch.schema == NppesReader.schema


def test_closing_the_reader_early_stops_its_parsing_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(nppes, "BLOCK_SIZE", SMALL_BLOCK)
    monkeypatch.setattr(nppes, "OUTPUT_ROWS", 1)
    batches = NppesReader(DATA / MONTHLY).batches()
    first = next(batches)
    assert first.num_rows == 3
    batches.close()
    assert not [t for t in threading.enumerate() if t.name == "nppes-csv"]


def test_a_zip_cut_short(tmp_path: Path, bundle: Path) -> None:
    path = tmp_path / "cut.zip"
    path.write_bytes(bundle.read_bytes()[:2000])
    with pytest.raises(SourceFileError) as caught:
        read_all(NppesReader(path))
    assert str(caught.value) == (
        f"{path}: the ZIP archive is damaged (File is not a zip file)\n"
        "Hint: download the file again; it may be truncated"
    )


def test_a_zip_without_the_data_file(tmp_path: Path) -> None:
    path = tmp_path / "NPPES_Deactivated_NPI_Report_111025.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("NPPES Deactivated NPI Report 20251110.xlsx", b"PK")
    with pytest.raises(SourceFileError) as caught:
        NppesReader(path).provenance()
    what = "the NPPES data file (npidata_pfile_YYYYMMDD-YYYYMMDD.csv)"
    assert str(caught.value) == (
        f"{path}: the ZIP holds no file that could be {what} (it holds NPPES "
        f"Deactivated NPI Report 20251110.xlsx)\n"
        f"Hint: pass {what} itself, or a ZIP that holds exactly one"
    )


def test_lf_line_ends_read_the_same(
    tmp_path: Path, monthly: dict[int, dict[str, Any]]
) -> None:
    path = tmp_path / MONTHLY
    path.write_bytes((DATA / MONTHLY).read_bytes().replace(b"\r\n", b"\n"))
    assert read(path)[1] == monthly
