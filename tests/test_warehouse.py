"""The warehouse: manifest, idempotent loads, releases side by side, resumable loads."""

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from payerbrief.errors import ReleaseNotFoundError
from payerbrief.sources.gpci import GpciReader
from payerbrief.sources.pfs import PfsRvuReader
from payerbrief.store.warehouse import Warehouse, default_home

OCT = "cms-pfs-2025/PPRRVU2025_Oct.csv"
JAN = "cms-pfs-2025/PPRRVU25_JAN1.csv"


def count(warehouse: Warehouse, table: str) -> int:
    return warehouse.rows(f"SELECT count(*) AS n FROM {table}")[0]["n"]


def test_loading_the_same_file_twice_adds_nothing(
    tmp_path: Path, shared_data: Path
) -> None:
    with Warehouse(tmp_path) as warehouse:
        first = warehouse.load(PfsRvuReader(shared_data / OCT))
        second = warehouse.load(PfsRvuReader(shared_data / OCT))
        assert not first.skipped and second.skipped
        assert second.entry == first.entry
        assert count(warehouse, "pfs_rvu") == 19_090
        assert len(warehouse.entries("pfs-rvu")) == 1


def test_the_manifest_records_the_file(tmp_path: Path, shared_data: Path) -> None:
    with Warehouse(tmp_path) as warehouse:
        entry = warehouse.load(PfsRvuReader(shared_data / OCT)).entry
    assert entry.kind == "pfs-rvu"
    assert entry.file_name == "PPRRVU2025_Oct.csv"
    assert entry.sha256 == (
        "8af460f38bf982b79b07269fbc8b7256a8ef3bd3aa025a9c5cb71c1e52523c56"
    )
    assert entry.publisher == "Centers for Medicare & Medicaid Services"
    assert (entry.release, str(entry.as_of)) == ("RVU25D", "2025-09-11")
    assert (entry.rows_read, entry.rows_loaded, entry.rows_rejected) == (
        19_090,
        19_090,
        0,
    )


def test_rejected_rows_are_kept_with_reasons(tmp_path: Path, shared_data: Path) -> None:
    lines = (shared_data / "cms-pfs-2025/GPCI2025.csv").read_text().splitlines()
    lines[5] = "10112,AL,0,ALABAMA,one,0.869,0.575"
    broken = tmp_path / "GPCI2025.csv"
    broken.write_text("\n".join(lines) + "\n")
    with Warehouse(tmp_path / "home") as warehouse:
        result = warehouse.load(GpciReader(broken))
        rejects = warehouse.rows("SELECT line, reason FROM rejects")
    entry = result.entry
    assert entry.rows_read == entry.rows_loaded + entry.rows_rejected
    assert (entry.rows_loaded, entry.rows_rejected) == (108, 1)
    assert rejects == [{"line": 6, "reason": result.rejects[0][1]}]
    assert "'one' is not a number" in rejects[0]["reason"]


def test_releases_sit_side_by_side(tmp_path: Path, shared_data: Path) -> None:
    with Warehouse(tmp_path) as warehouse:
        warehouse.load(PfsRvuReader(shared_data / OCT))
        warehouse.load(PfsRvuReader(shared_data / JAN))
        assert warehouse.current("pfs-rvu").release == "RVU25D"
        assert warehouse.current("pfs-rvu", "RVU25A").release == "RVU25A"
        assert count(warehouse, "pfs_rvu") == 19_090 + 18_865
        with pytest.raises(ReleaseNotFoundError) as caught:
            warehouse.current("pfs-rvu", "RVU24A")
    assert str(caught.value) == (
        "no pfs-rvu release 'RVU24A' is loaded\nHint: loaded releases: RVU25D, RVU25A"
    )


class Interrupted(PfsRvuReader):
    """The real reader, stopped after its first batch as a killed process would be."""

    def batches(self) -> Iterator[pa.RecordBatch]:
        for number, batch in enumerate(super().batches()):
            if number == 1:
                raise KeyboardInterrupt
            yield batch


def test_an_interrupted_load_leaves_nothing_and_a_rerun_completes(
    tmp_path: Path, shared_data: Path
) -> None:
    with Warehouse(tmp_path) as warehouse:
        with pytest.raises(KeyboardInterrupt):
            warehouse.load(Interrupted(shared_data / OCT))
        assert warehouse.entries() == []
        assert list((tmp_path / "lake" / "pfs_rvu").glob("*.parquet")) == []
    with Warehouse(tmp_path) as warehouse:
        result = warehouse.load(PfsRvuReader(shared_data / OCT))
        assert not result.skipped
        assert count(warehouse, "pfs_rvu") == 19_090


def test_home_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYERBRIEF_HOME", str(tmp_path / "elsewhere"))
    assert default_home() == tmp_path / "elsewhere"
    with Warehouse() as warehouse:
        assert warehouse.home == (tmp_path / "elsewhere").resolve()
    assert (tmp_path / "elsewhere" / "catalog.duckdb").exists()
