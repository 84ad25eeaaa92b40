"""An ingest killed with SIGKILL mid-file, then rerun, leaves what an
uninterrupted run leaves: no duplicate, no half-written rows."""

import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from payerbrief.store.warehouse import Warehouse

CAREFIRST = "tic/carefirst/carefirst_examplefile.json.gz"
COPIES = 12  # about 360 MB of JSON: a few seconds of ingest to kill into


def repeated(shared_data: Path, folder: Path) -> Path:
    """The CareFirst file with its items repeated, written as gzip."""
    text = gzip.decompress((shared_data / CAREFIRST).read_bytes())
    key = text.index(b'"in_network"')
    start = text.index(b"[", key) + 1
    end = text.rindex(b"]")
    items = text[start:end].strip()
    body = b",\n".join([items] * COPIES)
    path = folder / "carefirst-x12.json.gz"
    path.write_bytes(gzip.compress(text[:start] + body + text[end:], 1))
    return path


def ingest(home: Path, path: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "payerbrief", "--home", str(home), "-q"]
    return subprocess.Popen(
        [*command, "ingest", "tic", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def state(home: Path) -> tuple[object, ...]:
    with Warehouse(home) as warehouse:
        manifest = warehouse.rows(
            "SELECT load_id, rows_read, rows_loaded, rows_rejected, complete "
            "FROM manifest ORDER BY load_id"
        )
        rates = warehouse.rows(
            "SELECT count(*) AS n, sum(round(negotiated_rate * 10000)::HUGEINT) AS total, "
            "count(DISTINCT item_index) AS items FROM tic_rate"
        )
        groups = warehouse.rows("SELECT count(*) AS n FROM tic_provider_group")
    return (manifest, rates, groups)


def test_a_killed_ingest_reruns_to_the_same_warehouse(
    shared_data: Path, tmp_path: Path
) -> None:
    path = repeated(shared_data, tmp_path)
    whole = tmp_path / "whole"
    assert ingest(whole, path).wait(timeout=300) == 0

    killed = tmp_path / "killed"
    process = ingest(killed, path)
    partial = killed / "lake" / "tic_rate"
    deadline = time.monotonic() + 120
    # Kill once the rates are being written, before the load is recorded.
    while not any(partial.glob("*.partial")) and time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("the ingest ended before it could be killed")
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with Warehouse(killed) as warehouse:
        assert warehouse.entries("tic-in-network") == []

    assert ingest(killed, path).wait(timeout=300) == 0
    assert state(killed) == state(whole)
    assert state(whole)[1][0]["n"] == 122_310 * COPIES
