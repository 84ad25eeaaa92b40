"""The CMS ZIP code to carrier locality reader, on a file in the ZIP5 layout."""

import zipfile
from datetime import date
from pathlib import Path

import pytest

from payerbrief.errors import SourceFileError
from payerbrief.sources.base import read_all
from payerbrief.sources.ziplocality import ZipLocalityReader

DATA = Path(__file__).parent / "data" / "zip-locality" / "ZIP5_OCT2025.txt"


def test_reads_each_zip_with_its_carrier_and_locality() -> None:
    reader = ZipLocalityReader(DATA)
    rows = read_all(reader).to_pylist()
    assert [(r["zip5"], r["mac"], r["locality_number"]) for r in rows] == [
        ("21201", "12302", "01"),
        ("21502", "12302", "99"),
        ("99501", "02102", "01"),
        ("35203", "10112", "00"),
        ("10001", "13202", "01"),
    ]
    assert rows[1]["rural"] == "R" and rows[0]["rural"] is None
    assert reader.stats.rows_read == 5 and reader.stats.rejects == []


def test_the_release_is_the_year_and_quarter() -> None:
    provenance = ZipLocalityReader(DATA).provenance()
    assert (provenance.release, provenance.as_of) == ("2025Q4", date(2025, 10, 1))


def test_reads_the_cms_zip(tmp_path: Path) -> None:
    path = tmp_path / "ZIP5_OCT2025.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(DATA, "ZIP5_OCT2025.txt")
        archive.writestr("ZIP5lyout.txt", "Zip5 Record Layout\r\n")
    assert read_all(ZipLocalityReader(path)).num_rows == 5


def test_bad_records_are_rejected_and_the_rest_load(tmp_path: Path) -> None:
    lines = DATA.read_text().splitlines()
    lines[1] = lines[1][:12]
    lines[3] = lines[0]
    path = tmp_path / "ZIP5_OCT2025.txt"
    path.write_text("\n".join(lines) + "\n")
    reader = ZipLocalityReader(path)
    assert read_all(reader).num_rows == 3
    assert [(r.line, r.reason) for r in reader.stats.rejects] == [
        (2, "record is 12 characters, expected 80"),
        (4, "ZIP code 21201 repeats line 1"),
    ]


def test_a_file_of_another_kind_names_the_layout(tmp_path: Path) -> None:
    path = tmp_path / "ZIP5_OCT2025.txt"
    path.write_text("HCPCS,MOD,DESCRIPTION\n99213,,Office visit\n")
    with pytest.raises(SourceFileError) as caught:
        ZipLocalityReader(path).provenance()
    assert str(caught.value) == (
        f"{path}, line 1: no ZIP5 record in the first 20 lines: expected "
        "80-character records starting with a state, a ZIP code, a carrier and a "
        "locality\nHint: pass the CMS ZIP code to carrier locality file (ZIP5_*.txt)"
    )
