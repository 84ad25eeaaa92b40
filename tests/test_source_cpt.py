"""The CPT descriptor reader on placeholder files in the AMA's layouts.

Every descriptor here is invented ("Test descriptor for 99213"); payerbrief
never ships AMA text.
"""

import shutil
from datetime import date
from pathlib import Path

import pytest

from payerbrief.errors import MissingSourceError, SourceFileError
from payerbrief.sources.base import read_all
from payerbrief.sources.cpt import CptDescriptorReader, descriptor_set
from payerbrief.store.warehouse import Warehouse

DATA = Path(__file__).parent / "data" / "cpt"
FORMAT_HINT = (
    "pass one of the AMA's CPT data files (LONGULT.txt, MEDU.txt, SHORTU.txt, "
    "ConsumerDescriptor.txt, ClinicianDescriptor.txt) as the AMA ships it, or a "
    "CSV whose header row is code,descriptor"
)
CODES = ["99213", "99214", "0042T", "3372F"]


def rows_of(reader: CptDescriptorReader) -> list[tuple[str, str, str, int]]:
    return [
        (row["code"], row["descriptor"], row["descriptor_kind"], row["line"])
        for row in read_all(reader).to_pylist()
    ]


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_bytes("".join(line + "\r\n" for line in lines).encode())
    return path


def fixture_lines(name: str) -> list[str]:
    return (DATA / name).read_text().splitlines()


# Each format


@pytest.mark.parametrize(
    ("name", "kind", "layout", "descriptor", "first_line"),
    [
        ("LONGULT.txt", "long", "tab", "Test descriptor for {}", 4),
        ("MEDU.txt", "medium", "fixed", "TEST MEDIUM DESCRIPTOR FOR {}", 4),
        ("SHORTU.txt", "short", "fixed", "TEST SHORT {}", 4),
        (
            "ConsumerDescriptor.txt",
            "consumer",
            "headed",
            "Test consumer descriptor for {}",
            2,
        ),
    ],
)
def test_reads_each_ama_format(
    name: str, kind: str, layout: str, descriptor: str, first_line: int
) -> None:
    reader = CptDescriptorReader(DATA / name)
    assert reader.layout().name == layout
    expected = [
        (code, descriptor.format(code), kind, first_line + offset)
        for offset, code in enumerate(CODES)
    ]
    assert rows_of(reader) == expected
    assert reader.stats.rows_read == 4
    assert reader.stats.rejects == []


def test_clinician_descriptors_are_many_per_code() -> None:
    reader = CptDescriptorReader(DATA / "ClinicianDescriptor.txt")
    assert rows_of(reader) == [
        ("99213", "Test clinician descriptor one for 99213", "clinician", 2),
        ("99213", "Test clinician descriptor two for 99213", "clinician", 3),
        ("99214", "Test clinician descriptor for 99214", "clinician", 4),
    ]


def test_reads_a_code_descriptor_csv() -> None:
    reader = CptDescriptorReader(DATA / "descriptors.csv")
    assert rows_of(reader) == [
        ("99213", "Test descriptor for 99213, with a comma", "long", 2),
        ("0042T", "Test descriptor for 0042T", "long", 3),
    ]


def test_a_csv_of_short_descriptors_by_argument() -> None:
    reader = CptDescriptorReader(DATA / "descriptors.csv", descriptor_kind="short")
    assert {row[2] for row in rows_of(reader)} == {"short"}


def test_a_utf8_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "LONGULT.txt"
    path.write_bytes(b"\xef\xbb\xbf" + (DATA / "LONGULT.txt").read_bytes())
    assert rows_of(CptDescriptorReader(path))[0][0] == "99213"


# Provenance: the descriptor set a brief cites


def test_provenance_names_the_descriptor_set_from_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "CPT 2026 Data Files" / "standard"
    folder.mkdir(parents=True)
    path = Path(shutil.copy(DATA / "LONGULT.txt", folder))
    provenance = CptDescriptorReader(path).provenance()
    assert provenance.kind == "cpt-descriptors"
    assert provenance.release == "AMA CPT 2026 long descriptors (user-supplied licence)"
    assert provenance.as_of == date(2026, 1, 1)
    assert (
        provenance.publisher
        == "American Medical Association (file supplied by the user)"
    )
    assert provenance.notice == (
        "CPT descriptors from a file the user supplied under their own licence "
        "from the American Medical Association; payerbrief ships none.\n"
        "PLACEHOLDER NOTICE: written by payerbrief's tests in the layout of the\n"
        "AMA's CPT data files. It is not AMA text and holds no real descriptor."
    )


def test_provenance_takes_the_release_given() -> None:
    reader = CptDescriptorReader(
        DATA / "MEDU.txt", release="AMA CPT 2025 medium descriptors (clinic licence)"
    )
    provenance = reader.provenance()
    assert provenance.release == "AMA CPT 2025 medium descriptors (clinic licence)"
    assert provenance.as_of == date(2025, 1, 1)


def test_provenance_without_a_year() -> None:
    provenance = CptDescriptorReader(DATA / "SHORTU.txt").provenance()
    assert provenance.release == descriptor_set("short", None)
    assert provenance.release == (
        "AMA CPT (year not named) short descriptors (user-supplied licence)"
    )
    assert provenance.as_of is None


def test_the_manifest_records_the_load(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "home") as warehouse:
        entry = warehouse.load(
            CptDescriptorReader(DATA / "ConsumerDescriptor.txt")
        ).entry
        rows = warehouse.rows("SELECT code FROM cpt_descriptor ORDER BY line")
    assert (entry.rows_read, entry.rows_loaded, entry.rows_rejected) == (4, 4, 0)
    assert [row["code"] for row in rows] == CODES


# Bad lines are rejected with a reason


@pytest.mark.parametrize(
    ("name", "line", "text", "reason"),
    [
        (
            "LONGULT.txt",
            5,
            "9921\tTest descriptor for 9921",
            "'9921' is not a CPT code",
        ),
        (
            "LONGULT.txt",
            5,
            "G0439\tTest descriptor for G0439",
            "'G0439' is not a CPT code",
        ),
        ("LONGULT.txt", 5, "99214\t ", "the descriptor of 99214 is empty"),
        (
            "LONGULT.txt",
            5,
            "99214 no tab",
            "expected the code, a tab and the descriptor",
        ),
        ("LONGULT.txt", 5, "99213\tTest descriptor again", "code 99213 repeats line 4"),
        (
            "MEDU.txt",
            5,
            "99214TEST MEDIUM",
            "expected the code in positions 1-5, a space, then the descriptor",
        ),
        (
            "ConsumerDescriptor.txt",
            3,
            "1000002\t99214",
            "expected 3 tab-separated columns, found 2",
        ),
        (
            "descriptors.csv",
            3,
            "0042T,Test descriptor,extra",
            "expected 2 comma-separated columns, found 3",
        ),
    ],
    ids=[
        "short-code",
        "hcpcs-code",
        "empty-descriptor",
        "no-tab",
        "repeated-code",
        "fixed-no-space",
        "headed-columns",
        "csv-columns",
    ],
)
def test_a_bad_line_is_rejected(
    tmp_path: Path, name: str, line: int, text: str, reason: str
) -> None:
    lines = fixture_lines(name)
    lines[line - 1] = text
    reader = CptDescriptorReader(write(tmp_path, name, lines))
    rows = rows_of(reader)
    assert line not in [row[3] for row in rows]
    assert reader.stats.rows_read == len(rows) + 1
    assert [(r.line, r.reason, r.raw) for r in reader.stats.rejects] == [
        (line, reason, text)
    ]


def test_a_csv_cut_inside_a_quoted_value(tmp_path: Path) -> None:
    path = tmp_path / "descriptors.csv"
    path.write_bytes(b'code,descriptor\r\n99213,"Test descriptor for')
    reader = CptDescriptorReader(path)
    assert rows_of(reader) == []
    assert [(r.line, r.reason) for r in reader.stats.rejects] == [
        (2, "the file ends inside a quoted field of this row")
    ]


# Files that are not CPT descriptors


@pytest.mark.parametrize(
    "content",
    [
        "",
        "\r\n\r\n",
        '"NPI","Entity Type Code"\r\n"1234567893","1"\r\n',
        "HCPC,SEQNUM,RECID\r\nA0021,00100,3\r\n",
    ],
    ids=["empty", "blank", "nppes", "hcpcs"],
)
@pytest.mark.parametrize("method", ["provenance", "batches"])
def test_a_file_of_another_format(tmp_path: Path, content: str, method: str) -> None:
    path = tmp_path / "LONGULT.txt"
    path.write_text(content)
    reader = CptDescriptorReader(path)
    with pytest.raises(SourceFileError) as caught:
        reader.provenance() if method == "provenance" else read_all(reader)
    assert str(caught.value) == (
        f"{path}: no line among the first 60 that are not blank reads as CPT "
        "descriptors (a code and a tab, a code and a space, a header row naming "
        f"CPT Code, or the CSV header code,descriptor)\nHint: {FORMAT_HINT}"
    )


def test_a_fixed_layout_file_whose_name_tells_no_length(tmp_path: Path) -> None:
    path = write(tmp_path, "descriptors.txt", fixture_lines("MEDU.txt"))
    with pytest.raises(SourceFileError) as caught:
        read_all(CptDescriptorReader(path))
    assert str(caught.value) == (
        f"{path}: the lines hold a code and a descriptor after a space, the layout "
        "of both MEDU.txt and SHORTU.txt, and the file name tells neither\n"
        "Hint: keep the AMA's file name (MEDU.txt or SHORTU.txt), or pass "
        "descriptor_kind 'medium' or 'short'"
    )
    reader = CptDescriptorReader(path, descriptor_kind="medium")
    assert len(rows_of(reader)) == 4


def test_a_kind_the_header_contradicts() -> None:
    path = DATA / "ClinicianDescriptor.txt"
    with pytest.raises(SourceFileError) as caught:
        read_all(CptDescriptorReader(path, descriptor_kind="consumer"))
    assert str(caught.value) == (
        f"{path}, line 1: the file holds clinician descriptors, not consumer ones\n"
        "Hint: pass descriptor_kind 'clinician', or leave it out"
    )


def test_a_header_without_a_descriptor_column(tmp_path: Path) -> None:
    path = write(tmp_path, "ConsumerDescriptor.txt", ["Concept Id\tCPT Code\tText"])
    with pytest.raises(SourceFileError) as caught:
        read_all(CptDescriptorReader(path))
    assert str(caught.value) == (
        f"{path}, line 1: the header row names no descriptor column: "
        f"'Concept Id\\tCPT Code\\tText'\nHint: {FORMAT_HINT}"
    )


def test_an_unknown_descriptor_kind() -> None:
    with pytest.raises(ValueError, match="descriptor_kind 'lay' is not one of"):
        CptDescriptorReader(DATA / "LONGULT.txt", descriptor_kind="lay")


def test_bad_encoding_names_the_line(tmp_path: Path) -> None:
    data = (DATA / "LONGULT.txt").read_bytes().replace(b"for 99214", b"for \xff9214")
    path = tmp_path / "LONGULT.txt"
    path.write_bytes(data)
    with pytest.raises(SourceFileError) as caught:
        read_all(CptDescriptorReader(path))
    assert caught.value.line == 5
    assert str(caught.value) == (
        f"{path}, line 5: byte 27 of the line is not valid utf-8 (b'\\xff921')\n"
        "Hint: save the file as utf-8, as the publisher ships it"
    )


def test_a_windows_1252_file_by_argument(tmp_path: Path) -> None:
    path = tmp_path / "LONGULT.txt"
    text = (
        (DATA / "LONGULT.txt").read_text().replace("for 99214", "for 99214 \u2013 test")
    )
    path.write_bytes(text.encode("cp1252"))
    rows = rows_of(CptDescriptorReader(path, encoding="cp1252"))
    assert rows[1][1] == "Test descriptor for 99214 \u2013 test"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "LONGULT.txt"
    with pytest.raises(MissingSourceError) as caught:
        read_all(CptDescriptorReader(path))
    assert str(caught.value) == (
        f"{path}: file not found\nHint: pass the path of a CPT descriptor file "
        "(LONGULT.txt, MEDU.txt, SHORTU.txt, a descriptor CSV)"
    )
