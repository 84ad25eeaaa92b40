import zipfile
from datetime import date
from importlib import metadata
from pathlib import Path

import pytest

from payerbrief.errors import MissingSourceError, SourceFileError
from payerbrief.sources.base import read_all, sha256_of
from payerbrief.sources.icd10cm import (
    Icd10CmReader,
    icd10cm_release,
    packaged_tabular,
)
from payerbrief.sources.nucc import NuccTaxonomyReader, nucc_release
from payerbrief.sources.pos import PlaceOfServiceReader

NUCC_HEADER = (
    "Code,Grouping,Classification,Specialization,Definition,Notes,Display Name,Section"
)
NUCC_HINT = (
    "pass the CSV file NUCC publishes at nucc.org (Code Sets, Taxonomy, CSV), unedited"
)
POS_HEADER = "pos_code,pos_type,pos_name,pos_description"
TRUNCATED = "the file ends inside a quoted field of this row; it may be truncated"


@pytest.fixture(scope="module")
def nucc_file(shared_data: Path) -> Path:
    return shared_data / "nucc" / "nucc_taxonomy_251.csv"


@pytest.fixture(scope="module")
def pos_file(shared_data: Path) -> Path:
    return shared_data / "place-of-service" / "place_of_service.csv"


@pytest.fixture(scope="module")
def nucc_lines(nucc_file: Path) -> list[bytes]:
    """The real taxonomy file's lines, with their CRLF endings."""
    return nucc_file.read_bytes().splitlines(keepends=True)


@pytest.fixture(scope="module")
def taxonomy(nucc_file: Path) -> dict[str, dict[str, object]]:
    reader = NuccTaxonomyReader(nucc_file)
    table = read_all(reader)
    assert reader.stats.rejects == []
    assert reader.stats.rows_read == table.num_rows
    return {row["code"]: row for row in table.to_pylist()}


@pytest.fixture(scope="module")
def places(pos_file: Path) -> dict[str, dict[str, object]]:
    reader = PlaceOfServiceReader(pos_file)
    table = read_all(reader)
    assert reader.stats.rejects == []
    assert reader.stats.rows_read == table.num_rows
    return {row["pos_code"]: row for row in table.to_pylist()}


@pytest.fixture(scope="module")
def icd_rows() -> list[dict[str, object]]:
    reader = Icd10CmReader()
    table = read_all(reader)
    assert reader.stats.rejects == []
    assert reader.stats.rows_read == table.num_rows
    return table.to_pylist()


@pytest.fixture(scope="module")
def icd(icd_rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(row["code"]): row for row in icd_rows}


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# NUCC taxonomy: the real v25.1 file.


def test_nucc_reads_every_code(taxonomy: dict[str, dict[str, object]]) -> None:
    # 884 lines: the header and 883 codes, none spanning lines.
    assert len(taxonomy) == 883


@pytest.mark.parametrize(
    ("code", "classification", "specialization", "display_name"),
    [
        ("207Q00000X", "Family Medicine", None, "Family Medicine Physician"),
        (
            "207RC0000X",
            "Internal Medicine",
            "Cardiovascular Disease",
            "Cardiovascular Disease Physician",
        ),
    ],
)
def test_nucc_known_physician_codes(
    taxonomy: dict[str, dict[str, object]],
    code: str,
    classification: str,
    specialization: str | None,
    display_name: str,
) -> None:
    row = taxonomy[code]
    assert row["grouping"] == "Allopathic & Osteopathic Physicians"
    assert row["classification"] == classification
    assert row["specialization"] == specialization
    assert row["display_name"] == display_name
    assert row["section"] == "Individual"


def test_nucc_quoted_fields_with_commas_load_intact(
    taxonomy: dict[str, dict[str, object]],
) -> None:
    technologist = taxonomy["246XC2901X"]
    assert technologist["grouping"] == (
        "Technologists, Technicians & Other Technical Service Providers"
    )
    assert technologist["specialization"] == "Cardiovascular Invasive Specialist"
    assert technologist["line"] == 652
    assert taxonomy["315P00000X"]["classification"] == (
        "Intermediate Care Facility, Intellectual Disabilities"
    )


def test_nucc_non_ascii_text_is_decoded_as_utf8(
    taxonomy: dict[str, dict[str, object]],
) -> None:
    assert "patients\u2019 heart rates" in str(taxonomy["246XC2901X"]["definition"])
    assert "Alzheimer\u2019s" in str(taxonomy["207LP4000X"]["definition"])
    assert "42 CFR \u00a7 400.200" in str(taxonomy["315P00000X"]["notes"])


def test_nucc_provenance_names_release_and_effective_date(nucc_file: Path) -> None:
    provenance = NuccTaxonomyReader(nucc_file).provenance()
    assert provenance.kind == "nucc"
    assert provenance.file_name == "nucc_taxonomy_251.csv"
    assert provenance.sha256 == sha256_of(nucc_file)
    assert provenance.publisher == "National Uniform Claim Committee"
    assert provenance.release == "25.1"
    assert provenance.as_of == date(2025, 7, 1)
    assert provenance.notice == (
        "NUCC Health Care Provider Taxonomy code set, used with attribution (nucc.org)"
    )


@pytest.mark.parametrize(
    ("file_name", "release", "as_of"),
    [
        ("nucc_taxonomy_251.csv", "25.1", date(2025, 7, 1)),
        ("nucc_taxonomy_250.csv", "25.0", date(2025, 1, 1)),
        ("NUCC_TAXONOMY_241.CSV", "24.1", date(2024, 7, 1)),
        ("nucc_taxonomy_252.csv", "25.2", None),
        ("taxonomy.csv", "unknown", None),
        ("nucc_taxonomy_2510.csv", "unknown", None),
    ],
)
def test_nucc_release_from_file_name(
    file_name: str, release: str, as_of: date | None
) -> None:
    assert nucc_release(file_name) == (release, as_of)


def test_nucc_reads_the_csv_inside_a_zip(tmp_path: Path, nucc_file: Path) -> None:
    path = tmp_path / "nucc_taxonomy_251.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "NUCC taxonomy")
        archive.write(nucc_file, "nucc_taxonomy_251.csv")
    reader = NuccTaxonomyReader(path)
    assert read_all(reader).num_rows == 883
    assert reader.provenance().release == "25.1"


# NUCC taxonomy: broken copies.


def test_nucc_wrong_header_names_file_line_and_expected_header(
    tmp_path: Path, nucc_lines: list[bytes]
) -> None:
    path = write(tmp_path, "nucc_taxonomy_251.csv", b"Code,Group\r\n" + nucc_lines[1])
    with pytest.raises(SourceFileError) as caught:
        read_all(NuccTaxonomyReader(path))
    assert caught.value.line == 1
    assert str(caught.value) == (
        f"{path}, line 1: the header is 'Code,Group'; expected {NUCC_HEADER}\n"
        f"Hint: {NUCC_HINT}"
    )


def test_nucc_header_after_a_byte_order_mark_is_accepted(
    tmp_path: Path, nucc_lines: list[bytes]
) -> None:
    data = b"\xef\xbb\xbf" + b"".join(nucc_lines[:3])
    reader = NuccTaxonomyReader(write(tmp_path, "nucc_taxonomy_251.csv", data))
    assert read_all(reader).num_rows == 2


def test_nucc_empty_file_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "nucc_taxonomy_251.csv", b"")
    with pytest.raises(SourceFileError) as caught:
        read_all(NuccTaxonomyReader(path))
    assert str(caught.value) == (
        f"{path}, line 1: the file is empty; expected the header {NUCC_HEADER}\n"
        f"Hint: {NUCC_HINT}"
    )


def test_nucc_row_with_wrong_column_count_is_rejected(
    tmp_path: Path, nucc_lines: list[bytes]
) -> None:
    short = b"207Q00000X,Allopathic & Osteopathic Physicians,Family Medicine\r\n"
    data = b"".join(nucc_lines[:3]) + short + b"".join(nucc_lines[3:6])
    reader = NuccTaxonomyReader(write(tmp_path, "nucc_taxonomy_251.csv", data))
    table = read_all(reader)
    assert table.column("line").to_pylist() == [2, 3, 5, 6, 7]
    assert reader.stats.rows_read == 6
    [reject] = reader.stats.rejects
    assert (reject.line, reject.reason) == (4, "expected 8 columns, found 3")
    assert reject.raw == short.decode().rstrip("\r\n")


@pytest.mark.parametrize("bad_code", ["207Q0000X", "207q00000X", "207Q00000Y", ""])
def test_nucc_invalid_taxonomy_code_is_rejected(
    tmp_path: Path, nucc_lines: list[bytes], bad_code: str
) -> None:
    row = nucc_lines[2].replace(b"193400000X", bad_code.encode(), 1)
    data = nucc_lines[0] + nucc_lines[1] + row + nucc_lines[3]
    reader = NuccTaxonomyReader(write(tmp_path, "nucc_taxonomy_251.csv", data))
    table = read_all(reader)
    assert table.column("code").to_pylist() == ["193200000X", "207K00000X"]
    [reject] = reader.stats.rejects
    assert (reject.line, reject.reason) == (
        3,
        f"code {bad_code!r} is not a taxonomy code (nine letters or digits, then X)",
    )


def test_nucc_repeated_code_is_rejected(
    tmp_path: Path, nucc_lines: list[bytes]
) -> None:
    data = b"".join(nucc_lines[:3]) + nucc_lines[1]
    reader = NuccTaxonomyReader(write(tmp_path, "nucc_taxonomy_251.csv", data))
    assert read_all(reader).num_rows == 2
    assert [(r.line, r.reason) for r in reader.stats.rejects] == [
        (4, "code 193200000X repeats line 2")
    ]


def test_nucc_field_with_line_break_keeps_it_and_the_row_its_first_line(
    tmp_path: Path,
) -> None:
    data = (
        f"{NUCC_HEADER}\r\n"
        "101Y00000X,Behavioral Health & Social Service Providers,Counselor,,"
        '"A provider who is trained,\r\nand educated.",[7/1/2003: new],'
        "Counselor,Individual\r\n"
        "101YA0400X,Behavioral Health & Social Service Providers,Counselor,"
        "Addiction (Substance Use Disorder),,,Addiction Counselor,Individual\r\n"
    ).encode()
    reader = NuccTaxonomyReader(write(tmp_path, "nucc_taxonomy_251.csv", data))
    rows = read_all(reader).to_pylist()
    assert rows[0]["definition"] == "A provider who is trained,\nand educated."
    assert [row["line"] for row in rows] == [2, 4]
    assert rows[1]["definition"] == ""


def test_nucc_invalid_utf8_byte_names_the_line(
    tmp_path: Path, nucc_lines: list[bytes]
) -> None:
    # Line 4 starts "207K00000X,Allopathic & Osteopathic Physicians,Allergy":
    # the inserted byte is the 55th.
    bad = nucc_lines[3].replace(b"Allergy", b"Allergy\xff", 1)
    path = write(tmp_path, "nucc_taxonomy_251.csv", b"".join(nucc_lines[:3]) + bad)
    with pytest.raises(SourceFileError) as caught:
        read_all(NuccTaxonomyReader(path))
    assert caught.value.line == 4
    assert str(caught.value) == (
        f"{path}, line 4: byte 55 of the line is not valid utf-8 (b'\\xff & ')\n"
        "Hint: save the file as utf-8, as the publisher ships it"
    )


def test_nucc_file_cut_inside_a_quoted_field_rejects_the_last_row(
    tmp_path: Path, nucc_lines: list[bytes]
) -> None:
    # The real line 4 cut in its quoted Definition, as an interrupted download.
    cut = nucc_lines[3][:150]
    path = write(tmp_path, "nucc_taxonomy_251.csv", b"".join(nucc_lines[:3]) + cut)
    reader = NuccTaxonomyReader(path)
    table = read_all(reader)
    assert table.column("code").to_pylist() == ["193200000X", "193400000X"]
    assert reader.stats.rows_read == 3
    [reject] = reader.stats.rejects
    assert (reject.line, reject.reason) == (4, TRUNCATED)
    assert reject.raw == cut.decode()


def test_nucc_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nucc_taxonomy_251.csv"
    expected = (
        f"{path}: file not found\n"
        "Hint: pass the path of the NUCC taxonomy CSV (nucc_taxonomy_NNN.csv)"
    )
    with pytest.raises(MissingSourceError) as caught:
        read_all(NuccTaxonomyReader(path))
    assert str(caught.value) == expected
    with pytest.raises(MissingSourceError) as caught:
        NuccTaxonomyReader(path).provenance()
    assert str(caught.value) == expected


# Place of service: the real file.


def test_pos_reads_every_place(places: dict[str, dict[str, object]]) -> None:
    assert len(places) == 52
    assert sum(bool(row["facility"]) for row in places.values()) == 18


@pytest.mark.parametrize(
    ("code", "name", "pos_type", "facility"),
    [
        ("11", "Office", "Non-Facility", False),
        ("22", "On Campus-Outpatient Hospital", "Facility", True),
        ("01", "Pharmacy", "Non-Facility", False),
        ("99", "Other Place of Service", "Non-Facility", False),
    ],
)
def test_pos_known_places(
    places: dict[str, dict[str, object]],
    code: str,
    name: str,
    pos_type: str,
    facility: bool,
) -> None:
    row = places[code]
    assert (row["name"], row["pos_type"], row["facility"]) == (name, pos_type, facility)


def test_pos_name_keeps_its_typographic_apostrophe(
    places: dict[str, dict[str, object]],
) -> None:
    assert (
        places["02"]["name"] == "Telehealth Provided Other than in Patient\u2019s Home"
    )
    assert places["02"]["facility"] is True
    assert places["10"]["name"] == "Telehealth Provided in Patient\u2019s Home"


def test_pos_provenance_is_unversioned_unless_the_caller_names_it(
    pos_file: Path,
) -> None:
    plain = PlaceOfServiceReader(pos_file).provenance()
    assert plain.publisher == "Centers for Medicare & Medicaid Services"
    assert (plain.release, plain.as_of) == ("unversioned", None)
    assert plain.sha256 == sha256_of(pos_file)
    named = PlaceOfServiceReader(
        pos_file, release="2025-10", as_of=date(2025, 10, 1)
    ).provenance()
    assert (named.release, named.as_of) == ("2025-10", date(2025, 10, 1))


# Place of service: broken copies.


def test_pos_wrong_header_names_file_line_and_expected_header(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "pos.csv", b"code,type,name,description\n11,x,y,z\n")
    with pytest.raises(SourceFileError) as caught:
        read_all(PlaceOfServiceReader(path))
    assert str(caught.value) == (
        f"{path}, line 1: the header is 'code,type,name,description'; "
        f"expected {POS_HEADER}\n"
        f"Hint: pass a place of service CSV with the columns {POS_HEADER}"
    )


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("111,Facility,A,B", "place of service code '111' is not one or two digits"),
        ("1A,Facility,A,B", "place of service code '1A' is not one or two digits"),
        (
            "12,facility,A,B",
            "pos_type 'facility' is neither 'Facility' nor 'Non-Facility'",
        ),
        ("12,,A,B", "pos_type '' is neither 'Facility' nor 'Non-Facility'"),
        ("12,Facility,A", "expected 4 columns, found 3"),
        ("11,Facility,Office again,B", "place of service 11 repeats line 2"),
    ],
)
def test_pos_bad_row_is_rejected_and_the_rest_loads(
    tmp_path: Path, row: str, reason: str
) -> None:
    data = (
        f"{POS_HEADER}\n11,Non-Facility,Office,Doctor's office\n{row}\n"
        "21,Facility,Inpatient Hospital,Stay\n"
    )
    reader = PlaceOfServiceReader(write(tmp_path, "pos.csv", data.encode()))
    table = read_all(reader)
    assert table.column("pos_code").to_pylist() == ["11", "21"]
    assert [(r.line, r.reason, r.raw) for r in reader.stats.rejects] == [
        (3, reason, row)
    ]
    assert reader.stats.rows_read == 3


def test_pos_file_cut_inside_a_quoted_field_rejects_the_last_row(
    tmp_path: Path, pos_file: Path
) -> None:
    lines = pos_file.read_bytes().splitlines(keepends=True)
    cut = lines[4][:60]
    reader = PlaceOfServiceReader(write(tmp_path, "pos.csv", b"".join(lines[:4]) + cut))
    table = read_all(reader)
    assert table.column("pos_code").to_pylist() == ["01", "02", "03"]
    assert [(r.line, r.reason, r.raw) for r in reader.stats.rejects] == [
        (5, TRUNCATED, cut.decode())
    ]


def test_pos_single_digit_code_is_zero_padded(tmp_path: Path) -> None:
    data = f"{POS_HEADER}\n1,Non-Facility,Pharmacy,Drugs\n".encode()
    rows = read_all(PlaceOfServiceReader(write(tmp_path, "pos.csv", data))).to_pylist()
    assert [row["pos_code"] for row in rows] == ["01"]


def test_pos_invalid_utf8_byte_names_the_line(tmp_path: Path) -> None:
    data = f"{POS_HEADER}\n11,Non-Facility,Office,x\n12,Non-Facility,Home,".encode()
    # A Windows-1252 apostrophe, the 29th byte of "12,Non-Facility,Home,Patient\x92s".
    path = write(tmp_path, "pos.csv", data + b"Patient\x92s home\n")
    with pytest.raises(SourceFileError) as caught:
        read_all(PlaceOfServiceReader(path))
    assert str(caught.value) == (
        f"{path}, line 3: byte 29 of the line is not valid utf-8 (b'\\x92s h')\n"
        "Hint: save the file as utf-8, as the publisher ships it"
    )


def test_pos_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "place_of_service.csv"
    with pytest.raises(MissingSourceError) as caught:
        read_all(PlaceOfServiceReader(path))
    assert str(caught.value) == (
        f"{path}: file not found\n"
        "Hint: pass the path of the place of service CSV (place_of_service.csv)"
    )


# ICD-10-CM: the release simple-icd-10-cm ships (April 1, 2026 tabular).


def test_icd10cm_reads_every_category_and_subcategory(
    icd_rows: list[dict[str, object]],
) -> None:
    # 46,881 diag elements in the XML plus 51,305 codes made with a 7th character.
    assert len(icd_rows) == 98186
    assert sum(row["kind"] == "category" for row in icd_rows) == 1918
    # The CDC's FY2026 code files list 74,719 billable codes.
    assert sum(bool(row["billable"]) for row in icd_rows) == 74719


def test_icd10cm_known_codes(icd: dict[str, dict[str, object]]) -> None:
    assert icd["E11.9"] == {
        "code": "E11.9",
        "description": "Type 2 diabetes mellitus without complications",
        "billable": True,
        "kind": "subcategory",
        "chapter": "4",
        "chapter_title": "Endocrine, nutritional and metabolic diseases (E00-E89)",
        "block": "E08-E13",
        "parent": "E11",
    }
    assert icd["E11"]["billable"] is False
    assert icd["E11"]["kind"] == "category"
    assert icd["E11"]["parent"] is None
    assert icd["E11.6"]["billable"] is False


def test_icd10cm_seventh_character_codes(icd: dict[str, dict[str, object]]) -> None:
    assert icd["S72.001"]["billable"] is False
    assert icd["S72.001A"]["description"] == (
        "Fracture of unspecified part of neck of right femur, "
        "initial encounter for closed fracture"
    )
    assert icd["S72.001A"]["parent"] == "S72.001"
    assert icd["S72.001A"]["chapter"] == "19"
    # Placeholder X pads a short stem: T78.2 (anaphylactic shock) becomes T78.2XXA.
    assert icd["T78.2XXA"]["billable"] is True
    # The S06 note rules out D and S after a 6th character 7 or 8.
    assert icd["S06.1X7A"]["billable"] is True
    assert "S06.1X7D" not in icd
    assert "S06.1X8S" not in icd
    assert icd["S06.1X1D"]["billable"] is True


def test_icd10cm_seventh_character_table_note_stays_out_of_the_title(
    icd: dict[str, dict[str, object]],
) -> None:
    # The H34.81 table carries "Old central retinal vein occlusion" as a note
    # under character 2; the CDC title ends at "stable".
    assert icd["H34.8112"]["description"] == (
        "Central retinal vein occlusion, right eye, stable"
    )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_icd10cm_matches_the_package_api(icd: dict[str, dict[str, object]]) -> None:
    import simple_icd_10_cm as cm

    theirs = {c for c in cm.get_all_codes() if cm.is_category_or_subcategory(c)}
    assert theirs == icd.keys()
    assert {c for c in theirs if cm.is_leaf(c)} == {
        code for code, row in icd.items() if row["billable"]
    }
    assert cm.get_description("E11.9") == icd["E11.9"]["description"]


def test_icd10cm_provenance_names_the_package_release() -> None:
    reader = Icd10CmReader()
    provenance = reader.provenance()
    version = metadata.version("simple_icd_10_cm")
    assert provenance.kind == "icd10cm"
    assert provenance.file_name == "icd10c-tabular-April-1-2026.xml"
    assert provenance.publisher == "Centers for Disease Control and Prevention (NCHS)"
    assert provenance.release == "FY2026 April update"
    assert provenance.as_of == date(2026, 4, 1)
    assert provenance.notice == (
        "ICD-10-CM is a US government work (CDC/NCHS), read through the "
        f"simple-icd-10-cm package version {version}"
    )
    assert reader.path == packaged_tabular()[0]


@pytest.mark.parametrize(
    ("version", "file_name", "release", "as_of"),
    [
        ("2026", "icd10cm-tabular-2026.xml", "FY2026", date(2025, 10, 1)),
        (
            "2025",
            "icd10cm-tabular-April-2025.xml",
            "FY2025 April update",
            date(2025, 4, 1),
        ),
        (
            "2026",
            "icd10c-tabular-April-1-2026.xml",
            "FY2026 April update",
            date(2026, 4, 1),
        ),
        (None, "icd10cm-tabular-2026.xml", "unknown", None),
        ("draft", "icd10cm-tabular-2026.xml", "unknown", None),
    ],
)
def test_icd10cm_release_from_version_and_file_name(
    version: str | None, file_name: str, release: str, as_of: date | None
) -> None:
    assert icd10cm_release(version, file_name) == (release, as_of)


# ICD-10-CM: a tabular file given by path, in the CDC's format.

SMALL_TABULAR = """<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.tabular>
  <version>2025</version>
  <introduction><introSection type="title"><title>T</title></introSection></introduction>
  <chapter>
    <name>4</name>
    <desc>Endocrine, nutritional and metabolic diseases (E00-E89)</desc>
    <sectionIndex>
      <sectionRef first="E08" last="E13" id="E08-E13">Diabetes mellitus</sectionRef>
    </sectionIndex>
    <section id="E08-E13">
      <desc>Diabetes mellitus (E08-E13)</desc>
      <diag>
        <name>E11</name>
        <desc>Type 2 diabetes mellitus</desc>
        <diag>
          <name>E11.9</name>
          <desc>Type 2 diabetes mellitus without complications</desc>
        </diag>
      </diag>
    </section>
  </chapter>
  <chapter>
    <name>19</name>
    <desc>Injury, poisoning and certain other consequences of external causes (S00-T88)</desc>
    <section id="S00-S09">
      <desc>Injuries to the head (S00-S09)</desc>
      <diag>
        <name>S06</name>
        <desc>Intracranial injury</desc>
        <sevenChrDef>
          <extension char="A">initial encounter</extension>
          <extension char="S">sequela</extension>
        </sevenChrDef>
        <diag>
          <name>S06.1</name>
          <desc>Traumatic cerebral edema</desc>
          <diag>
            <name>S06.1X7</name>
            <desc>Traumatic cerebral edema with death</desc>
          </diag>
        </diag>
        <diag>
          <name>S06.9</name>
          <desc>Unspecified intracranial injury</desc>
          <sevenChrDef>
            <extension char="D">subsequent encounter</extension>
            <note>follow-up</note>
          </sevenChrDef>
        </diag>
      </diag>
    </section>
  </chapter>
</ICD10CM.tabular>
"""


def test_icd10cm_reads_a_tabular_file_given_by_path(tmp_path: Path) -> None:
    path = write(tmp_path, "icd10cm-tabular-2025.xml", SMALL_TABULAR.encode())
    reader = Icd10CmReader(path)
    rows = read_all(reader).to_pylist()
    assert [(r["code"], r["billable"], r["parent"]) for r in rows] == [
        ("E11", False, None),
        ("E11.9", True, "E11"),
        ("S06", False, None),
        ("S06.1", False, "S06"),
        ("S06.1X7", False, "S06.1"),
        ("S06.1X7A", True, "S06.1X7"),
        ("S06.9", False, "S06"),
        ("S06.9XXD", True, "S06.9"),
    ]
    assert rows[-1]["description"] == (
        "Unspecified intracranial injury, subsequent encounter"
    )
    assert rows[-1]["block"] == "S00-S09"
    assert reader.stats.rows_read == 8
    provenance = reader.provenance()
    assert (provenance.release, provenance.as_of) == ("FY2025", date(2024, 10, 1))
    assert provenance.notice == "ICD-10-CM is a US government work (CDC/NCHS)"


def test_icd10cm_reads_the_tabular_inside_a_cdc_zip(tmp_path: Path) -> None:
    path = tmp_path / "icd10cm-table-index-April-2025.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("icd10cm-index-April-2025.xml", "<ICD10CM.index/>")
        archive.writestr("icd10cm-tabular-April-2025.xml", SMALL_TABULAR)
    reader = Icd10CmReader(path)
    assert read_all(reader).num_rows == 8
    assert reader.provenance().release == "FY2025 April update"


def test_icd10cm_truncated_xml_names_the_parser_position(tmp_path: Path) -> None:
    # The packaged file cut at 300,000 bytes: expat stops at the end of the
    # data, line 8566 (8,565 line breaks before it), column 7.
    data = packaged_tabular()[0].read_bytes()[:300_000]
    path = write(tmp_path, "icd10cm-tabular-2026.xml", data)
    with pytest.raises(SourceFileError) as caught:
        read_all(Icd10CmReader(path))
    assert caught.value.line == 8566
    assert str(caught.value) == (
        f"{path}, line 8566: the XML is not well formed at column 7: "
        "no element found\n"
        "Hint: download the file again; it may be truncated or edited"
    )


def test_icd10cm_damaged_xml_names_the_parser_position(tmp_path: Path) -> None:
    # Expat reports the mismatched end tag on line 17 at column 23 (counted
    # from 0), the name after "</".
    damaged = SMALL_TABULAR.replace("<name>E11.9</name>", "<name>E11.9</nam>")
    path = write(tmp_path, "icd10cm-tabular-2025.xml", damaged.encode())
    with pytest.raises(SourceFileError) as caught:
        read_all(Icd10CmReader(path))
    assert str(caught.value) == (
        f"{path}, line 17: the XML is not well formed at column 23: "
        "mismatched tag\n"
        "Hint: download the file again; it may be truncated or edited"
    )


def test_icd10cm_other_xml_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "icd10cm-tabular-2025.xml", b"<ICD10CM.index/>")
    with pytest.raises(SourceFileError) as caught:
        read_all(Icd10CmReader(path))
    assert str(caught.value) == (
        f"{path}: the XML holds <ICD10CM.index>, not the <ICD10CM.tabular> of an "
        "ICD-10-CM tabular list\n"
        "Hint: pass the tabular XML from the CDC's ICD-10-CM files page"
    )


def test_icd10cm_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "icd10cm-tabular-2026.xml"
    with pytest.raises(MissingSourceError) as caught:
        Icd10CmReader(path).provenance()
    assert str(caught.value) == (
        f"{path}: file not found\n"
        "Hint: pass the path of the ICD-10-CM tabular XML (icd10cm-tabular-YYYY.xml)"
    )
