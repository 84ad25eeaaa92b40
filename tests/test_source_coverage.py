"""The MCD article export reader, on a small export in CMS's layout and broken copies."""

import csv
import hashlib
import io
import shutil
import zipfile
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from payerbrief.errors import MissingSourceError, SourceFileError
from payerbrief.sources.base import read_all
from payerbrief.sources.coverage import (
    CoverageArticleReader,
    date_or_none,
    icd10cm_code,
    plain_text,
)
from payerbrief.sources.icd10cm import Icd10CmReader
from payerbrief.store.warehouse import Warehouse

MCD = Path(__file__).parent / "data" / "mcd"
CSV_FILES = sorted(p.name for p in MCD.glob("*.csv"))
HINT = (
    "pass the Medicare Coverage Database article export as CMS publishes it: "
    "current_article.zip or all_article.zip, or the folder of its CSV files"
)
COUNTS = {
    "mcd_article_code": 9,
    "mcd_article": 4,
    "mcd_icd10_covered": 11,
    "mcd_icd10_covered_group": 4,
    "mcd_icd10_noncovered": 3,
    "mcd_article_contractor": 5,
}
COVERED = "article_x_icd10_covered.csv"
COVERED_LAYOUT = (
    "article_id, article_version, icd10_code_id, icd10_code_version, "
    "icd10_covered_group, range, last_updated, sort_order, description, asterisk"
)

Tables = dict[str, list[dict[str, Any]]]


def read_tables(reader: CoverageArticleReader) -> Tables:
    """Every table the reader fills, checking each batch against its schema."""
    tables: Tables = {name: [] for name in reader.tables}
    for name, batch in reader.table_batches():
        assert batch.schema == reader.tables[name]
        tables[name].extend(batch.to_pylist())
    return tables


def lines_of(name: str) -> list[bytes]:
    return (MCD / name).read_bytes().splitlines(keepends=True)


def cells_of(line: bytes) -> list[str]:
    return next(csv.reader([line.decode().rstrip("\r\n")]))


def joined(cells: list[str]) -> bytes:
    """Cells written as CMS writes them: every field quoted."""
    return ",".join('"' + cell.replace('"', '""') + '"' for cell in cells).encode()


def with_line(lines: list[bytes], number: int, text: bytes) -> bytes:
    """The file with line `number` (1-based) replaced by `text` and CRLF."""
    return b"".join(lines[: number - 1] + [text + b"\r\n"] + lines[number:])


def export_folder(
    tmp_path: Path, changes: Mapping[str, bytes | None] | None = None
) -> Path:
    """A copy of the test export; `changes` replaces files (None removes one)."""
    folder = tmp_path / "current_article_csv"
    shutil.copytree(MCD, folder, ignore=shutil.ignore_patterns("*.md"))
    for name, data in (changes or {}).items():
        if data is None:
            (folder / name).unlink()
        else:
            (folder / name).write_bytes(data)
    return folder


def zip_of(folder: Path, path: Path) -> Path:
    """A ZIP of the folder's CSV files beside a readme."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("readme.txt", "MCD article export (test copy)\r\n")
        for csv_file in sorted(folder.glob("*.csv")):
            archive.write(csv_file, csv_file.name)
    return path


def nested_zip_of(folder: Path, path: Path) -> Path:
    """A ZIP laid out as CMS ships current_article.zip: a ZIP of the CSVs inside."""
    inner = zip_of(folder, path.parent / "current_article_csv.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("readme.txt", "MCD article export (test copy)\r\n")
        archive.write(inner, inner.name)
    inner.unlink()
    return path


Packer = Callable[[Path, Path], Path]
PACKERS: dict[str, Packer] = {
    "folder": lambda folder, path: folder,
    "zip": zip_of,
    "nested zip": nested_zip_of,
}


@pytest.fixture(params=list(PACKERS))
def packer(request: pytest.FixtureRequest) -> Packer:
    return PACKERS[request.param]


def packed(tmp_path: Path, packer: Packer, changes: Mapping[str, bytes | None]) -> Path:
    return packer(export_folder(tmp_path, changes), tmp_path / "current_article.zip")


@pytest.fixture(scope="module")
def tables() -> Tables:
    reader = CoverageArticleReader(MCD)
    tables = read_tables(reader)
    assert reader.stats.rejects == []
    return tables


def by_article(rows: list[dict[str, Any]], article: int, version: int) -> list[Any]:
    return [
        row
        for row in rows
        if (row["article_id"], row["article_version"]) == (article, version)
    ]


# The tables


def test_the_code_table_comes_first() -> None:
    assert list(CoverageArticleReader.tables) == [
        "mcd_article_code",
        "mcd_article",
        "mcd_icd10_covered",
        "mcd_icd10_covered_group",
        "mcd_icd10_noncovered",
        "mcd_article_contractor",
    ]
    assert CoverageArticleReader.kind == "mcd-article"


def test_counts_per_table_from_folder_zip_and_nested_zip(
    tmp_path: Path, packer: Packer
) -> None:
    reader = CoverageArticleReader(packed(tmp_path, packer, {}))
    tables = read_tables(reader)
    assert {name: len(rows) for name, rows in tables.items()} == COUNTS
    assert reader.stats.rows_read == sum(COUNTS.values()) == 36
    assert reader.stats.rejects == []


def test_articles(tables: Tables) -> None:
    articles = tables["mcd_article"]
    assert [
        (a["display_id"], a["article_version"], a["status"], a["line"])
        for a in articles
    ] == [("A90001", 1, "R", 2), ("A90001", 2, "A", 4), ("A90002", 1, "A", 6)] + [
        ("A90003", 1, "R", 7)
    ]
    first = articles[1]
    # The title's en dash is byte 0x96 in the Windows-1252 file.
    assert first["title"] == (
        "Billing and Coding: Magnetic Resonance Imaging of the Brain \u2013 Example"
    )
    assert (first["article_type"], first["article_type_name"]) == (
        "6",
        "Billing and Coding",
    )
    assert (first["effective_date"], first["end_date"], first["last_updated"]) == (
        date(2025, 1, 1),
        None,
        date(2025, 5, 30),
    )
    # Type 9 is not in the type lookup.
    assert (articles[3]["article_type"], articles[3]["article_type_name"]) == (
        "9",
        None,
    )


def test_article_codes(tables: Tables) -> None:
    codes = by_article(tables["mcd_article_code"], 90001, 2)
    assert [(c["code"], c["code_group"], c["range_flag"]) for c in codes] == [
        ("70551", 1, "B"),
        ("70552", 1, "M"),
        ("70553", 1, "E"),
        ("A9577", 2, "N"),
        ("A9585", 2, "N"),
    ]
    assert (codes[3]["long_description"], codes[3]["short_description"]) == (
        "Injection, gadobenate dimeglumine (multihance), per ml",
        "Inj multihance",
    )
    assert codes[0]["last_updated"] == date(2025, 5, 30)
    assert [c["code"] for c in by_article(tables["mcd_article_code"], 90002, 1)] == [
        "27447",
        "G0289",
    ]


def test_covered_codes_for_the_knee_article(tables: Tables) -> None:
    covered = by_article(tables["mcd_icd10_covered"], 90002, 1)
    assert [(c["icd10_code"], c["icd10_code_as_written"]) for c in covered] == [
        ("M17.0", "M17.0"),
        ("M17.11", "M17.11"),
        ("M17.12", "M1712"),
        ("M17.9", "M17.9"),
    ]
    assert covered[1]["description"] == "Unilateral primary osteoarthritis, right knee"
    assert {c["icd10_group"] for c in covered} == {1}


def test_covered_codes_are_in_the_cdc_code_set(tables: Tables) -> None:
    cdc = {row["code"] for row in read_all(Icd10CmReader()).to_pylist()}
    written = tables["mcd_icd10_covered"] + tables["mcd_icd10_noncovered"]
    assert {row["icd10_code"] for row in written} <= cdc


def test_asterisks(tables: Tables) -> None:
    covered = by_article(tables["mcd_icd10_covered"], 90001, 2)
    assert [c["icd10_code"] for c in covered if c["asterisk"]] == ["C79.31"]
    assert all(c["asterisk"] is False for c in covered if c["icd10_code"] != "C79.31")
    [group] = [
        g
        for g in by_article(tables["mcd_icd10_covered_group"], 90001, 2)
        if g["icd10_group"] == 1
    ]
    assert group["asterisk_text"] == "*Code also the primary site, if known."


def test_group_paragraphs_are_plain_text(tables: Tables) -> None:
    groups = tables["mcd_icd10_covered_group"]
    assert [(g["article_id"], g["icd10_group"], g["line"]) for g in groups] == [
        (90001, 1, 2),
        (90001, 1, 3),
        (90001, 2, 8),
        (90002, 1, 9),
    ]
    assert [g["paragraph"] for g in groups[1:]] == [
        "Group 1 Paragraph: The following ICD-10-CM codes support medical necessity "
        "for CPT codes 70551, 70552 & 70553.\n"
        "Use the contrast codes only when contrast is <given>.",
        "Group 2 Paragraph: headache codes support CPT 70551\u201370553 only with a "
        "neurological finding.",
        "Knee osteoarthritis codes that support CPT 27447 and HCPCS G0289.",
    ]


def test_non_covered_codes_are_kept_apart(tables: Tables) -> None:
    noncovered = tables["mcd_icd10_noncovered"]
    assert [(n["article_id"], n["icd10_code"]) for n in noncovered] == [
        (90001, "Z00.00"),
        (90001, "Z01.89"),
        (90002, "Z96.651"),
    ]
    assert all(n["asterisk"] is None for n in noncovered)
    covered = {c["icd10_code"] for c in tables["mcd_icd10_covered"]}
    assert covered.isdisjoint(n["icd10_code"] for n in noncovered)


def test_contractors_are_named(tables: Tables) -> None:
    contractors = by_article(tables["mcd_article_contractor"], 90001, 2)
    assert [
        (c["contractor_id"], c["contractor_name"], c["contractor_number"])
        for c in contractors
    ] == [
        (901, "Example Contractor One (payerbrief test data)", "99901"),
        (902, "Example Contractor Two, LLC (payerbrief test data)", "99902"),
    ]
    assert [c["contractor_type"] for c in contractors] == [
        "MAC - Part A",
        "MAC - Part B",
    ]


def test_without_reference_tables_names_are_empty(tmp_path: Path) -> None:
    removed: dict[str, bytes | None] = {
        "contractor.csv": None,
        "contractor_type_lookup.csv": None,
        "article_type_lookup.csv": None,
    }
    tables = read_tables(CoverageArticleReader(export_folder(tmp_path, removed)))
    assert {name: len(rows) for name, rows in tables.items()} == COUNTS
    contractor = tables["mcd_article_contractor"][0]
    assert (contractor["contractor_id"], contractor["contractor_name"]) == (901, None)
    assert contractor["contractor_type"] is None
    assert tables["mcd_article"][0]["article_type_name"] is None


def test_the_join_pairs_codes_with_supporting_diagnoses(tmp_path: Path) -> None:
    with Warehouse(tmp_path) as warehouse:
        warehouse.load(CoverageArticleReader(MCD))
        rows = warehouse.rows(
            "SELECT a.display_id, i.icd10_code FROM mcd_article_code c "
            "JOIN mcd_icd10_covered i USING (load_id, article_id, article_version) "
            "JOIN mcd_article a USING (load_id, article_id, article_version) "
            "WHERE c.code = ? AND a.status = 'A' ORDER BY i.icd10_code",
            ["27447"],
        )
    assert [(r["display_id"], r["icd10_code"]) for r in rows] == [
        ("A90002", "M17.0"),
        ("A90002", "M17.11"),
        ("A90002", "M17.12"),
        ("A90002", "M17.9"),
    ]


# Provenance


def test_provenance_of_the_zip(tmp_path: Path) -> None:
    path = nested_zip_of(export_folder(tmp_path), tmp_path / "current_article.zip")
    provenance = CoverageArticleReader(path).provenance()
    assert provenance.kind == "mcd-article"
    assert provenance.file_name == "current_article.zip"
    assert provenance.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert provenance.publisher == (
        "Centers for Medicare & Medicaid Services (Medicare Coverage Database)"
    )
    # The newest last_updated of the articles dates the export.
    assert (provenance.release, provenance.as_of) == ("2025-06-12", date(2025, 6, 12))
    assert "American Medical Association" in provenance.notice


def test_a_folder_checksum_follows_its_members(tmp_path: Path) -> None:
    first = CoverageArticleReader(export_folder(tmp_path / "a")).provenance()
    same = CoverageArticleReader(export_folder(tmp_path / "b")).provenance()
    lines = lines_of(COVERED)
    changed = {
        COVERED: with_line(lines, 2, lines[1].rstrip().replace(b"C71.9", b"C71.8"))
    }
    other = CoverageArticleReader(export_folder(tmp_path / "c", changed)).provenance()
    assert first.file_name == "current_article_csv"
    assert first.sha256 == same.sha256 != other.sha256


# Text as real copies write it


def test_utf8_with_bom_and_lf_line_endings_read_the_same(
    tmp_path: Path, tables: Tables
) -> None:
    changes: dict[str, bytes | None] = {
        name: (MCD / name).read_bytes().replace(b"\r\n", b"\n") for name in CSV_FILES
    }
    article = (MCD / "article.csv").read_bytes().decode("cp1252")
    changes["article.csv"] = b"\xef\xbb\xbf" + article.replace("\r\n", "\n").encode()
    assert (
        read_tables(CoverageArticleReader(export_folder(tmp_path, changes))) == tables
    )


def test_a_field_longer_than_the_csv_module_default(tmp_path: Path) -> None:
    long_html = "<p>" + "word " * 60_000 + "</p>"
    assert len(long_html) > 131_072
    name = "article_x_icd10_covered_group.csv"
    lines = lines_of(name)
    row = b'"90002","1","1","' + long_html.encode() + b'","2025-06-12 09:41:07",""'
    folder = export_folder(tmp_path, {name: with_line(lines, 9, row)})
    groups = read_tables(CoverageArticleReader(folder))["mcd_icd10_covered_group"]
    assert groups[-1]["paragraph"] == ("word " * 60_000).strip()


@pytest.mark.parametrize("name", ["article_x_icd10_noncovered.csv", "contractor.csv"])
@pytest.mark.parametrize("content", [b"", b"header only"])
def test_empty_members_are_empty_tables(
    tmp_path: Path, name: str, content: bytes
) -> None:
    data = lines_of(name)[0] if content else b""
    reader = CoverageArticleReader(export_folder(tmp_path, {name: data}))
    tables = read_tables(reader)
    expected = dict(COUNTS)
    if name == "article_x_icd10_noncovered.csv":
        expected["mcd_icd10_noncovered"] = 0
    assert {table: len(rows) for table, rows in tables.items()} == expected
    assert reader.stats.rows_read == sum(expected.values())


# Cell values


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("E11.9", "E11.9"),
        ("e11.9", "E11.9"),
        (" E119 ", "E11.9"),
        ("M1711", "M17.11"),
        ("G35", "G35"),
        ("S06.0X0A", "S06.0X0A"),
        ("S060X0A", "S06.0X0A"),
        ("M1A.00X0", "M1A.00X0"),
        ("U07.1", "U07.1"),
    ],
)
def test_icd10cm_codes_in_cdc_form(text: str, code: str) -> None:
    assert icd10cm_code(text) == code


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the cell is empty, expected an ICD-10-CM code"),
        ("E1", "'E1' is not an ICD-10-CM code (such as E11.9)"),
        ("11.9", "'11.9' is not an ICD-10-CM code (such as E11.9)"),
        ("E11.", "'E11.' is not an ICD-10-CM code (such as E11.9)"),
        ("E11.12345", "'E11.12345' is not an ICD-10-CM code (such as E11.9)"),
        ("E11-9", "'E11-9' is not an ICD-10-CM code (such as E11.9)"),
        ("EE1.9", "'EE1.9' is not an ICD-10-CM code (such as E11.9)"),
    ],
)
def test_malformed_icd10cm_codes(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        icd10cm_code(text)
    assert str(caught.value) == reason


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>a&nbsp;b</p><br/>c", "a b\nc"),
        (
            "<P>Bill with the &#8211;KX modifier &amp; a tear.</P>",
            "Bill with the \u2013KX modifier & a tear.",
        ),
        ("<ul>\r\n<li>one</li>\r\n<li>two</li></ul>", "one\ntwo"),
        (
            "line\r\nbreaks in the source\nare spaces",
            "line breaks in the source are spaces",
        ),
        ("H<sub>2</sub>O <b>bold</b>", "H2O bold"),
        ("<td>a</td><td>b</td>", "a b"),
        ("age < 18 and > 2", "age < 18 and > 2"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
        ("<script>alert(1)</script><style>p {}</style>kept", "kept"),
        ("a<!-- note -->b", "a b"),
        ('<a href="https://www.cms.gov/">CMS</a> site', "CMS site"),
        ("", ""),
    ],
)
def test_plain_text(html: str, text: str) -> None:
    assert plain_text(html) == text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2025-06-12", date(2025, 6, 12)),
        ("2025-06-12 09:41:07", date(2025, 6, 12)),
        ("2025-06-12T09:41:07.123", date(2025, 6, 12)),
        ("6/12/2025", date(2025, 6, 12)),
        ("06/12/2025 9:41:07 AM", date(2025, 6, 12)),
        ("", None),
    ],
)
def test_dates(text: str, value: date | None) -> None:
    assert date_or_none(text) == value


# Broken copies


@pytest.mark.parametrize("method", ["provenance", "table_batches"])
def test_header_that_does_not_match_its_table(tmp_path: Path, method: str) -> None:
    lines = lines_of(COVERED)
    renamed = lines[0].rstrip().replace(b'"icd10_code_id"', b'"icd10_code"')
    path = packed(tmp_path, nested_zip_of, {COVERED: with_line(lines, 1, renamed)})
    reader = CoverageArticleReader(path)
    with pytest.raises(SourceFileError) as caught:
        reader.provenance() if method == "provenance" else read_tables(reader)
    member = path / "current_article_csv.zip" / COVERED
    assert caught.value.path == member
    assert str(caught.value) == (
        f"{member}, line 1: the header row lacks icd10_code_id (expected the "
        f"article_x_icd10_covered columns {COVERED_LAYOUT})\nHint: {HINT}"
    )


def test_member_without_its_header_row(tmp_path: Path) -> None:
    name = "article_x_contractor.csv"
    folder = export_folder(tmp_path, {name: b"".join(lines_of(name)[1:])})
    with pytest.raises(SourceFileError) as caught:
        CoverageArticleReader(folder).provenance()
    assert str(caught.value) == (
        f"{folder / name}, line 1: the header row lacks article_id, article_version, "
        "contractor_id, contractor_type_id, contractor_version, last_updated "
        "(expected the article_x_contractor columns article_id, article_version, "
        "article_type, contractor_id, contractor_type_id, contractor_version, "
        f"last_updated)\nHint: {HINT}"
    )


def test_wrong_column_count_rejects_that_row_only(
    tmp_path: Path, packer: Packer
) -> None:
    lines = lines_of(COVERED)
    short = joined(cells_of(lines[2])[:-2])
    reader = CoverageArticleReader(
        packed(tmp_path, packer, {COVERED: with_line(lines, 3, short)})
    )
    tables = read_tables(reader)
    assert len(tables["mcd_icd10_covered"]) == 10
    assert 3 not in {row["line"] for row in tables["mcd_icd10_covered"]}
    assert reader.stats.rows_read == 36
    assert [(r.line, r.reason, r.raw) for r in reader.stats.rejects] == [
        (3, f"{COVERED}:3: expected 10 columns, found 8", short.decode())
    ]


@pytest.mark.parametrize(
    ("file", "line", "old", "new", "reason"),
    [
        (
            COVERED,
            4,
            b'"C79.31"',
            b'"C79..31"',
            "column icd10_code_id: 'C79..31' is not an ICD-10-CM code (such as E11.9)",
        ),
        (
            COVERED,
            4,
            b'"1","N","2025-05-30 08:15:42"',
            b'"one","N","2025-05-30 08:15:42"',
            "column icd10_covered_group: 'one' is not a whole number",
        ),
        (
            COVERED,
            4,
            b'"Y"',
            b'"maybe"',
            "column asterisk: 'MAYBE' is neither Y nor N",
        ),
        (
            "article_x_hcpc_code.csv",
            3,
            b'"70551"',
            b'"7055"',
            "column hcpc_code_id: '7055' is not a CPT or HCPCS code of 5 letters "
            "and digits",
        ),
        (
            "article_x_contractor.csv",
            2,
            b'"2024-12-20 14:03:11"',
            b'"2024-13-20 14:03:11"',
            "column last_updated: '2024-13-20 14:03:11' is not a date",
        ),
        (
            "article.csv",
            6,
            b'"90002"',
            b'""',
            "column article_id: the cell is empty, expected a whole number",
        ),
    ],
)
def test_bad_value_rejects_the_row(
    tmp_path: Path, file: str, line: int, old: bytes, new: bytes, reason: str
) -> None:
    lines = lines_of(file)
    assert old in lines[line - 1]
    bad = lines[line - 1].rstrip().replace(old, new)
    reader = CoverageArticleReader(
        export_folder(tmp_path, {file: with_line(lines, line, bad)})
    )
    tables = read_tables(reader)
    assert sum(len(rows) for rows in tables.values()) == 35
    assert reader.stats.rows_read == 36
    encoding = "cp1252" if file == "article.csv" else "ascii"
    assert [(r.line, r.reason, r.raw) for r in reader.stats.rejects] == [
        (line, f"{file}:{line}: {reason}", bad.decode(encoding))
    ]


def test_row_cut_short_at_the_end_of_a_member(tmp_path: Path) -> None:
    lines = lines_of(COVERED)
    cut = joined(cells_of(lines[-1])[:5])
    reader = CoverageArticleReader(
        export_folder(tmp_path, {COVERED: b"".join(lines[:-1]) + cut})
    )
    tables = read_tables(reader)
    assert len(tables["mcd_icd10_covered"]) == 10
    assert [(r.line, r.reason) for r in reader.stats.rejects] == [
        (12, f"{COVERED}:12: expected 10 columns, found 5")
    ]


def test_member_cut_inside_a_quoted_field(tmp_path: Path) -> None:
    # Lines 3 to 7 hold one row whose paragraph spans them; cut it on line 5.
    name = "article_x_icd10_covered_group.csv"
    lines = lines_of(name)
    cut = b"".join(lines[:4]) + lines[4][:10]
    reader = CoverageArticleReader(export_folder(tmp_path, {name: cut}))
    tables = read_tables(reader)
    assert len(tables["mcd_icd10_covered_group"]) == 1
    assert [(r.line, r.reason) for r in reader.stats.rejects] == [
        (3, f"{name}:3: the file ends inside a quoted field")
    ]
    assert reader.stats.rows_read == 36 - 4 + 2


@pytest.mark.parametrize("method", ["provenance", "table_batches"])
def test_bad_encoding_byte_names_the_member_and_line(
    tmp_path: Path, method: str
) -> None:
    # 0x81 is valid in neither UTF-8 nor Windows-1252.
    lines = lines_of("article.csv")
    broken = lines[5].rstrip().replace(b"Knee", b"Kn\x81e")
    path = packed(tmp_path, zip_of, {"article.csv": with_line(lines, 6, broken)})
    reader = CoverageArticleReader(path)
    with pytest.raises(SourceFileError) as caught:
        reader.provenance() if method == "provenance" else read_tables(reader)
    assert caught.value.line == 6
    assert str(caught.value) == (
        f"{path / 'article.csv'}, line 6: byte 40 of the line is neither UTF-8 nor "
        "Windows-1252 (b'\\x81e O')\nHint: the MCD writes Windows-1252 or UTF-8 "
        "text; download the export again, the copy may be damaged"
    )


@pytest.mark.parametrize("method", ["provenance", "table_batches"])
def test_missing_member(tmp_path: Path, packer: Packer, method: str) -> None:
    path = packed(tmp_path, packer, {"article_x_icd10_noncovered.csv": None})
    reader = CoverageArticleReader(path)
    with pytest.raises(SourceFileError) as caught:
        reader.provenance() if method == "provenance" else read_tables(reader)
    where = path / "current_article_csv.zip" if packer is nested_zip_of else path
    assert str(caught.value) == (
        f"{where}: the export has no article_x_icd10_noncovered.csv\nHint: {HINT}"
    )


def test_broken_reference_table_stops_before_any_row(tmp_path: Path) -> None:
    lines = lines_of("contractor.csv")
    short = joined(cells_of(lines[2])[:3])
    folder = export_folder(tmp_path, {"contractor.csv": with_line(lines, 3, short)})
    reader = CoverageArticleReader(folder)
    batches = reader.table_batches()
    with pytest.raises(SourceFileError) as caught:
        next(batches)
    assert str(caught.value) == (
        f"{folder / 'contractor.csv'}, line 3: expected 23 columns, found 3\n"
        f"Hint: {HINT}"
    )


def test_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "current_article.zip"
    with pytest.raises(MissingSourceError) as caught:
        CoverageArticleReader(path).provenance()
    assert str(caught.value) == (
        f"{path}: file not found\nHint: pass the path of the MCD article export "
        "(current_article.zip or all_article.zip)"
    )


def test_a_csv_file_is_not_an_export() -> None:
    path = MCD / "article.csv"
    with pytest.raises(SourceFileError) as caught:
        CoverageArticleReader(path).provenance()
    assert str(caught.value) == (
        f"{path}: the file is neither a ZIP archive nor a folder\nHint: {HINT}"
    )


@pytest.mark.parametrize("damage", ["garbage", "cut in half"])
def test_damaged_zip(tmp_path: Path, damage: str) -> None:
    path = nested_zip_of(export_folder(tmp_path), tmp_path / "current_article.zip")
    data = path.read_bytes()
    path.write_bytes(b"PK\x03\x04" + bytes(60) if damage == "garbage" else data[:-200])
    with pytest.raises(SourceFileError) as caught:
        read_tables(CoverageArticleReader(path))
    assert str(caught.value) == (
        f"{path}: the ZIP archive is damaged (File is not a zip file)\n"
        "Hint: download the file again; it may be truncated"
    )


def test_zip_with_two_zips_of_tables(tmp_path: Path) -> None:
    path = tmp_path / "articles.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("current_article_csv.zip", b"PK\x05\x06" + bytes(18))
        archive.writestr("all_article_csv.zip", b"PK\x05\x06" + bytes(18))
    with pytest.raises(SourceFileError) as caught:
        CoverageArticleReader(path).provenance()
    assert str(caught.value) == (
        f"{path}: the ZIP holds 2 ZIP files that could hold the CSV tables "
        "(current_article_csv.zip, all_article_csv.zip)\n"
        "Hint: pass the one ZIP of CSV files itself"
    )


def test_two_files_for_one_table(tmp_path: Path) -> None:
    folder = export_folder(tmp_path)
    (folder / "old").mkdir()
    shutil.copy(folder / "article.csv", folder / "old" / "article.csv")
    with pytest.raises(SourceFileError) as caught:
        CoverageArticleReader(folder).provenance()
    assert str(caught.value) == (
        f"{folder}: the export holds 2 files named article.csv "
        f"(article.csv, old/article.csv)\nHint: {HINT}"
    )


# Loading


def test_loading_the_export_twice_adds_nothing(tmp_path: Path) -> None:
    path = nested_zip_of(export_folder(tmp_path), tmp_path / "current_article.zip")
    with Warehouse(tmp_path / "home") as warehouse:
        first = warehouse.load(CoverageArticleReader(path))
        second = warehouse.load(CoverageArticleReader(path))
        counts = {
            table: warehouse.rows(f"SELECT count(*) AS n FROM {table}")[0]["n"]
            for table in COUNTS
        }
    assert not first.skipped and second.skipped
    assert second.entry == first.entry
    assert counts == COUNTS
    entry = first.entry
    assert (entry.kind, entry.release, entry.rows_read, entry.rows_rejected) == (
        "mcd-article",
        "2025-06-12",
        36,
        0,
    )
    assert entry.rows_loaded == sum(COUNTS.values()) == 36


def test_rejects_reach_the_warehouse(tmp_path: Path) -> None:
    lines = lines_of(COVERED)
    bad = lines[3].rstrip().replace(b'"C79.31"', b'"C79..31"')
    folder = export_folder(tmp_path, {COVERED: with_line(lines, 4, bad)})
    with Warehouse(tmp_path / "home") as warehouse:
        result = warehouse.load(CoverageArticleReader(folder))
        rejects = warehouse.rows("SELECT line, reason, raw FROM rejects")
    assert result.entry.rows_rejected == 1
    assert rejects == [
        {
            "line": 4,
            "reason": f"{COVERED}:4: column icd10_code_id: 'C79..31' is not an "
            "ICD-10-CM code (such as E11.9)",
            "raw": bad.decode(),
        }
    ]


def test_inner_zip_is_read_without_unpacking_to_the_folder(tmp_path: Path) -> None:
    path = nested_zip_of(export_folder(tmp_path), tmp_path / "current_article.zip")
    before = sorted(p.name for p in tmp_path.iterdir())
    read_tables(CoverageArticleReader(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert zipfile.ZipFile(io.BytesIO(path.read_bytes())).namelist() == [
        "readme.txt",
        "current_article_csv.zip",
    ]
