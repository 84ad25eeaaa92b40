"""The table-of-contents reader, on the CMS examples, Anthem's URLs and broken files."""

from __future__ import annotations

import gzip
import json
import random
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from payerbrief.sources.tic.jsonitems import TicFileError
from payerbrief.sources.tic.toc import (
    TocReader,
    collapse_key,
    toc_files,
)
from payerbrief.store.warehouse import Warehouse

VERSIONS = ["v1.0.0", "v1.6.2", "v2.2.0"]
ANTHEM_HOST = "https://anthembcca.mrf.bcbs.com"


def cms_toc(shared_data: Path, version: str) -> Path:
    return (
        shared_data
        / "tic/cms-examples"
        / version
        / "examples/table-of-contents/table-of-contents-sample.json"
    )


def read_tables(reader: TocReader) -> dict[str, pa.Table]:
    batches: dict[str, list[pa.RecordBatch]] = {name: [] for name in reader.tables}
    for name, batch in reader.table_batches():
        batches[name].append(batch)
    return {
        name: pa.Table.from_batches(found, schema=reader.tables[name])
        for name, found in batches.items()
    }


def write_toc(path: Path, structures: list[Any], **top: Any) -> Path:
    document = {
        "reporting_entity_name": "Anthem Inc",
        "reporting_entity_type": "Health Insurer",
        "version": "1.0.0",
        **top,
        "reporting_structure": structures,
    }
    path.write_text(json.dumps(document, indent=1))
    return path


def plan(n: int) -> dict[str, str]:
    return {
        "plan_name": f"NY PPO PLAN {n}",
        "plan_id_type": "ein",
        "plan_id": f"{130000000 + n}",
        "plan_market_type": "group",
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_cms_examples(shared_data: Path, version: str) -> None:
    reader = TocReader(cms_toc(shared_data, version))
    tables = read_tables(reader)
    assert tables["tic_toc_link"].num_rows == 2
    assert reader.stats.rows_read == 2
    assert reader.stats.rejects == []
    plans = tables["tic_toc_plan"].to_pylist()
    assert [p["plan_name"] for p in plans] == ["medicaid", "medicare", "chip"]
    assert [p["plan_market_type"] for p in plans] == ["individual"] * 2 + ["group"]
    files = tables["tic_toc_file"].to_pylist()
    assert [(f["file_kind"], f["url"].rsplit("/", 1)[1]) for f in files] == [
        ("in-network", "in-network-file-123456.json"),
        ("in-network", "behavioral-health-0000.json"),
        ("allowed-amount", "allowed-amount-file-987665.json"),
        ("in-network", "chip-in-network-file.json"),
        ("allowed-amount", "chip-allowed-amount-file.json"),
    ]
    assert all(f["mentions"] == 1 for f in files)
    links = tables["tic_toc_link"].to_pylist()
    assert links[1]["plan_keys"] == [plans[2]["plan_key"]]
    assert links[1]["in_network_file_keys"] == [files[3]["file_key"]]
    assert links[1]["allowed_amount_file_key"] == files[4]["file_key"]


@pytest.mark.parametrize(
    ("version", "release", "as_of", "issuer"),
    [
        ("v1.0.0", "unversioned", None, None),
        ("v1.6.2", "1.4.0", None, None),
        ("v2.2.0", "2.0.0", date(2023, 4, 19), "CMS"),
    ],
)
def test_cms_examples_provenance(
    shared_data: Path, version: str, release: str, as_of: date | None, issuer: str
) -> None:
    reader = TocReader(cms_toc(shared_data, version))
    provenance = reader.provenance()
    assert (provenance.kind, provenance.publisher) == ("tic-toc", "medicare")
    assert (provenance.release, provenance.as_of) == (release, as_of)
    plans = read_tables(reader)["tic_toc_plan"].to_pylist()
    assert plans[0]["issuer_name"] == issuer


@pytest.mark.parametrize("version", VERSIONS)
def test_toc_files_for_a_plan(shared_data: Path, version: str) -> None:
    path = cms_toc(shared_data, version)
    chip = toc_files(path, plan="CHIP")
    assert [f.url for f in chip] == [
        "https://www.some_site.com/files/chip-in-network-file.json"
    ]
    by_id = toc_files(path, plan="11111")
    assert [f.url.rsplit("/", 1)[1] for f in by_id] == [
        "in-network-file-123456.json",
        "behavioral-health-0000.json",
    ]
    assert len(toc_files(path)) == 3
    assert len(toc_files(path, kind=None)) == 5
    assert [f.kind for f in toc_files(path, kind="allowed-amount")] == [
        "allowed-amount"
    ] * 2
    assert len(toc_files(path, limit=1)) == 1
    assert toc_files(path, plan="no such plan") == []


def test_load_into_warehouse_and_list_files(shared_data: Path, tmp_path: Path) -> None:
    path = cms_toc(shared_data, "v2.2.0")
    with Warehouse(tmp_path / "home") as warehouse:
        result = warehouse.load(TocReader(path))
        entry = result.entry
        assert (entry.rows_read, entry.rows_loaded, entry.rows_rejected) == (2, 2, 0)
        assert entry.release == "2.0.0"
        from_lake = toc_files(warehouse, plan="chip")
        assert from_lake == toc_files(path, plan="chip")
        assert toc_files(warehouse, plan="medi") == toc_files(path, plan="medi")
        assert toc_files(warehouse, kind=None) == toc_files(path, kind=None)
        assert len(toc_files(warehouse, limit=2)) == 2
        assert toc_files(warehouse, plan="nothing like it") == []


def test_toc_files_in_empty_warehouse(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "home") as warehouse:
        assert toc_files(warehouse, plan="x") == []


# Anthem's signed URLs


def resign(url: str, n: int) -> str:
    """The URL as a later mention carries it: same file, a fresh signature."""
    base, _, query = url.partition("?")
    params = dict(pair.split("=", 1) for pair in query.split("&") if pair)
    params["Expires"] = str(int(params["Expires"]) + n)
    params["Signature"] = params["Signature"][n:] + params["Signature"][:n]
    return base + "?&" + "&".join(f"{k}={v}" for k, v in params.items())


def anthem_toc(
    shared_data: Path, path: Path, gzipped: bool = False, repeats: int = 10
) -> Path:
    """A table of contents in the official format around Anthem's 56 real locations.

    Every element lists all 56 files (four files on each of 14 state hosts),
    as Anthem's index does for each employer plan; the first element carries
    the real signed URLs, the others the same files signed again.
    """
    source = (
        shared_data
        / "tic/anthem-toc/anthem_2024-08-01_index_NY-PPO_file_locations.ndjson"
    )
    locations = [json.loads(line) for line in source.read_text().splitlines()]
    structures = [
        {
            "reporting_plans": [plan(n)],
            "in_network_files": [
                {
                    **loc,
                    "location": resign(loc["location"], n) if n else loc["location"],
                }
                for loc in locations
            ],
        }
        for n in range(repeats)
    ]
    write_toc(path, structures, last_updated_on="2024-08-01")
    if gzipped:
        path.write_bytes(gzip.compress(path.read_bytes()))
    return path


@pytest.mark.parametrize("gzipped", [False, True])
def test_anthem_signed_urls_collapse(
    shared_data: Path, tmp_path: Path, gzipped: bool
) -> None:
    # Named .json even when gzip: files are sniffed, not trusted by name.
    path = anthem_toc(shared_data, tmp_path / "anthem_index.json", gzipped)
    reader = TocReader(path)
    tables = read_tables(reader)
    files = tables["tic_toc_file"].to_pylist()
    assert len(files) == 56
    assert {f["mentions"] for f in files} == {10}
    hosts = {f["url_key"].split("/")[2] for f in files}
    assert len(hosts) == 14 and "empirebcbs.mrf.bcbs.com" in hosts
    assert files[0]["url_key"] == (
        f"{ANTHEM_HOST}/2024-08_800_72A0_in-network-rates_01_of_02.json.gz"
    )
    for entry in files:
        # The URL kept is the first one met, whole, signature and all.
        assert entry["url"].startswith(entry["url_key"] + "?&Expires=172684084")
        assert "Signature=" in entry["url"] and "Key-Pair-Id=" in entry["url"]
    assert tables["tic_toc_link"].num_rows == 10
    assert reader.provenance().as_of == date(2024, 8, 1)
    listed = toc_files(path, plan="PLAN 5")
    assert [f.url_key for f in listed] == [f["url_key"] for f in files]
    assert listed[0].url != files[0]["url"]


@pytest.mark.parametrize(
    ("url", "key"),
    [
        (
            "https://a.example.com/f.json.gz?&Expires=1&Signature=x~y&Key-Pair-Id=K",
            "https://a.example.com/f.json.gz",
        ),
        (
            "HTTPS://A.Example.COM/Path/F.json?X-Amz-Date=1&X-Amz-Signature=2",
            "https://a.example.com/Path/F.json",
        ),
        (
            "https://b.blob.core.windows.net/c/f.json?sv=2020&se=2024&sr=b&sp=r&sig=abc",
            "https://b.blob.core.windows.net/c/f.json",
        ),
        (
            "https://d.example.com/download?file=abc.json&Expires=5&Signature=s",
            "https://d.example.com/download?file=abc.json",
        ),
        ("https://e.example.com/f.json#part", "https://e.example.com/f.json"),
        ("https://e.example.com/f.json", "https://e.example.com/f.json"),
    ],
)
def test_collapse_key(url: str, key: str) -> None:
    assert collapse_key(url) == key


# A table of contents that repeats its files 200,000 times


def repeated_toc(path: Path, structures: int, files: int, per: int = 4) -> Path:
    """Each element lists `per` in-network files, each URL freshly signed."""
    rng = random.Random(3)
    plans = [json.dumps([plan(n)]) for n in range(100)]
    with path.open("w") as out:
        out.write('{"reporting_entity_name": "Big Payer", "reporting_entity_type": ')
        out.write('"health insurance issuer", "version": "1.0.0",\n')
        out.write('"reporting_structure": [\n')
        for n in range(structures):
            locations = ",".join(
                '{"description": "in-network file", "location": '
                f'"https://mrf.example.com/rates_{(n + k) % files:03d}.json.gz'
                f'?Expires=1726840840&Signature={rng.getrandbits(64):x}&Key-Pair-Id=K2"}}'
                for k in range(per)
            )
            out.write("," if n else "")
            out.write(f'{{"reporting_plans": {plans[n % 100]}, ')
            out.write(f'"in_network_files": [{locations}]}}\n')
        out.write("]}\n")
    return path


def test_repeated_mentions_collapse_to_few_files(tmp_path: Path) -> None:
    path = repeated_toc(tmp_path / "big.json", structures=25_000, files=6, per=8)
    reader = TocReader(path)
    started = time.perf_counter()
    counts = {name: 0 for name in reader.tables}
    mentions = 0
    for name, batch in reader.table_batches():
        counts[name] += batch.num_rows
        if name == "tic_toc_file":
            mentions += sum(batch.column("mentions").to_pylist())
    elapsed = time.perf_counter() - started
    assert counts == {"tic_toc_link": 25_000, "tic_toc_plan": 100, "tic_toc_file": 6}
    assert mentions == 200_000
    assert path.stat().st_size > 10_000_000
    assert elapsed < 30, elapsed


def test_memory_follows_distinct_files_not_mentions(tmp_path: Path) -> None:
    # Five times the mentions of the same files: the reader's peak stays flat
    # (batches of 50 rows, so that both runs hold full batches). A first read
    # warms up lazy imports, which would otherwise count in the peak.
    paths = [repeated_toc(tmp_path / f"toc{n}.json", n, files=6) for n in (200, 1_000)]
    for _ in TocReader(paths[0], batch_rows=50).table_batches():
        pass
    peaks = []
    for path in paths:
        tracemalloc.start()
        for _ in TocReader(path, batch_rows=50).table_batches():
            pass
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0], peaks
    assert peaks[1] < 1_000_000, peaks


def test_limit_stops_reading_early(tmp_path: Path) -> None:
    path = repeated_toc(tmp_path / "big.json", structures=2_000, files=50)
    assert len(toc_files(path, limit=3)) == 3
    assert len(toc_files(path)) == 50
    assert [f.url_key.rsplit("/", 1)[1] for f in toc_files(path, plan="PLAN 7")][
        :4
    ] == [f"rates_{n:03d}.json.gz" for n in (7, 8, 9, 10)]


# Broken files


def test_truncated_file_names_offset_and_item(
    shared_data: Path, tmp_path: Path
) -> None:
    whole = anthem_toc(shared_data, tmp_path / "whole.json").read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    reader = TocReader(cut)
    with pytest.raises(TicFileError) as caught:
        read_tables(reader)
    error = caught.value
    assert error.offset == cut.stat().st_size
    assert error.item == "after reporting_structure[5]"
    assert str(error) == (
        f"{cut}, byte {error.offset}, after reporting_structure[5]: the file ends "
        "before its JSON is complete\n"
        "Hint: download the file again; it may be truncated"
    )


def test_truncated_gzip(shared_data: Path, tmp_path: Path) -> None:
    packed = anthem_toc(shared_data, tmp_path / "a.json", gzipped=True).read_bytes()
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(TicFileError, match="gzip stream is damaged or ends early"):
        read_tables(TocReader(cut))


def test_invalid_json_names_offset(tmp_path: Path) -> None:
    path = write_toc(tmp_path / "bad.json", [])
    text = path.read_text().replace(
        '"reporting_structure": []', '"reporting_structure": [{"a": tru}]'
    )
    path.write_text(text)
    with pytest.raises(TicFileError) as caught:
        read_tables(TocReader(path))
    assert "not valid JSON (lexical error: invalid string in json text.)" in str(
        caught.value
    )
    assert caught.value.item == "before the first element of reporting_structure"


GOOD_FILE = {"description": "in-network file", "location": "https://x.example/a.json"}


@pytest.mark.parametrize(
    ("element", "reason"),
    [
        ("text", "wrong type: reporting_structure[1] is a string, not an object"),
        (
            {"in_network_files": [GOOD_FILE]},
            "missing field: reporting_structure[1].reporting_plans",
        ),
        (
            {"reporting_plans": {"plan_name": "x"}, "in_network_files": [GOOD_FILE]},
            "wrong type: reporting_structure[1].reporting_plans is an object, not an array",
        ),
        (
            {
                "reporting_plans": [{**plan(1), "plan_id": 130000001}],
                "in_network_files": [GOOD_FILE],
            },
            "wrong type: reporting_structure[1].reporting_plans[0].plan_id is a number, not a string",
        ),
        (
            {
                "reporting_plans": [
                    {k: v for k, v in plan(1).items() if k != "plan_market_type"}
                ],
                "in_network_files": [GOOD_FILE],
            },
            "missing field: reporting_structure[1].reporting_plans[0].plan_market_type",
        ),
        (
            {"reporting_plans": [plan(1)]},
            "no file: reporting_structure[1] lists neither in_network_files nor allowed_amount_file",
        ),
        (
            {"reporting_plans": [plan(1)], "in_network_files": [{"description": "d"}]},
            "missing field: reporting_structure[1].in_network_files[0].location",
        ),
        (
            {
                "reporting_plans": [plan(1)],
                "in_network_files": [{**GOOD_FILE, "location": "file:///etc/passwd"}],
            },
            "bad URL: reporting_structure[1].in_network_files[0].location 'file:///etc/passwd' is not http(s)",
        ),
        (
            {"reporting_plans": [plan(1)], "allowed_amount_file": [GOOD_FILE]},
            "wrong type: reporting_structure[1].allowed_amount_file is an array, not an object",
        ),
    ],
)
def test_bad_element_is_quarantined(tmp_path: Path, element: Any, reason: str) -> None:
    good = {"reporting_plans": [plan(0)], "in_network_files": [GOOD_FILE]}
    path = write_toc(tmp_path / "toc.json", [good, element, good])
    reader = TocReader(path)
    tables = read_tables(reader)
    assert tables["tic_toc_link"].num_rows == 2
    assert reader.stats.rows_read == 3
    [reject] = reader.stats.rejects
    assert reject.line == 1
    assert reject.reason.startswith(reason + " (element ends by byte ")
    assert json.loads(reject.raw) == element


def test_manifest_reconciles_with_rejects(tmp_path: Path) -> None:
    good = {"reporting_plans": [plan(0)], "in_network_files": [GOOD_FILE]}
    path = write_toc(tmp_path / "toc.json", [good, {"reporting_plans": 1}, good, 7])
    with Warehouse(tmp_path / "home") as warehouse:
        entry = warehouse.load(TocReader(path)).entry
    assert (entry.rows_read, entry.rows_loaded, entry.rows_rejected) == (4, 2, 2)
    assert entry.rows_read == entry.rows_loaded + entry.rows_rejected
    assert entry.reject_reasons == {"wrong type": 2}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[1, 2]", "the file holds an array, not a JSON object"),
        ("", "the file holds nothing, not a JSON object"),
        (
            '{"reporting_entity_name": "x", "reporting_structure": {"a": 1}}',
            "reporting_structure is an object, not an array",
        ),
    ],
)
def test_not_a_table_of_contents(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "toc.json"
    path.write_text(text)
    with pytest.raises(TicFileError) as caught:
        TocReader(path).provenance()
    assert caught.value.problem == problem


def test_in_network_file_given_as_toc(shared_data: Path) -> None:
    path = shared_data / "tic/carefirst/carefirst_examplefile.json.gz"
    with pytest.raises(TicFileError) as caught:
        TocReader(path).provenance()
    assert str(caught.value) == (
        f"{path}: no reporting_structure array: this is not a table of contents\n"
        "Hint: pass a table-of-contents (index) file; this one has "
        "provider_references, so it is an in-network rates file"
    )


def test_top_level_values_after_the_array(tmp_path: Path) -> None:
    path = tmp_path / "late.json"
    element = {"reporting_plans": [plan(0)], "in_network_files": [GOOD_FILE]}
    path.write_text(
        json.dumps(
            {
                "reporting_structure": [element],
                "reporting_entity_name": "Late",
                "version": "2.0.0",
                "last_updated_on": "2025-01-01",
            }
        )
    )
    provenance = TocReader(path).provenance()
    assert (provenance.publisher, provenance.release) == ("Late", "2.0.0")
    assert provenance.as_of == date(2025, 1, 1)


def test_bom_is_skipped(tmp_path: Path) -> None:
    path = write_toc(
        tmp_path / "bom.json",
        [{"reporting_plans": [plan(0)], "in_network_files": [GOOD_FILE]}],
    )
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert read_tables(TocReader(path))["tic_toc_file"].num_rows == 1
