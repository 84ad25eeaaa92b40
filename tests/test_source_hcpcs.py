import zipfile
from datetime import date
from pathlib import Path

import pytest

from payerbrief.errors import SourceFileError
from payerbrief.sources.base import Reject, read_all, sha256_of
from payerbrief.sources.hcpcs import HcpcsCodeReader, HcpcsModifierReader

ZIP_NAME = "2020-Alpha-Numeric-HCPCS-File.zip"
MEMBER = "HCPC2020_ANWEB_w_disclaimer.txt"

NOTICE = (
    "Note regarding coverage and payment indicators for codes in CMS\u2019 2020 "
    "HCPCS Update and DMEPOS Fee Schedule Files\n\n"
    "If specific Medicare coverage or payment indicators or values have not been "
    "established for any new HCPCS codes, this may be because a national Medicare "
    "coverage determination and/or fee schedule amounts have not yet been "
    "established for these items. This is neither an indicator of Medicare "
    "coverage or non-coverage. In these cases, until national Medicare coverage "
    "and payment guidelines have been established for these codes, the Medicare "
    "coverage and payment determinations for these items may be made based on the "
    "discretion of the Medicare contractors processing claims for these items."
)

WRONG_LAYOUT = (
    "no HCPCS record in the first 50 lines; expected the CMS alpha-numeric HCPCS "
    "layout of 320-character records with a record identification code 3, 4, 7 "
    "or 8 in position 11\nHint: pass the CMS ZIP (2020-Alpha-Numeric-HCPCS-File.zip)"
    " or the HCPC<year>_ANWEB .txt file inside it"
)


@pytest.fixture(scope="module")
def hcpcs_zip(shared_data: Path) -> Path:
    return shared_data / "hcpcs" / ZIP_NAME


@pytest.fixture(scope="module")
def real_lines(hcpcs_zip: Path) -> list[bytes]:
    """The lines of the real ANWEB file, with their CRLF endings."""
    with zipfile.ZipFile(hcpcs_zip) as archive:
        return archive.read(MEMBER).splitlines(keepends=True)


@pytest.fixture(scope="module")
def codes(hcpcs_zip: Path) -> dict[str, dict[str, object]]:
    reader = HcpcsCodeReader(hcpcs_zip)
    table = read_all(reader)
    assert reader.stats.rejects == []
    assert reader.stats.rows_read == table.num_rows
    return {row["hcpcs"]: row for row in table.to_pylist()}


@pytest.fixture(scope="module")
def modifiers(hcpcs_zip: Path) -> dict[str, dict[str, object]]:
    reader = HcpcsModifierReader(hcpcs_zip)
    table = read_all(reader)
    assert reader.stats.rejects == []
    assert reader.stats.rows_read == table.num_rows
    return {row["modifier"]: row for row in table.to_pylist()}


# The real 2020 file.


def test_real_file_has_every_procedure_code(
    codes: dict[str, dict[str, object]],
) -> None:
    # Counted independently: 6,710 lines carry RECID 3 in position 11
    # (`cut -c11 | sort | uniq -c` on the ANWEB file), none of them repeated.
    assert len(codes) == 6710


def test_real_file_has_every_modifier(modifiers: dict[str, dict[str, object]]) -> None:
    # 369 lines carry RECID 7; CPT modifiers such as 25, 26 and 59 are not in it.
    assert len(modifiers) == 369
    assert {"LT", "RT", "GA", "XE", "XS", "XP", "XU", "TC"} <= modifiers.keys()
    assert not {"25", "26", "59"} & modifiers.keys()


def test_annual_wellness_visit_joins_its_continuation_line(
    codes: dict[str, dict[str, object]],
) -> None:
    assert codes["G0439"] == {
        "hcpcs": "G0439",
        "long_description": "Annual wellness visit, includes a personalized "
        "prevention plan of service (pps), subsequent visit",
        "short_description": "Ppps, subseq visit",
        "pricing_indicators": ["13"],
        "multiple_pricing": "A",
        "coverage_code": "C",
        "asc_group": None,
        "asc_group_effective_date": None,
        "betos": "M5D",
        "type_of_service": ["1"],
        "anesthesia_units": "0",
        "processing_note": None,
        "statute": None,
        "xref_codes": [],
        "lab_certifications": [],
        "cim_references": [],
        "mcm_references": [],
        "add_date": date(2011, 1, 1),
        "action_effective_date": date(2011, 1, 1),
        "termination_date": None,
        "action_code": "N",
        "line": 3529,
    }


def test_cpap_device(codes: dict[str, dict[str, object]]) -> None:
    cpap = codes["E0601"]
    assert cpap["long_description"] == (
        "Continuous positive airway pressure (cpap) device"
    )
    assert cpap["short_description"] == "Cont airway pressure device"
    assert cpap["pricing_indicators"] == ["36"]
    assert cpap["coverage_code"] == "D"
    assert cpap["cim_references"] == ["60-17"]
    assert cpap["betos"] == "D1E"
    assert cpap["type_of_service"] == ["R"]
    assert cpap["add_date"] == date(1988, 1, 1)
    assert cpap["action_effective_date"] == date(2014, 1, 1)
    assert cpap["line"] == 2366


@pytest.mark.parametrize(
    ("code", "description", "betos", "type_of_service"),
    [
        ("J9271", "Injection, pembrolizumab, 1 mg", "O1D", ["1", "P"]),
        ("J0171", "Injection, adrenalin, epinephrine, 0.1 mg", "O1E", ["1", "P"]),
        (
            "J1100",
            "Injection, dexamethasone sodium phosphate, 1 mg",
            "O1E",
            ["1", "P"],
        ),
        ("A0425", "Ground mileage, per statute mile", "O1A", ["D"]),
    ],
)
def test_drug_and_ambulance_codes(
    codes: dict[str, dict[str, object]],
    code: str,
    description: str,
    betos: str,
    type_of_service: list[str],
) -> None:
    assert codes[code]["long_description"] == description
    assert codes[code]["betos"] == betos
    assert codes[code]["type_of_service"] == type_of_service


def test_seventeen_line_description_joins_in_order_with_single_spaces(
    codes: dict[str, dict[str, object]],
) -> None:
    text = codes["G0503"]["long_description"]
    assert isinstance(text, str)
    assert text.startswith(
        "Subsequent psychiatric collaborative care management, first 60 minutes in "
        "a subsequent month of behavioral health care manager activities,"
    )
    # The file has two spaces after some semicolons; they collapse to one.
    assert "appropriate documentation; participation in weekly caseload" in text
    assert text.endswith("are prepared for discharge from active treatment")
    assert "  " not in text
    assert codes["G0503"]["xref_codes"] == ["99493"]


def test_repeating_fields_become_lists(codes: dict[str, dict[str, object]]) -> None:
    assert codes["G0124"]["pricing_indicators"] == ["11", "21"]
    assert codes["G0124"]["lab_certifications"] == ["630"]
    assert codes["G0124"]["processing_note"] == "0045"
    assert codes["G0432"]["lab_certifications"] == ["140", "220"]
    assert codes["E0970"]["xref_codes"] == ["K0037", "K0042"]
    assert codes["E0970"]["type_of_service"] == ["A", "P", "R"]
    assert codes["A4216"]["mcm_references"] == ["2049"]


def test_discontinued_code_keeps_its_termination_date(
    codes: dict[str, dict[str, object]],
) -> None:
    assert codes["C9035"]["termination_date"] == date(2019, 9, 30)
    assert codes["C9035"]["action_code"] == "D"
    assert codes["C9035"]["statute"] == "1833(t)"


def test_asc_group(codes: dict[str, dict[str, object]]) -> None:
    assert codes["J9271"]["asc_group"] == "YY"
    assert codes["J9271"]["asc_group_effective_date"] == date(2016, 1, 1)


def test_modifiers_join_their_continuation_lines(
    modifiers: dict[str, dict[str, object]],
) -> None:
    assert modifiers["XE"] == {
        "modifier": "XE",
        "long_description": "Separate encounter, a service that is distinct "
        "because it occurred during a separate encounter",
        "short_description": "Separate encounter",
        "coverage_code": "C",
        "add_date": date(2015, 1, 1),
        "action_effective_date": date(2015, 1, 1),
        "termination_date": None,
        "action_code": "N",
        "line": 548,
    }
    assert modifiers["LT"]["long_description"] == (
        "Left side (used to identify procedures performed on the left side of the body)"
    )
    assert modifiers["GA"]["long_description"] == (
        "Waiver of liability statement issued as required by payer policy, "
        "individual case"
    )
    tc = modifiers["TC"]["long_description"]
    assert isinstance(tc, str)
    assert tc.startswith("Technical component; under certain circumstances")
    assert tc.endswith("used to build customary and prevailing profiles")


@pytest.mark.parametrize(
    ("reader", "kind"),
    [(HcpcsCodeReader, "hcpcs"), (HcpcsModifierReader, "hcpcs-modifier")],
)
def test_provenance_of_the_cms_zip(
    hcpcs_zip: Path, reader: type[HcpcsCodeReader], kind: str
) -> None:
    provenance = reader(hcpcs_zip).provenance()
    assert provenance.kind == kind
    assert provenance.file_name == ZIP_NAME
    assert provenance.sha256 == sha256_of(hcpcs_zip)
    assert provenance.publisher == "Centers for Medicare & Medicaid Services"
    assert provenance.release == "2020"
    assert provenance.as_of == date(2020, 1, 1)
    # The Windows-1252 quote (byte 0x92) decodes as U+2019.
    assert provenance.notice == NOTICE


def test_the_text_file_itself_reads_like_the_zip(
    tmp_path: Path, real_lines: list[bytes]
) -> None:
    path = tmp_path / MEMBER
    path.write_bytes(b"".join(real_lines))
    reader = HcpcsCodeReader(path)
    assert read_all(reader).num_rows == 6710
    assert read_all(HcpcsModifierReader(path)).num_rows == 369
    provenance = reader.provenance()
    assert (provenance.file_name, provenance.release) == (MEMBER, "2020")
    assert provenance.notice == NOTICE


def test_stats_start_afresh_on_each_read(hcpcs_zip: Path) -> None:
    reader = HcpcsModifierReader(hcpcs_zip)
    read_all(reader)
    read_all(reader)
    assert reader.stats.rows_read == 369


# Small files built from real records.

HEADER = slice(0, 9)  # the disclaimer and the blank lines after it
GA, GA_2, LT = 153, 154, 293  # GA's RECID 7 and RECID 8 lines, LT
E0601, G0439, G0439_2, J9271 = 2365, 3528, 3529, 8370


def sample(real_lines: list[bytes], *picks: int | bytes) -> bytes:
    """The real disclaimer, then real records by index (or literal lines)."""
    lines = real_lines[HEADER]
    for pick in picks:
        lines.append(real_lines[pick] if isinstance(pick, int) else pick + b"\r\n")
    return b"".join(lines)


def record(real_lines: list[bytes], index: int) -> bytes:
    return real_lines[index].rstrip(b"\r\n")


def read(path: Path) -> tuple[list[str], list[Reject], int, list[str], list[Reject]]:
    codes = HcpcsCodeReader(path)
    modifiers = HcpcsModifierReader(path)
    code_rows = read_all(codes).column("hcpcs").to_pylist()
    modifier_rows = read_all(modifiers).column("modifier").to_pylist()
    for reader, rows in ((codes, code_rows), (modifiers, modifier_rows)):
        assert reader.stats.rows_read == len(rows) + len(reader.stats.rejects)
    return (
        code_rows,
        codes.stats.rejects,
        codes.stats.rows_read,
        modifier_rows,
        modifiers.stats.rejects,
    )


@pytest.fixture
def anweb(tmp_path: Path) -> Path:
    return tmp_path / "HCPC2020_ANWEB_sample.txt"


def test_sample_reads_cleanly(anweb: Path, real_lines: list[bytes]) -> None:
    anweb.write_bytes(sample(real_lines, GA, GA_2, LT, E0601, G0439, G0439_2, J9271))
    assert read(anweb) == (["E0601", "G0439", "J9271"], [], 3, ["GA", "LT"], [])


def test_truncated_record_is_rejected_with_its_continuation(
    anweb: Path, real_lines: list[bytes]
) -> None:
    short = record(real_lines, G0439)[:120]
    anweb.write_bytes(sample(real_lines, E0601, short, G0439_2, J9271))
    codes, rejects, rows_read, _, _ = read(anweb)
    assert codes == ["E0601", "J9271"]
    assert rejects == [
        Reject(11, "record is 120 characters, expected 320", short.decode())
    ]
    assert rows_read == 3


def test_truncated_continuation_line_is_rejected(
    anweb: Path, real_lines: list[bytes]
) -> None:
    short = record(real_lines, G0439_2)[:50]
    anweb.write_bytes(sample(real_lines, G0439, short))
    codes, rejects, rows_read, _, _ = read(anweb)
    assert codes == ["G0439"]
    assert [(r.line, r.reason) for r in rejects] == [
        (11, "record is 50 characters, expected 91 to 320")
    ]
    assert rows_read == 2


@pytest.mark.parametrize(
    ("picks", "line", "reason"),
    [
        (
            (E0601, G0439_2, J9271),
            11,
            "continuation line for G0439 follows the procedure record for E0601",
        ),
        (
            (LT, G0439_2, J9271),
            11,
            "continuation line for G0439 does not follow a procedure record",
        ),
        (
            (G0439_2, J9271),
            10,
            "continuation line for G0439 does not follow a procedure record",
        ),
    ],
)
def test_orphan_continuation_line_is_rejected(
    anweb: Path,
    real_lines: list[bytes],
    picks: tuple[int, ...],
    line: int,
    reason: str,
) -> None:
    anweb.write_bytes(sample(real_lines, *picks))
    codes, rejects, _, _, _ = read(anweb)
    assert "J9271" in codes
    assert "G0439" not in codes
    assert [(r.line, r.reason) for r in rejects] == [(line, reason)]


def test_orphan_modifier_continuation_is_rejected(
    anweb: Path, real_lines: list[bytes]
) -> None:
    anweb.write_bytes(sample(real_lines, LT, GA_2, E0601))
    codes, code_rejects, _, modifiers, rejects = read(anweb)
    assert (codes, code_rejects, modifiers) == (["E0601"], [], ["LT"])
    assert [(r.line, r.reason) for r in rejects] == [
        (11, "continuation line for GA follows the modifier record for LT")
    ]


def with_field(line: bytes, start: int, value: bytes) -> bytes:
    """`line` with `value` written over it from 1-based position `start`."""
    return line[: start - 1] + value + line[start - 1 + len(value) :]


@pytest.mark.parametrize(
    ("start", "value", "reason"),
    [
        (
            277,
            b"20201301",
            "action effective date '20201301' (field 28, positions 277-284) "
            "is not a CCYYMMDD date",
        ),
        (
            269,
            b"2011O101",
            "code added date '2011O101' (field 27, positions 269-276) "
            "is not a CCYYMMDD date",
        ),
        (
            285,
            b"2019    ",
            "termination date '2019    ' (field 29, positions 285-292) "
            "is not a CCYYMMDD date",
        ),
        (
            6,
            b"00x00",
            "sequence number '00x00' (field 5, positions 6-10) is not a number",
        ),
    ],
)
def test_bad_field_rejects_the_code(
    anweb: Path, real_lines: list[bytes], start: int, value: bytes, reason: str
) -> None:
    bad = with_field(record(real_lines, G0439), start, value)
    anweb.write_bytes(sample(real_lines, E0601, bad, G0439_2, J9271))
    codes, rejects, rows_read, _, _ = read(anweb)
    assert codes == ["E0601", "J9271"]
    assert rejects == [Reject(11, reason, bad.decode())]
    assert rows_read == 3


@pytest.mark.parametrize(
    ("index", "code", "reason"),
    [
        (
            E0601,
            b"e0601",
            "'e0601' (field 1, positions 1-5) is not a HCPCS Level II code",
        ),
        (
            LT,
            b"ABCLT",
            "'ABCLT' (field 1, positions 1-5) is not a modifier "
            "(three blanks, two characters)",
        ),
    ],
)
def test_malformed_code_is_rejected(
    anweb: Path, real_lines: list[bytes], index: int, code: bytes, reason: str
) -> None:
    bad = with_field(record(real_lines, index), 1, code)
    anweb.write_bytes(sample(real_lines, bad, J9271))
    codes, code_rejects, _, _, modifier_rejects = read(anweb)
    assert codes == ["J9271"]
    assert code_rejects + modifier_rejects == [Reject(10, reason, bad.decode())]


def test_bad_modifier_date_is_rejected(anweb: Path, real_lines: list[bytes]) -> None:
    bad = with_field(record(real_lines, GA), 269, b"19951301")
    anweb.write_bytes(sample(real_lines, bad, GA_2, LT))
    _, _, _, modifiers, rejects = read(anweb)
    assert modifiers == ["LT"]
    assert [(r.line, r.reason) for r in rejects] == [
        (
            10,
            "code added date '19951301' (field 27, positions 269-276) "
            "is not a CCYYMMDD date",
        )
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            b" " * 10 + b"5" + b" " * 309,
            "unknown record identification code '5' in position 11 "
            "(expected 3, 4, 7 or 8)",
        ),
        (b"hello", "record is 5 characters, expected 320"),
    ],
)
def test_line_of_neither_kind_is_rejected_by_both_readers(
    anweb: Path, real_lines: list[bytes], line: bytes, reason: str
) -> None:
    anweb.write_bytes(sample(real_lines, LT, line, E0601))
    codes, code_rejects, _, modifiers, modifier_rejects = read(anweb)
    assert (codes, modifiers) == (["E0601"], ["LT"])
    expected = [Reject(11, reason, line.decode())]
    assert code_rejects == modifier_rejects == expected


def test_blank_lines_between_records_are_skipped(
    anweb: Path, real_lines: list[bytes]
) -> None:
    anweb.write_bytes(sample(real_lines, E0601, b"", G0439, G0439_2))
    assert read(anweb) == (["E0601", "G0439"], [], 2, [], [])


def test_file_without_disclaimer_has_no_notice(
    tmp_path: Path, real_lines: list[bytes]
) -> None:
    path = tmp_path / "HCPC2021_CONTR_ANWEB.txt"
    path.write_bytes(real_lines[E0601])
    provenance = HcpcsCodeReader(path).provenance()
    assert (provenance.release, provenance.as_of) == ("2021", date(2021, 1, 1))
    assert provenance.notice == ""


def test_release_comes_from_the_member_name_in_a_zip(
    tmp_path: Path, real_lines: list[bytes]
) -> None:
    path = tmp_path / "hcpcs.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("HCPC2021_ANWEB_w_disclaimer.txt", sample(real_lines, E0601))
        archive.writestr("HCPC2021_ANWEB_w_disclaimer.xls", b"not read")
    reader = HcpcsCodeReader(path)
    assert read_all(reader).column("hcpcs").to_pylist() == ["E0601"]
    provenance = reader.provenance()
    assert (provenance.file_name, provenance.release) == ("hcpcs.zip", "2021")
    assert provenance.notice == NOTICE


def test_file_name_without_a_year_has_no_release(
    tmp_path: Path, real_lines: list[bytes]
) -> None:
    path = tmp_path / "anweb.txt"
    path.write_bytes(sample(real_lines, E0601))
    with pytest.raises(SourceFileError) as caught:
        HcpcsCodeReader(path).provenance()
    assert str(caught.value) == (
        f"{path}: cannot tell the HCPCS release year from the file name\n"
        "Hint: keep the CMS file name, which carries the year "
        "(HCPC2020_ANWEB_w_disclaimer.txt or 2020-Alpha-Numeric-HCPCS-File.zip)"
    )


# Files that are not this layout at all.


@pytest.mark.parametrize("reader", [HcpcsCodeReader, HcpcsModifierReader])
def test_csv_is_not_the_hcpcs_layout(
    tmp_path: Path, reader: type[HcpcsCodeReader]
) -> None:
    path = tmp_path / "HCPC2020_ANWEB.csv"
    path.write_text("HCPC,SEQNUM,RECID,LONG DESCRIPTION\nG0439,00100,3,Annual\n")
    with pytest.raises(SourceFileError) as caught:
        read_all(reader(path))
    assert str(caught.value) == f"{path}: {WRONG_LAYOUT}"
    assert caught.value.line is None
    with pytest.raises(SourceFileError) as caught:
        reader(path).provenance()
    assert str(caught.value) == f"{path}: {WRONG_LAYOUT}"


def test_changes_report_from_the_same_zip_is_not_the_hcpcs_layout(
    tmp_path: Path, hcpcs_zip: Path
) -> None:
    path = tmp_path / "Changes_by_HCPC.prn"
    with zipfile.ZipFile(hcpcs_zip) as archive:
        path.write_bytes(archive.read("Changes_by_HCPC.prn"))
    with pytest.raises(SourceFileError) as caught:
        read_all(HcpcsCodeReader(path))
    assert str(caught.value) == f"{path}: {WRONG_LAYOUT}"


def test_empty_file_is_not_the_hcpcs_layout(tmp_path: Path) -> None:
    path = tmp_path / "HCPC2020_ANWEB.txt"
    path.write_bytes(b"")
    with pytest.raises(SourceFileError) as caught:
        read_all(HcpcsCodeReader(path))
    assert str(caught.value) == f"{path}: {WRONG_LAYOUT}"


def test_record_after_line_fifty_is_too_late(
    anweb: Path, real_lines: list[bytes]
) -> None:
    anweb.write_bytes(b"preamble\r\n" * 50 + real_lines[E0601])
    with pytest.raises(SourceFileError) as caught:
        read_all(HcpcsCodeReader(anweb))
    assert str(caught.value) == f"{anweb}: {WRONG_LAYOUT}"


def test_undecodable_byte_stops_the_read(anweb: Path, real_lines: list[bytes]) -> None:
    # 0x81 is one of the five bytes Windows-1252 leaves undefined.
    bad = with_field(record(real_lines, E0601), 12, b"\x81")
    anweb.write_bytes(sample(real_lines, G0439, G0439_2, bad))
    with pytest.raises(SourceFileError) as caught:
        read_all(HcpcsCodeReader(anweb))
    assert caught.value.line == 12
    assert str(caught.value) == (
        f"{anweb}, line 12: byte 12 of the line is not valid cp1252 "
        "(b'\\x81ont')\n"
        "Hint: save the file as cp1252, as the publisher ships it"
    )


def test_damaged_zip(tmp_path: Path, hcpcs_zip: Path) -> None:
    path = tmp_path / ZIP_NAME
    data = hcpcs_zip.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceFileError) as caught:
        read_all(HcpcsCodeReader(path))
    assert str(caught.value) == (
        f"{path}: the ZIP archive is damaged (File is not a zip file)\n"
        "Hint: download the file again; it may be truncated"
    )


def test_zip_without_anweb_text_file(tmp_path: Path, hcpcs_zip: Path) -> None:
    path = tmp_path / ZIP_NAME
    with (
        zipfile.ZipFile(hcpcs_zip) as real,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for name in ("HCPC2020_README.txt", "HCPC2020_ANWEB_w_disclaimer.xls"):
            archive.writestr(name, real.read(name))
    with pytest.raises(SourceFileError) as caught:
        HcpcsModifierReader(path).provenance()
    assert str(caught.value) == (
        f"{path}: the ZIP holds no file that could be the HCPCS ANWEB .txt file "
        "(it holds HCPC2020_README.txt, HCPC2020_ANWEB_w_disclaimer.xls)\n"
        "Hint: pass the HCPCS ANWEB .txt file itself, or a ZIP that holds exactly one"
    )
