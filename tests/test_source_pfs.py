"""The Physician Fee Schedule readers on CMS's real 2025 files and broken copies."""

import csv
import hashlib
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from payerbrief.errors import MissingSourceError, SourceFileError
from payerbrief.sources.base import SourceReader, read_all
from payerbrief.sources.gpci import GpciReader
from payerbrief.sources.locality import LocalityCountyReader, county_names
from payerbrief.sources.pfs import PfsRvuReader

OCT = "PPRRVU2025_Oct.csv"
JAN = "PPRRVU25_JAN1.csv"
GPCI = "GPCI2025.csv"
LOCCO = "25LOCCO1.csv"

PFS_HINT = (
    "pass the PPRRVU CSV of a CMS RVU release (for example PPRRVU2025_Oct.csv) "
    "or the RVU ZIP that holds it"
)
GPCI_HINT = (
    "pass the GPCI CSV of a CMS RVU release (for example GPCI2025.csv) "
    "or the RVU ZIP that holds it"
)
LOCCO_HINT = (
    "pass the locality-county CSV of a CMS RVU release (for example "
    "25LOCCO1.csv) or the RVU ZIP that holds it"
)
NOTICE = (
    "CPT codes and descriptions only are copyright 2024 American Medical "
    "Association.  All Rights Reserved.  Applicable FARS/DFARS Apply.\n"
    "Dental codes (D codes) are copyright 2025/26 American Dental Association.  "
    "All Rights Reserved."
)
ZIP_DAMAGED = (
    "the ZIP archive is damaged (File is not a zip file)\n"
    "Hint: download the file again; it may be truncated"
)


@pytest.fixture(scope="module")
def pfs_dir(shared_data: Path) -> Path:
    return shared_data / "cms-pfs-2025"


def read(reader: SourceReader) -> list[dict[str, Any]]:
    return read_all(reader).to_pylist()


def lines_of(path: Path) -> list[bytes]:
    """A file's lines with their endings (CRLF in the October file)."""
    return path.read_bytes().splitlines(keepends=True)


def write(tmp_path: Path, name: str, lines: list[bytes]) -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(lines))
    return path


def with_line(lines: list[bytes], number: int, text: bytes) -> list[bytes]:
    """A copy of `lines` with line `number` (1-based) replaced by `text` + CRLF."""
    return lines[: number - 1] + [text + b"\r\n"] + lines[number:]


def cells_of(line: bytes) -> list[str]:
    return next(csv.reader([line.decode().rstrip("\r\n")]))


def joined(cells: list[str]) -> bytes:
    return ",".join(cells).encode()


@pytest.fixture(scope="module")
def october(pfs_dir: Path) -> dict[tuple[str, str | None], dict[str, Any]]:
    reader = PfsRvuReader(pfs_dir / OCT)
    rows = read(reader)
    assert reader.stats.rejects == []
    assert reader.stats.rows_read == len(rows)
    return {(row["hcpcs"], row["modifier"]): row for row in rows}


@pytest.fixture(scope="module")
def january(pfs_dir: Path) -> dict[tuple[str, str | None], dict[str, Any]]:
    reader = PfsRvuReader(pfs_dir / JAN)
    rows = read(reader)
    assert reader.stats.rejects == []
    assert reader.stats.rows_read == len(rows)
    return {(row["hcpcs"], row["modifier"]): row for row in rows}


@pytest.fixture(scope="module")
def releases(
    october: dict[tuple[str, str | None], dict[str, Any]],
    january: dict[tuple[str, str | None], dict[str, Any]],
) -> dict[str, dict[tuple[str, str | None], dict[str, Any]]]:
    return {OCT: october, JAN: january}


@pytest.fixture
def oct_head(pfs_dir: Path) -> list[bytes]:
    """The October file's notice and header rows and its first 200 data rows."""
    return lines_of(pfs_dir / OCT)[:210]


# The PPRRVU file on the real releases


def test_pfs_schema_has_the_layout_columns_in_order() -> None:
    assert PfsRvuReader.schema.names == [
        "hcpcs", "modifier", "description", "status", "not_used_for_medicare",
        "work_rvu", "nonfac_pe_rvu", "nonfac_na", "fac_pe_rvu", "fac_na", "mp_rvu",
        "nonfac_total", "fac_total", "pctc", "global_days", "pre_op", "intra_op",
        "post_op", "mult_proc", "bilat_surg", "asst_surg", "co_surg", "team_surg",
        "endo_base", "conv_factor", "phys_supervision", "calc_flag",
        "diag_imaging_family", "opps_nonfac_pe", "opps_fac_pe", "opps_mp", "line",
    ]  # fmt: skip
    types = Counter(str(field.type) for field in PfsRvuReader.schema)
    assert types == {"string": 16, "double": 13, "bool": 2, "int64": 1}


def test_october_file_loads_every_data_row(pfs_dir: Path) -> None:
    # 19,100 lines: 9 notice and stacked-header rows, the HCPCS,MOD,DESCRIPTION
    # row on line 10, then 19,090 data rows on lines 11 to 19,100.
    reader = PfsRvuReader(pfs_dir / OCT)
    table = read_all(reader)
    assert table.num_rows == 19090
    assert reader.stats.rows_read == 19090
    assert reader.stats.rejects == []
    assert table.schema == PfsRvuReader.schema
    lines = table.column("line").to_pylist()
    assert (lines[0], lines[-1]) == (11, 19100)
    assert table.column("conv_factor").unique().to_pylist() == [32.3465]


def test_january_file_skips_its_end_of_file_mark(pfs_dir: Path) -> None:
    # 18,876 lines: header on line 10, 18,865 data rows on lines 11 to 18,875,
    # and a last row holding only the DOS end-of-file mark 0x1A and commas.
    assert lines_of(pfs_dir / JAN)[-1].startswith(b"\x1a,,,")
    reader = PfsRvuReader(pfs_dir / JAN)
    table = read_all(reader)
    assert table.num_rows == 18865
    assert reader.stats.rows_read == 18865
    assert reader.stats.rejects == []
    assert table.column("line").to_pylist()[-1] == 18875


def test_each_code_and_modifier_appears_once(
    releases: dict[str, dict[tuple[str, str | None], dict[str, Any]]],
) -> None:
    assert len(releases[OCT]) == 19090
    assert len(releases[JAN]) == 18865


@pytest.mark.parametrize("release", [OCT, JAN])
def test_office_visit_99213(
    releases: dict[str, dict[tuple[str, str | None], dict[str, Any]]], release: str
) -> None:
    row = releases[release][("99213", None)]
    assert row["description"] == "Office o/p est low 20 min"
    assert row["status"] == "A"
    assert (row["work_rvu"], row["nonfac_pe_rvu"], row["fac_pe_rvu"]) == (
        1.30,
        1.35,
        0.57,
    )
    assert row["mp_rvu"] == 0.10
    assert (row["nonfac_total"], row["fac_total"]) == (2.75, 1.97)
    assert (row["nonfac_na"], row["fac_na"]) == (False, False)
    assert (row["pctc"], row["global_days"]) == ("0", "XXX")
    assert row["not_used_for_medicare"] is None
    assert row["endo_base"] is None
    assert row["phys_supervision"] == "09"
    assert row["conv_factor"] == 32.3465


def test_mri_70553_has_global_professional_and_technical_rows(
    october: dict[tuple[str, str | None], dict[str, Any]],
) -> None:
    fields = ("work_rvu", "nonfac_pe_rvu", "fac_pe_rvu", "mp_rvu", "nonfac_total")
    parts = {mod: october[("70553", mod)] for mod in (None, "26", "TC")}
    assert {mod: tuple(row[f] for f in fields) for mod, row in parts.items()} == {
        None: (2.29, 7.26, 7.26, 0.16, 9.71),
        "26": (2.29, 0.82, 0.82, 0.13, 3.24),
        "TC": (0.00, 6.44, 6.44, 0.03, 6.47),
    }
    assert [row["fac_na"] for row in parts.values()] == [True, False, True]
    assert {row["pctc"] for row in parts.values()} == {"1"}
    assert parts[None]["diag_imaging_family"] == "88"
    assert parts[None]["opps_nonfac_pe"] == 11.81
    assert [row["line"] for row in parts.values()] == [7673, 7674, 7675]


def test_category_ii_codes_carry_status_i_or_m_and_no_rvus(
    october: dict[tuple[str, str | None], dict[str, Any]],
) -> None:
    row = october[("3372F", None)]
    assert row["status"] == "I"
    assert row["description"] == "Ajcc brst cncr stage 1 docd"
    assert row["work_rvu"] == row["nonfac_total"] == row["fac_total"] == 0.0
    category_ii = [r for (code, _), r in october.items() if code[4] == "F"]
    assert len(category_ii) == 565
    assert Counter(r["status"] for r in category_ii) == {"I": 492, "M": 73}


def test_january_codes_and_indicators_get_their_leading_zeros_back(
    october: dict[tuple[str, str | None], dict[str, Any]],
    january: dict[tuple[str, str | None], dict[str, Any]],
) -> None:
    # The January file writes 00100 as 100, global days 090 as 90 and physician
    # supervision 09 as 9; the October file writes all three in full.
    anesthesia = january[("00100", None)]
    assert anesthesia["description"] == "Anesth salivary gland"
    assert anesthesia["line"] == 5980
    assert sum(code.isdigit() and code < "02000" for code, _ in january) == 276
    for column in ("global_days", "phys_supervision"):
        in_january = {row[column] for row in january.values()}
        assert in_january == {row[column] for row in october.values()}
    assert january[("27447", None)]["global_days"] == "090"


@pytest.mark.parametrize(
    ("name", "release", "as_of"),
    [(OCT, "RVU25D", date(2025, 9, 11)), (JAN, "RVU25A", date(2024, 12, 23))],
)
def test_pfs_provenance(pfs_dir: Path, name: str, release: str, as_of: date) -> None:
    path = pfs_dir / name
    provenance = PfsRvuReader(path).provenance()
    assert provenance.kind == "pfs-rvu"
    assert provenance.file_name == name
    assert provenance.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert provenance.publisher == "Centers for Medicare & Medicaid Services"
    assert (provenance.release, provenance.as_of) == (release, as_of)
    assert "American Medical Association" in provenance.notice
    assert provenance.notice == NOTICE


def test_provenance_reads_only_the_head(tmp_path: Path, oct_head: list[bytes]) -> None:
    path = write(tmp_path, OCT, with_line(oct_head, 12, b"\xff"))
    assert PfsRvuReader(path).provenance().release == "RVU25D"
    with pytest.raises(SourceFileError):
        read_all(PfsRvuReader(path))


@pytest.mark.parametrize(
    ("name", "release"),
    [
        ("PPRRVU25_JAN1.csv", "RVU25A"),
        ("PPRRVU2025_Apr.csv", "RVU25B"),
        ("pprrvu24_jul.csv", "RVU24C"),
        ("PPRRVU2025_Oct.csv", "RVU25D"),
        ("RVU26A.zip", "RVU26A"),
        ("fee-schedule.csv", "unknown"),
    ],
)
def test_release_falls_back_to_the_file_name(
    tmp_path: Path, oct_head: list[bytes], name: str, release: str
) -> None:
    # Lines 1 and 5 hold the title and the RELEASED date.
    lines = [line for number, line in enumerate(oct_head, 1) if number not in (1, 5)]
    path = write(tmp_path, name, lines)
    provenance = PfsRvuReader(path).provenance()
    assert (provenance.release, provenance.as_of) == (release, None)
    assert provenance.notice == NOTICE


def test_provenance_without_notice_rows_or_with_a_bad_date(
    tmp_path: Path, oct_head: list[bytes]
) -> None:
    lines = with_line(oct_head, 5, b",,RELEASED 13/45/2025")
    lines = [line for number, line in enumerate(lines, 1) if number not in (2, 3)]
    provenance = PfsRvuReader(write(tmp_path, OCT, lines)).provenance()
    assert (provenance.release, provenance.as_of, provenance.notice) == (
        "RVU25D",
        None,
        "",
    )


def test_header_below_line_30_is_not_found(
    tmp_path: Path, oct_head: list[bytes]
) -> None:
    path = write(tmp_path, OCT, oct_head[:9] + [b",,note\r\n"] * 21 + oct_head[9:])
    with pytest.raises(SourceFileError) as caught:
        PfsRvuReader(path).provenance()
    assert str(caught.value) == (
        f"{path}: no header row starting HCPCS,MOD,DESCRIPTION in the first 30 "
        f"lines\nHint: {PFS_HINT}"
    )


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        (5, "abc", "column WORK RVU: 'abc' is not a number"),
        (10, "nan", "column MP RVU: 'nan' is not a number"),
        (24, "32,3465", "expected 31 columns, found 32"),
        (0, "", "column HCPCS: the code is empty"),
        (0, "ABC", "column HCPCS: 'ABC' is not 5 letters and digits"),
        (0, "0075T1", "column HCPCS: '0075T1' is not 5 letters and digits"),
        (0, "00-75", "column HCPCS: '00-75' is not 5 letters and digits"),
        (7, "N/A", "column NON-FAC NA INDICATOR: 'N/A' is neither NA nor empty"),
    ],
)
def test_bad_pfs_row_is_rejected_and_the_rest_loads(
    tmp_path: Path, oct_head: list[bytes], column: int, value: str, reason: str
) -> None:
    cells = cells_of(oct_head[110])
    cells[column] = value
    bad = joined(cells)
    reader = PfsRvuReader(write(tmp_path, OCT, with_line(oct_head, 111, bad)))
    rows = read(reader)
    assert len(rows) == 199
    assert 111 not in {row["line"] for row in rows}
    assert reader.stats.rows_read == 200
    [reject] = reader.stats.rejects
    assert (reject.line, reject.reason, reject.raw) == (111, reason, bad.decode())


def test_pfs_blank_cells_read_as_zero_or_null(
    tmp_path: Path, oct_head: list[bytes]
) -> None:
    cells = cells_of(oct_head[110])
    cells[5] = cells[14] = cells[25] = ""
    path = write(tmp_path, OCT, with_line(oct_head, 111, joined(cells)))
    row = read(PfsRvuReader(path))[100]
    assert (row["line"], row["hcpcs"], row["work_rvu"]) == (111, "0075T", 0.0)
    assert (row["global_days"], row["phys_supervision"]) == (None, None)


def test_trailing_blank_rows_are_skipped_without_counting(
    tmp_path: Path, oct_head: list[bytes]
) -> None:
    blank = [b"\r\n", b"," * 30 + b"\r\n", b" , ," + b"," * 28 + b"\r\n", b"\x1a"]
    reader = PfsRvuReader(write(tmp_path, OCT, oct_head + blank))
    assert len(read(reader)) == 200
    assert reader.stats.rows_read == 200
    assert reader.stats.rejects == []


def test_empty_cells_after_the_last_column_are_ignored(
    tmp_path: Path, oct_head: list[bytes]
) -> None:
    lines = [line.rstrip(b"\r\n") + b",,\r\n" for line in oct_head]
    reader = PfsRvuReader(write(tmp_path, OCT, lines))
    assert len(read(reader)) == 200
    assert reader.stats.rejects == []


def test_reading_twice_counts_once(tmp_path: Path, oct_head: list[bytes]) -> None:
    reader = PfsRvuReader(write(tmp_path, OCT, oct_head))
    assert len(read(reader)) == len(read(reader)) == 200
    assert reader.stats.rows_read == 200


def test_carriage_return_inside_a_row_names_the_line(
    tmp_path: Path, oct_head: list[bytes]
) -> None:
    path = write(tmp_path, OCT, with_line(oct_head, 111, b"0075T,\r,Perq stent"))
    with pytest.raises(SourceFileError) as caught:
        read_all(PfsRvuReader(path))
    assert str(caught.value) == (
        f"{path}, line 111: the row cannot be read as CSV (new-line character seen "
        "in unquoted field - do you need to open the file in universal-newline "
        "mode?)\nHint: pass the file as CMS publishes it; download it again if it "
        "may be damaged"
    )


# The GPCI and locality-county files on the real 2025 release


@pytest.fixture(scope="module")
def gpcis(pfs_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    reader = GpciReader(pfs_dir / GPCI)
    rows = read(reader)
    assert reader.stats.rejects == []
    assert reader.stats.rows_read == len(rows)
    return {(row["mac"], row["locality_number"]): row for row in rows}


@pytest.fixture(scope="module")
def localities(pfs_dir: Path) -> list[dict[str, Any]]:
    return read(LocalityCountyReader(pfs_dir / LOCCO))


def test_gpci_file_has_109_localities(
    pfs_dir: Path, gpcis: dict[tuple[str, str], dict[str, Any]]
) -> None:
    # 116 lines: title, blank, header, 109 localities (lines 4 to 112), then
    # four footnote rows, which are neither loaded nor counted.
    reader = GpciReader(pfs_dir / GPCI)
    table = read_all(reader)
    assert table.num_rows == 109
    assert reader.stats.rows_read == 109
    assert table.schema == GpciReader.schema
    assert table.column("line").to_pylist() == list(range(4, 113))
    assert len(gpcis) == 109


@pytest.mark.parametrize(
    ("key", "state", "name", "indices"),
    [
        (("10112", "00"), "AL", "ALABAMA", (1.0, 0.869, 0.575)),
        (("13202", "01"), "NY", "MANHATTAN", (1.065, 1.166, 1.656)),
        (("02102", "01"), "AK", "ALASKA", (1.5, 1.081, 0.592)),
        (("03602", "21"), "WY", "WYOMING", (1.0, 1.0, 0.739)),
        (("01112", "54"), "CA", "BAKERSFIELD", (1.017, 1.093, 0.662)),
    ],
)
def test_gpci_of_a_locality(
    gpcis: dict[tuple[str, str], dict[str, Any]],
    key: tuple[str, str],
    state: str,
    name: str,
    indices: tuple[float, float, float],
) -> None:
    # Alaska is written "ALASKA*" and Wyoming "WYOMING**", marking footnotes.
    row = gpcis[key]
    assert (row["state"], row["locality_name"]) == (state, name)
    assert (row["pw_gpci"], row["pe_gpci"], row["mp_gpci"]) == indices


@pytest.mark.parametrize(
    ("reader", "name"), [(GpciReader, GPCI), (LocalityCountyReader, LOCCO)]
)
def test_locality_files_provenance(
    pfs_dir: Path, reader: type[GpciReader], name: str
) -> None:
    provenance = reader(pfs_dir / name).provenance()
    assert (provenance.kind, provenance.file_name) == (reader.kind, name)
    assert provenance.publisher == "Centers for Medicare & Medicaid Services"
    assert (provenance.release, provenance.as_of) == ("CY2025", date(2025, 1, 1))
    assert (
        provenance.sha256 == hashlib.sha256((pfs_dir / name).read_bytes()).hexdigest()
    )


@pytest.mark.parametrize(
    ("reader", "name", "release"),
    [
        (GpciReader, "GPCI2024.csv", "CY2024"),
        (GpciReader, "addendum-e.csv", "unknown"),
        (LocalityCountyReader, "24LOCCO.csv", "CY2024"),
        (LocalityCountyReader, "counties.csv", "unknown"),
    ],
)
def test_locality_files_release_without_a_title(
    tmp_path: Path, pfs_dir: Path, reader: type[GpciReader], name: str, release: str
) -> None:
    source = GPCI if reader is GpciReader else LOCCO
    path = write(tmp_path, name, lines_of(pfs_dir / source)[1:])
    provenance = reader(path).provenance()
    as_of = date(int(release[2:]), 1, 1) if release != "unknown" else None
    assert (provenance.release, provenance.as_of) == (release, as_of)


def test_locality_county_rows(pfs_dir: Path, localities: list[dict[str, Any]]) -> None:
    # 169 lines: title, blank, header, 110 data rows among blank separators, a
    # footnote. Missouri's rest-of-state row (line 96) is repeated on line 97.
    reader = LocalityCountyReader(pfs_dir / LOCCO)
    table = read_all(reader)
    assert table.num_rows == 109
    assert reader.stats.rows_read == 110
    assert table.schema == LocalityCountyReader.schema
    [reject] = reader.stats.rejects
    assert (reject.line, reject.reason, reject.raw) == (
        97,
        "the row repeats line 96",
        "5302,99,,REST OF STATE*,ALL OTHER COUNTIES",
    )
    assert localities[0] == {
        "mac": "10112",
        "locality_number": "00",
        "state": "ALABAMA",
        "fee_schedule_area": "STATEWIDE",
        "counties": "ALL COUNTIES",
        "county_names": ["ALL COUNTIES"],
        "line": 5,
    }


def test_locality_state_is_carried_down_its_group(
    localities: list[dict[str, Any]],
) -> None:
    # California names its state on line 13 only; New York leaves a space.
    by_line = {row["line"]: row for row in localities}
    california = [row for row in localities if row["state"] == "CALIFORNIA"]
    assert [row["line"] for row in california] == list(range(13, 42))
    assert by_line[114]["state"] == "NEW YORK"
    assert by_line[41]["fee_schedule_area"] == "REST OF STATE"
    assert by_line[58]["state"] == "HAWAII/GUAM"


def test_locality_and_gpci_files_name_the_same_localities(
    localities: list[dict[str, Any]], gpcis: dict[tuple[str, str], dict[str, Any]]
) -> None:
    keys = {(row["mac"], row["locality_number"]) for row in localities}
    assert keys == set(gpcis)


@pytest.mark.parametrize(
    ("line", "names"),
    [
        (13, ["LOS ANGELES", "ORANGE"]),
        (15, ["SAN FRANCISCO", "ALAMEDA", "CONTRA COSTA", "SAN MATEO"]),
        (
            51,
            ["BROWARD", "COLLIER", "INDIAN RIVER", "LEE", "MARTIN", "PALM BEACH"]
            + ["ST. LUCIE"],
        ),
        (52, ["DADE", "MONROE"]),
        (
            49,
            ["DISTRICT OF COLUMBIA", "ALEXANDRIA CITY", "ARLINGTON", "FAIRFAX"]
            + ["FAIRFAX CITY", "FALLS CHURCH CITY", "MONTGOMERY", "PRINCE GEORGE'S"],
        ),
        (41, ["ALL OTHER COUNTIES"]),
        (82, ["ALL OTHER COUNTIES EXCEPT MONTGOMERY AND PRINCE GEORGE'S"]),
        (
            157,
            [
                "ALL COUNTIES, EXCEPT ALEXANDRIA CITY, ARLINGTON, FAIRFAX, "
                "FAIRFAX CITY, AND FALLS CHURCH CITY"
            ],
        ),
        (132, ["ALL COUNTY EQUIVALENTS"]),
    ],
)
def test_locality_county_names(
    localities: list[dict[str, Any]], line: int, names: list[str]
) -> None:
    [row] = [row for row in localities if row["line"] == line]
    assert row["county_names"] == names


@pytest.mark.parametrize(
    ("counties", "names"),
    [
        ("KING ", ["KING"]),
        ("SUTTER, YUBA", ["SUTTER", "YUBA"]),
        ("DUPAGE, KANE, LAKE AND WILL", ["DUPAGE", "KANE", "LAKE", "WILL"]),
        ("ANDERSON AND MARYLAND CNTY", ["ANDERSON", "MARYLAND"]),
        ("REST OF STATE", ["REST OF STATE"]),
        ("", []),
    ],
)
def test_county_names_splitting(counties: str, names: list[str]) -> None:
    assert county_names(counties) == names


# Broken copies, the same for each reader


@dataclass(frozen=True)
class Kind:
    reader: type[PfsRvuReader] | type[GpciReader] | type[LocalityCountyReader]
    file: str
    width: int
    header_line: int
    header: bytes  # how the header row starts
    expected: str  # how the error message describes the header
    hint: str
    what: str
    release: str
    rows: int  # rows loaded from the intact file
    rejects: int  # rows rejected from the intact file
    line: int  # a data line to break
    loaded_before: int  # rows loaded from the lines above it
    bad_byte: str  # the bytes the encoding error quotes when it starts with 0xFF


KINDS = [
    Kind(
        reader=PfsRvuReader,
        file=OCT,
        width=31,
        header_line=10,
        header=b"HCPCS,MOD,DESCRIPTION",
        expected="starting HCPCS,MOD,DESCRIPTION",
        hint=PFS_HINT,
        what="the PPRRVU CSV (PPRRVU*.csv)",
        release="RVU25D",
        rows=19090,
        rejects=0,
        line=111,
        loaded_before=100,
        bad_byte=r"b'\xff075'",
    ),
    Kind(
        reader=GpciReader,
        file=GPCI,
        width=7,
        header_line=3,
        header=b"Medicare Administrative Contractor (MAC)",
        expected="starting 'Medicare Administrative Contractor'",
        hint=GPCI_HINT,
        what="the GPCI CSV (GPCI*.csv)",
        release="CY2025",
        rows=109,
        rejects=0,
        line=51,
        loaded_before=47,
        bad_byte=r"b'\xff102'",
    ),
    Kind(
        reader=LocalityCountyReader,
        file=LOCCO,
        width=5,
        header_line=3,
        header=b"Medicare Adminstrative Contractor",
        expected="starting 'Medicare Administrative Contractor'",
        hint=LOCCO_HINT,
        what="the locality-county CSV (25LOCCO*.csv)",
        release="CY2025",
        rows=109,
        rejects=1,
        line=62,
        loaded_before=44,
        bad_byte=r"b'\xff102'",
    ),
]
KIND_IDS = ["pfs-rvu", "gpci", "locality-county"]


@pytest.fixture(params=KINDS, ids=KIND_IDS)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def source_lines(pfs_dir: Path, kind: Kind) -> list[bytes]:
    return lines_of(pfs_dir / kind.file)


def test_truncated_mid_row_rejects_the_last_row(
    tmp_path: Path, kind: Kind, source_lines: list[bytes]
) -> None:
    cut = joined(cells_of(source_lines[kind.line - 1])[:3])
    path = write(tmp_path, kind.file, source_lines[: kind.line - 1] + [cut])
    reader = kind.reader(path)
    rows = read(reader)
    assert len(rows) == kind.loaded_before
    assert rows[-1]["line"] < kind.line
    assert reader.stats.rows_read == kind.loaded_before + 1
    [reject] = reader.stats.rejects
    assert (reject.line, reject.reason, reject.raw) == (
        kind.line,
        f"expected {kind.width} columns, found 3",
        cut.decode(),
    )


def test_wrong_column_count_mid_file_rejects_that_row_only(
    tmp_path: Path, kind: Kind, source_lines: list[bytes]
) -> None:
    short = joined(cells_of(source_lines[kind.line - 1])[:-2])
    reader = kind.reader(
        write(tmp_path, kind.file, with_line(source_lines, kind.line, short))
    )
    rows = read(reader)
    assert len(rows) == kind.rows - 1
    assert reader.stats.rows_read == kind.rows + kind.rejects
    reject = reader.stats.rejects[0]
    assert (reject.line, reject.reason, reject.raw) == (
        kind.line,
        f"expected {kind.width} columns, found {kind.width - 2}",
        short.decode(),
    )
    assert len(reader.stats.rejects) == kind.rejects + 1


@pytest.mark.parametrize("damage", ["missing", "renamed"])
@pytest.mark.parametrize("method", ["provenance", "batches"])
def test_header_not_found(
    tmp_path: Path, kind: Kind, source_lines: list[bytes], damage: str, method: str
) -> None:
    header = source_lines[kind.header_line - 1]
    assert header.startswith(kind.header)
    renamed = b"CODE" + header[len(kind.header) :]
    lines = source_lines[: kind.header_line - 1] + source_lines[kind.header_line :]
    if damage == "renamed":
        lines = with_line(source_lines, kind.header_line, renamed.rstrip())
    path = write(tmp_path, kind.file, lines)
    reader = kind.reader(path)
    with pytest.raises(SourceFileError) as caught:
        reader.provenance() if method == "provenance" else read_all(reader)
    assert str(caught.value) == (
        f"{path}: no header row {kind.expected} in the first 30 lines\n"
        f"Hint: {kind.hint}"
    )
    assert caught.value.path == path


def test_header_with_a_column_missing(
    tmp_path: Path, kind: Kind, source_lines: list[bytes]
) -> None:
    header = joined(cells_of(source_lines[kind.header_line - 1])[:-1])
    path = write(tmp_path, kind.file, with_line(source_lines, kind.header_line, header))
    with pytest.raises(SourceFileError) as caught:
        kind.reader(path).provenance()
    assert str(caught.value) == (
        f"{path}, line {kind.header_line}: the header row has {kind.width - 1} "
        f"columns, expected {kind.width}\nHint: {kind.hint}"
    )


def test_bad_encoding_names_the_line(
    tmp_path: Path, kind: Kind, source_lines: list[bytes]
) -> None:
    broken = b"\xff" + source_lines[kind.line - 1][1:].rstrip(b"\r\n")
    path = write(tmp_path, kind.file, with_line(source_lines, kind.line, broken))
    with pytest.raises(SourceFileError) as caught:
        read_all(kind.reader(path))
    assert caught.value.line == kind.line
    assert str(caught.value) == (
        f"{path}, line {kind.line}: byte 1 of the line is not valid utf-8 "
        f"({kind.bad_byte})\nHint: save the file as utf-8, as the publisher ships it"
    )


@pytest.mark.parametrize("method", ["provenance", "batches"])
def test_missing_file(tmp_path: Path, kind: Kind, method: str) -> None:
    path = tmp_path / kind.file
    reader = kind.reader(path)
    with pytest.raises(MissingSourceError) as caught:
        reader.provenance() if method == "provenance" else read_all(reader)
    assert str(caught.value) == (
        f"{path}: file not found\nHint: pass the path of {kind.what}"
    )


@pytest.fixture(scope="module")
def rvu_zip(tmp_path_factory: pytest.TempPathFactory, pfs_dir: Path) -> Path:
    """A ZIP laid out like CMS's RVU25D.zip: the three CSVs beside other files."""
    path = tmp_path_factory.mktemp("zip") / "RVU25D.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", "RVU25D read me\r\n")
        archive.writestr("PPRRVU2025_Oct.txt", "not the CSV\r\n")
        archive.writestr("PPRRVU2025_Oct.xlsx", b"PK\x03\x04 not a workbook")
        for name in (OCT, GPCI, LOCCO):
            archive.write(pfs_dir / name, name)
    return path


def test_reads_its_member_of_the_rvu_zip(rvu_zip: Path, kind: Kind) -> None:
    reader = kind.reader(rvu_zip)
    table = read_all(reader)
    assert table.num_rows == kind.rows
    assert len(reader.stats.rejects) == kind.rejects
    provenance = reader.provenance()
    assert provenance.file_name == "RVU25D.zip"
    assert provenance.sha256 == hashlib.sha256(rvu_zip.read_bytes()).hexdigest()
    assert provenance.release == kind.release


def test_zip_without_the_file(tmp_path: Path, kind: Kind) -> None:
    path = tmp_path / "RVU25D.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("README.txt", "read me\r\n")
    with pytest.raises(SourceFileError) as caught:
        kind.reader(path).provenance()
    assert str(caught.value) == (
        f"{path}: the ZIP holds no file that could be {kind.what} (it holds "
        f"README.txt)\nHint: pass {kind.what} itself, or a ZIP that holds exactly one"
    )


def test_zip_with_two_rvu_files(tmp_path: Path, pfs_dir: Path) -> None:
    path = tmp_path / "RVU25.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(pfs_dir / JAN, f"RVU25A/{JAN}")
        archive.write(pfs_dir / OCT, f"RVU25D/{OCT}")
    with pytest.raises(SourceFileError) as caught:
        PfsRvuReader(path).provenance()
    assert str(caught.value) == (
        f"{path}: the ZIP holds 2 files that could be the PPRRVU CSV (PPRRVU*.csv) "
        f"(it holds RVU25A/{JAN}, RVU25D/{OCT})\n"
        "Hint: pass the PPRRVU CSV (PPRRVU*.csv) itself, or a ZIP that holds exactly one"
    )


@pytest.mark.parametrize("damage", ["garbage", "cut in half"])
def test_damaged_zip(tmp_path: Path, rvu_zip: Path, kind: Kind, damage: str) -> None:
    data = rvu_zip.read_bytes()
    if damage == "garbage":
        data = b"PK\x03\x04" + bytes(60)
    path = tmp_path / "RVU25D.zip"
    path.write_bytes(data[: len(data) // 2] if damage == "cut in half" else data)
    with pytest.raises(SourceFileError) as caught:
        read_all(kind.reader(path))
    assert str(caught.value) == f"{path}: {ZIP_DAMAGED}"


def test_zip_member_that_fails_its_checksum(tmp_path: Path, pfs_dir: Path) -> None:
    # Stored uncompressed, so one changed byte still reads but fails the CRC.
    path = tmp_path / "RVU25D.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.write(pfs_dir / GPCI, GPCI)
    path.write_bytes(path.read_bytes().replace(b"WYOMING", b"WYOMINK"))
    with pytest.raises(SourceFileError, match=r"Bad CRC-32 for file 'GPCI2025.csv'"):
        read_all(GpciReader(path))


def test_zip_member_with_corrupt_compressed_data(tmp_path: Path, rvu_zip: Path) -> None:
    # Whatever the inflated bytes turn out to be, the error names the file.
    data = bytearray(rvu_zip.read_bytes())
    start = data.index(OCT.encode()) + 200
    data[start : start + 64] = bytes(b ^ 0xFF for b in data[start : start + 64])
    path = tmp_path / "RVU25D.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(SourceFileError) as caught:
        read_all(PfsRvuReader(path))
    assert str(caught.value).startswith(f"{path}")


# Locality-county specifics on broken copies


def test_locality_row_without_a_state_after_a_blank_row(
    tmp_path: Path, pfs_dir: Path
) -> None:
    # Montana (line 99) opens a group after the blank row on line 98.
    lines = lines_of(pfs_dir / LOCCO)
    stateless = b"3202,1,,STATEWIDE ,ALL COUNTIES "
    reader = LocalityCountyReader(
        write(tmp_path, LOCCO, with_line(lines, 99, stateless))
    )
    rows = read(reader)
    assert 99 not in {row["line"] for row in rows}
    assert [(r.line, r.reason) for r in reader.stats.rejects] == [
        (97, "the row repeats line 96"),
        (99, "column State: the cell is empty and no row above names it"),
    ]


def test_locality_state_survives_a_rejected_first_row(
    tmp_path: Path, pfs_dir: Path
) -> None:
    # Line 62 names ILLINOIS for the group's four rows; break its locality.
    lines = lines_of(pfs_dir / LOCCO)
    broken = b"6102,160,ILLINOIS ,CHICAGO,COOK "
    reader = LocalityCountyReader(write(tmp_path, LOCCO, with_line(lines, 62, broken)))
    rows = {row["line"]: row for row in read(reader)}
    assert [rows[line]["state"] for line in (63, 64, 65)] == ["ILLINOIS"] * 3
    assert reader.stats.rejects[0].reason == (
        "column Locality Number: '160' is not a locality number of up to 2 digits"
    )


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        (5, "x", "column PE GPCI: 'x' is not a number"),
        (5, "", "column PE GPCI: the cell is empty, expected a number"),
        (1, "ILL", "column State: 'ILL' is not a two-letter state code"),
        (3, " * ", "column Locality Name: the cell is empty"),
        (
            0,
            "610200",
            "column Medicare Administrative Contractor (MAC): '610200' is not a "
            "contractor number of up to 5 digits",
        ),
        (
            2,
            "9a",
            "column Locality Number: '9a' is not a locality number of up to 2 digits",
        ),
    ],
)
def test_bad_gpci_row_is_rejected(
    tmp_path: Path, pfs_dir: Path, column: int, value: str, reason: str
) -> None:
    # Line 51 reads 6102,IL,99,REST OF ILLINOIS,1,0.912,1.381.
    lines = lines_of(pfs_dir / GPCI)
    cells = cells_of(lines[50])
    cells[column] = value
    bad = joined(cells)
    reader = GpciReader(write(tmp_path, GPCI, with_line(lines, 51, bad)))
    assert len(read(reader)) == 108
    assert [(r.line, r.reason, r.raw) for r in reader.stats.rejects] == [
        (51, reason, bad.decode())
    ]


def test_arrow_batches_match_the_schema(pfs_dir: Path) -> None:
    batches = list(PfsRvuReader(pfs_dir / OCT).batches())
    assert [batch.num_rows for batch in batches] == [8192, 8192, 2706]
    assert all(isinstance(batch, pa.RecordBatch) for batch in batches)
