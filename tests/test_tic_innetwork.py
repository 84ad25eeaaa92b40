"""The TiC in-network reader on CMS's examples, the real CareFirst file and broken copies."""

import gzip
import json
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from payerbrief.sources.base import MultiTableReader
from payerbrief.sources.tic.innetwork import TicFileBrokenError, TicInNetworkReader
from payerbrief.sources.tic.innetwork.reader import NotInNetworkFileError
from payerbrief.sources.tic.innetwork.scan import PyScanner
from payerbrief.sources.tic.innetwork.walk import c_scanner_available
from payerbrief.store.warehouse import Warehouse

CAREFIRST = "tic/carefirst/carefirst_examplefile.json.gz"
TRUNCATED_HINT = "download the file again; it is incomplete"
ENGINES = ["auto", "python"]

needs_c = pytest.mark.skipif(
    not c_scanner_available(), reason="the C extensions were not built"
)


class Read:
    """Everything one pass gave: tables (dictionary columns decoded), stats, error."""

    def __init__(self, path: Path, **options: Any) -> None:
        self.reader = TicInNetworkReader(path, **options)
        batches: dict[str, list[pa.RecordBatch]] = {}
        self.error: Exception | None = None
        try:
            for table, batch in self.reader.table_batches():
                batches.setdefault(table, []).append(batch)
        except TicFileBrokenError as exc:
            self.error = exc
        self.tables = {
            name: pa.Table.from_batches(
                batches.get(name, []), schema=schema
            ).combine_chunks()
            for name, schema in self.reader.tables.items()
        }

    def rows(self, table: str = "tic_rate") -> list[dict[str, Any]]:
        return self.tables[table].to_pylist()

    @property
    def file(self) -> dict[str, Any]:
        return self.rows("tic_file")[0]

    @property
    def reasons(self) -> list[str]:
        return [r.reason for r in self.reader.stats.rejects]


# Files written in the official format for the tests

HEADER_2X = {
    "reporting_entity_name": "Test Health",
    "reporting_entity_type": "health insurance issuer",
    "plan_name": "Test PPO",
    "issuer_name": "Test Issuer",
    "plan_id_type": "hios",
    "plan_id": "12345VA0010001",
    "plan_market_type": "individual",
    "last_updated_on": "2025-11-01",
    "version": "2.2.0",
}


def price(rate: Any = 100.5, **fields: Any) -> dict[str, Any]:
    base = {
        "negotiated_type": "negotiated",
        "negotiated_rate": rate,
        "expiration_date": "9999-12-31",
        "billing_class": "professional",
        "setting": "outpatient",
        "service_code": ["11"],
    }
    return {**base, **fields}


def item(
    code: str = "99213", prices: Any = None, refs: Any = (1,), **fields: Any
) -> dict[str, Any]:
    base = {
        "negotiation_arrangement": "ffs",
        "name": "Office visit",
        "billing_code_type": "CPT",
        "billing_code_type_version": "2025",
        "billing_code": code,
        "description": "Established patient office visit",
        "negotiated_rates": [
            {
                "provider_references": list(refs),
                "negotiated_prices": prices if prices is not None else [price()],
            }
        ],
    }
    return {**base, **fields}


REFERENCE = {
    "provider_group_id": 1,
    "network_name": ["Test Network"],
    "provider_groups": [
        {
            "npi": [1234567893],
            "tin": {"type": "ein", "value": "12-3456789", "business_name": "Clinic"},
        }
    ],
}


def tic_text(
    items: list[Any],
    *,
    header: dict[str, Any] | None = None,
    references_last: bool = False,
) -> bytes:
    """A 2.x file; items may be dicts or raw JSON text (for invalid JSON)."""
    parts = [i if isinstance(i, str) else json.dumps(i) for i in items]
    body = '"in_network": [' + ",\n".join(parts) + "]"
    refs = '"provider_references": ' + json.dumps([REFERENCE])
    fields = [
        f"{json.dumps(k)}: {json.dumps(v)}" for k, v in (header or HEADER_2X).items()
    ]
    order = [body, refs, *fields] if references_last else [*fields, refs, body]
    return ("{" + ",\n".join(order) + "}").encode()


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    def write(content: bytes, name: str = "rates.json") -> Path:
        path = tmp_path / name
        path.write_bytes(content)
        return path

    return write


# CMS's official examples, all three schema versions

EXAMPLES = sorted(
    Path(__file__)
    .resolve()
    .parents[2]
    .glob("shared/data/tic/cms-examples/v*/examples/in-network-rates/*.json")
)


def test_all_cms_examples_are_found() -> None:
    assert len(EXAMPLES) == 15


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: f"{p.parts[-4]}/{p.stem}")
@pytest.mark.parametrize("engine", ENGINES)
def test_cms_example_loads_every_price(example: Path, engine: str) -> None:
    expected = json.loads(example.read_text())
    prices = [
        p
        for i in expected["in_network"]
        for r in i["negotiated_rates"]
        for p in r["negotiated_prices"]
    ]
    read = Read(example, engine=engine)

    assert read.error is None
    assert read.reasons == []
    rows = read.rows()
    assert [r["negotiated_rate"] for r in rows] == [
        p["negotiated_rate"] for p in prices
    ]
    assert [r["service_code"] for r in rows] == [p.get("service_code") for p in prices]
    assert read.file["schema_generation"] == (
        "2.x" if example.parts[-4] == "v2.2.0" else "1.x"
    )
    assert read.file["reporting_entity_name"] == expected["reporting_entity_name"]
    assert read.file["version"] == expected["version"]
    # Every provider group id a rate names has its groups in the table.
    defined = {g["provider_group_id"] for g in read.rows("tic_provider_group")}
    assert {ref for r in rows for ref in r["provider_refs"]} <= defined
    assert read.reader.stats.rows_read == len(rows)


def test_v1_inline_provider_groups_are_stored_once_per_distinct_set(
    shared_data: Path,
) -> None:
    path = shared_data / "tic/cms-examples/v1.0.0/examples/in-network-rates"
    read = Read(path / "in-network-rates-multiple-plans-sample.json")

    groups = read.rows("tic_provider_group")
    assert {g["source"] for g in groups} == {"inline"}
    assert all(g["provider_group_id"].startswith("inline:") for g in groups)
    # Four rates name three distinct inline sets, four groups in all.
    assert len({g["provider_group_id"] for g in groups}) == 3
    assert len(groups) == 4
    assert groups[0]["npi"] == [
        1111111111,
        2222222222,
        3333333333,
        4444444444,
        5555555555,
    ]
    assert groups[0]["tin_type"] == "ein"
    assert groups[0]["tin_value"] == "11-1111111"


def test_v1_top_level_and_remote_references(shared_data: Path) -> None:
    path = shared_data / "tic/cms-examples/v1.6.2/examples/in-network-rates"
    read = Read(path / "in-network-rates-fee-for-service-single-plan-sample.json")

    groups = {
        (g["provider_group_id"], g["group_index"]): g
        for g in read.rows("tic_provider_group")
    }
    assert groups[("1", 0)]["source"] == "top-level"
    assert groups[("1", 0)]["resolved"] is True
    remote = groups[("2", None)]
    assert remote["source"] == "remote"
    assert remote["resolved"] is False
    assert remote["location"] == "https://www.cms.gov/some_provider_group.json"
    assert read.file["unresolved_references"] == 1


def test_v2_example_keeps_2x_fields(shared_data: Path) -> None:
    path = shared_data / "tic/cms-examples/v2.2.0/examples/in-network-rates"
    read = Read(path / "in-network-rates-fee-for-service-single-plan-sample.json")

    assert read.rows()[0]["setting"] == "inpatient"
    assert read.rows()[0]["billing_code_modifier"] == ["AS"]
    assert read.file["issuer_name"] == "ACME Issuer"
    assert read.file["plan_sponsor_name"] == "ACME small auto shop"
    group = read.rows("tic_provider_group")[0]
    assert group["network_name"] == ["ACME Choice Provider Group"]
    assert group["business_name"] == "ACME Provider Group"


def test_bundled_codes_go_to_their_own_table(shared_data: Path) -> None:
    path = shared_data / "tic/cms-examples/v2.2.0/examples/in-network-rates"
    read = Read(path / "in-network-rates-bundle-single-plan-sample.json")

    codes = read.rows("tic_item_code")
    assert [(c["item_index"], c["relation"], c["billing_code"]) for c in codes] == [
        (0, "bundled_codes", "27447"),
        (0, "bundled_codes", "27446"),
    ]


# The real CareFirst file


@pytest.fixture(scope="module")
def carefirst(shared_data: Path) -> Read:
    return Read(shared_data / CAREFIRST)


def test_carefirst_loads_every_rate(carefirst: Read) -> None:
    assert carefirst.error is None
    assert carefirst.reasons == []
    rates = carefirst.tables["tic_rate"]
    assert rates.num_rows == 122_310
    codes = rates["billing_code"].cast(pa.string())
    assert pc.count_distinct(codes).as_py() == 1_773
    classes = rates["billing_class"].cast(pa.string())
    assert pc.unique(classes).to_pylist() == ["professional"]
    assert carefirst.reader.stats.rows_read == 122_310
    file = carefirst.file
    assert file["items_read"] == 1_773
    assert file["rates_loaded"] == 122_310
    assert file["schema_generation"] == "1.x"
    assert file["complete"] is True


def test_carefirst_provider_ids_keep_their_text(carefirst: Read) -> None:
    groups = carefirst.rows("tic_provider_group")
    ids = [g["provider_group_id"] for g in groups]
    assert len(ids) == len(set(ids)) == 370
    assert "690.65570" in ids
    assert "690.6557" not in ids
    refs = set(
        pc.unique(
            pc.list_flatten(carefirst.tables["tic_rate"]["provider_refs"])
        ).to_pylist()
    )
    assert "690.65570" in refs
    assert refs <= set(ids)


def test_carefirst_references_stay_unresolved_offline(carefirst: Read) -> None:
    groups = carefirst.rows("tic_provider_group")
    assert {g["source"] for g in groups} == {"remote"}
    assert not any(g["resolved"] for g in groups)
    assert all(g["location"].startswith("https://mrf.carefirst.com/") for g in groups)
    assert carefirst.file["unresolved_references"] == 370


def test_carefirst_provenance(shared_data: Path) -> None:
    provenance = TicInNetworkReader(shared_data / CAREFIRST).provenance()
    assert provenance.kind == "tic-in-network"
    assert provenance.publisher == "CareFirst BlueCross BlueShield"
    assert provenance.release == "2020-08-27"
    assert provenance.as_of == date(2020, 8, 27)
    assert provenance.file_name == "carefirst_examplefile.json.gz"
    assert len(provenance.sha256) == 64


def test_reader_is_a_multi_table_reader(shared_data: Path) -> None:
    reader = TicInNetworkReader(shared_data / CAREFIRST)
    assert isinstance(reader, MultiTableReader)
    assert next(iter(reader.tables)) == "tic_rate"


def test_remote_references_resolve_through_the_hook(shared_data: Path) -> None:
    asked: list[str] = []

    def resolve(url: str) -> bytes | None:
        asked.append(url)
        if url.endswith("/12285_041.json"):
            return json.dumps(
                {
                    "version": "1.0.0",
                    "provider_groups": [
                        {
                            "npi": [1234567893],
                            "tin": {"type": "ein", "value": "52-1234567"},
                        }
                    ],
                }
            ).encode()
        return None

    read = Read(shared_data / CAREFIRST, resolve_remote=resolve)
    assert len(asked) == 370
    resolved = [g for g in read.rows("tic_provider_group") if g["resolved"]]
    assert [(g["provider_group_id"], g["npi"], g["source"]) for g in resolved] == [
        ("690.64462", [1234567893], "remote")
    ]
    assert read.file["unresolved_references"] == 369


# Layouts


@pytest.mark.parametrize("engine", ENGINES)
def test_references_and_header_after_in_network(
    write: Callable[..., Path], engine: str
) -> None:
    items = [item("99213"), item("99214", refs=[1, 2])]
    path = write(tic_text(items, references_last=True))

    read = Read(path, engine=engine)
    assert read.error is None
    assert [r["provider_refs"] for r in read.rows()] == [["1"], ["1", "2"]]
    groups = read.rows("tic_provider_group")
    assert [(g["provider_group_id"], g["source"], g["resolved"]) for g in groups] == [
        ("1", "top-level", True),
        ("2", "missing", False),
    ]
    assert read.file["schema_generation"] == "2.x"
    provenance = TicInNetworkReader(path, engine=engine).provenance()
    assert provenance.publisher == "Test Health"
    assert provenance.as_of == date(2025, 11, 1)


def test_provenance_after_a_pass_needs_no_skim(write: Callable[..., Path]) -> None:
    reader = TicInNetworkReader(write(tic_text([item()], references_last=True)))
    for _ in reader.table_batches():
        pass
    assert reader.provenance().release == "2025-11-01"


def test_utf8_bom_is_accepted(write: Callable[..., Path]) -> None:
    read = Read(write(b"\xef\xbb\xbf" + tic_text([item()])))
    assert read.error is None
    assert len(read.rows()) == 1
    assert read.file["json_bytes"] == len(tic_text([item()])) + 3


def test_gzip_is_found_by_magic_bytes_not_name(write: Callable[..., Path]) -> None:
    text = tic_text([item(), item("99214")])
    plain_named_gz = Read(write(text, "rates.json.gz"))
    gzip_named_json = Read(write(gzip.compress(text), "rates.json"))
    assert len(plain_named_gz.rows()) == len(gzip_named_json.rows()) == 2


def test_multi_member_gzip_is_read_to_the_end(write: Callable[..., Path]) -> None:
    text = tic_text([item(), item("99214")])
    half = len(text) // 2
    path = write(gzip.compress(text[:half]) + gzip.compress(text[half:]), "r.gz")
    assert len(Read(path).rows()) == 2


def test_zip_with_one_json_member(tmp_path: Path) -> None:
    path = tmp_path / "rates.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("rates.json", tic_text([item()]))
    read = Read(path)
    assert read.error is None
    assert len(read.rows()) == 1


def test_zip_with_two_members_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rates.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.json", tic_text([item()]))
        archive.writestr("b.json", tic_text([item()]))
    read = Read(path)
    assert str(read.error) == (
        f"{path}: expected one JSON file inside the ZIP, found 2\n"
        "Hint: unpack the ZIP and pass the in-network JSON file itself"
    )


def test_a_table_of_contents_is_not_an_in_network_file(shared_data: Path) -> None:
    path = (
        shared_data
        / "tic/cms-examples/v2.2.0/examples/table-of-contents/table-of-contents-sample.json"
    )
    reader = TicInNetworkReader(path)
    with pytest.raises(NotInNetworkFileError) as caught:
        for _ in reader.table_batches():
            pass
    assert str(caught.value) == (
        f"{path}: the file has no in_network array (none)\n"
        "Hint: pass an in-network rates file; a table of contents or an "
        "allowed-amounts file has its own reader"
    )


# Bad items: every valid one kept, each bad one quarantined with its reason

BAD_ITEMS: list[tuple[str, Any, str]] = [
    (
        "wrong type",
        item(billing_code=99213),
        "wrong type: in_network[1] at byte {offset}: Expected `str`, got `int` - at `$.billing_code`",
    ),
    (
        "missing field",
        {k: v for k, v in item().items() if k != "billing_code"},
        "missing required field: in_network[1] at byte {offset}: Object missing required field `billing_code`",
    ),
    (
        "unknown code type",
        item(billing_code_type="XYZ"),
        "unknown billing_code_type: in_network[1] at byte {offset}: 'XYZ' is not a billing code type of the TiC schema",
    ),
    (
        "negative rate",
        item(prices=[price(), price(-5.0)]),
        "negotiated_rate is not positive: in_network[1].negotiated_rates[0].negotiated_prices[1] at byte {offset}: -5.0",
    ),
    (
        "zero rate",
        item(prices=[price(0)]),
        "negotiated_rate is not positive: in_network[1].negotiated_rates[0].negotiated_prices[0] at byte {offset}: 0.0",
    ),
    (
        "absurd rate",
        item(prices=[price(), price(123456789.0)]),
        "negotiated_rate is implausibly large: in_network[1].negotiated_rates[0].negotiated_prices[1] at byte {offset}: 123456789.0",
    ),
    (
        "NaN rate",
        json.dumps(item(prices=[price(), price(float("nan"))])),
        "negotiated_rate is not a finite number: in_network[1].negotiated_rates[0].negotiated_prices[1] at byte {offset}: nan",
    ),
    (
        "rate as text",
        item(prices=[price(), price("12.50")]),
        "wrong type: in_network[1].negotiated_rates[0].negotiated_prices[1] at byte {offset}: Expected `float`, got `str` - at `$.negotiated_rate`",
    ),
    (
        "price without rate",
        item(
            prices=[
                {k: v for k, v in price().items() if k != "negotiated_rate"},
                price(),
            ]
        ),
        "missing required field: in_network[1].negotiated_rates[0].negotiated_prices[0] at byte {offset}: Object missing required field `negotiated_rate`",
    ),
    (
        "provider id not a number",
        item(refs=[{"id": 1}]),
        "invalid value: in_network[1].negotiated_rates[0] at byte {offset}: a provider_references entry is not a number",
    ),
    (
        "broken JSON",
        '{"negotiation_arrangement": "ffs", "name": }',
        "invalid JSON: in_network[1] at byte {offset}: Expecting value: line 1 column 44 (char 43)",
    ),
]


@pytest.mark.parametrize(
    ("case", "bad", "reason"), BAD_ITEMS, ids=[c[0] for c in BAD_ITEMS]
)
@pytest.mark.parametrize("engine", ENGINES)
def test_bad_item_is_quarantined_and_the_rest_kept(
    write: Callable[..., Path], engine: str, case: str, bad: Any, reason: str
) -> None:
    text = tic_text([item("99211"), bad, item("99215")])
    offset = text.index(b"[", text.index(b'"in_network"'))
    offset = text.index(b"{", text.index(b"},", offset) + 1)

    read = Read(write(text), engine=engine)

    assert read.error is None
    assert read.reasons == [reason.format(offset=offset)]
    codes = [r["billing_code"] for r in read.rows()]
    assert codes[0] == "99211" and codes[-1] == "99215"
    stats = read.reader.stats
    assert stats.rows_read == len(read.rows()) + len(stats.rejects)
    assert read.reader.stats.rejects[0].line == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_non_utf8_bytes_cost_only_their_item(
    write: Callable[..., Path], engine: str
) -> None:
    bad = json.dumps(item(name="Caf\u00e9"), ensure_ascii=False).encode()
    bad = bad.replace("\u00e9".encode(), b"\xe9")
    text = tic_text([item("99211"), "@BAD@", item("99215")]).replace(b"@BAD@", bad)
    read = Read(write(text), engine=engine)
    assert [r["billing_code"] for r in read.rows()] == ["99211", "99215"]
    assert len(read.reasons) == 1
    assert read.reasons[0].startswith("invalid UTF-8: in_network[1] at byte ")


def test_bad_provider_reference_is_quarantined(write: Callable[..., Path]) -> None:
    text = tic_text([item()]).replace(b'"npi": [1234567893]', b'"npi": ["12AB"]')
    read = Read(write(text))
    assert len(read.rows()) == 1
    assert read.reasons == [
        "wrong type: provider_references[0] at byte "
        f"{text.index(b'[{', text.index(b'provider_references')) + 1}: "
        "Expected an NPI number, got '12AB' - at `$.npi`"
    ]
    assert read.rows("tic_provider_group")[0]["source"] == "missing"


# Broken files: everything before the break yielded, then the error


@pytest.mark.parametrize("engine", ENGINES)
def test_truncated_json_keeps_items_before_the_cut(
    write: Callable[..., Path], engine: str
) -> None:
    text = tic_text([item("99211"), item("99212"), item("99213")])
    cut = text.index(b'"99213"')
    path = write(text[:cut])

    read = Read(path, engine=engine)

    assert [r["billing_code"] for r in read.rows()] == ["99211", "99212"]
    assert str(read.error) == (
        f"{path}: the JSON text ends early at byte {cut}, inside in_network[2]\n"
        f"Hint: {TRUNCATED_HINT}"
    )
    assert isinstance(read.error, TicFileBrokenError)
    assert read.error.partial
    start = text.index(b"{", text.index(b"},", text.index(b'"99212"')))
    assert read.reasons == [
        f"truncated: in_network[2] at byte {start}: the JSON text ends early at "
        f"byte {cut}, inside in_network[2]"
    ]
    assert read.file["complete"] is False
    assert read.file["items_read"] == 3
    assert read.file["items_rejected"] == 1


def test_truncated_gzip_keeps_items_before_the_cut(
    shared_data: Path, write: Callable[..., Path]
) -> None:
    whole = (shared_data / CAREFIRST).read_bytes()
    path = write(whole[: len(whole) // 2], "carefirst.json.gz")

    read = Read(path)

    assert isinstance(read.error, TicFileBrokenError)
    assert str(read.error).startswith(f"{path}: the gzip stream ends early, after ")
    assert str(read.error).endswith(
        f", inside in_network[{read.file['items_read'] - 1}]\nHint: {TRUNCATED_HINT}"
    )
    assert 50_000 < read.tables["tic_rate"].num_rows < 122_310
    assert read.reasons[-1].startswith("truncated: in_network[")
    assert read.file["complete"] is False


def test_structure_error_names_its_byte(write: Callable[..., Path]) -> None:
    text = tic_text([item()]).replace(b'"in_network": [', b'"in_network": [}')
    path = write(text)
    read = Read(path)
    at = text.index(b"[}") + 1
    assert str(read.error) == (
        f"{path}: expected an array element at byte {at}, found '}}', inside "
        "in_network[0]\nHint: the file is not valid JSON there: check that it is "
        "an in-network rates file, or download it again"
    )


# The C path and the Python path


@needs_c
@pytest.mark.parametrize("example", EXAMPLES[:3] + EXAMPLES[-3:], ids=lambda p: p.stem)
def test_c_and_python_paths_give_identical_tables(example: Path) -> None:
    fast, slow = Read(example, engine="c"), Read(example, engine="python")
    for table in fast.tables:
        assert fast.rows(table) == slow.rows(table), table
    assert fast.reasons == slow.reasons


@needs_c
def test_c_and_python_paths_agree_on_bad_items(write: Callable[..., Path]) -> None:
    items = [item(str(n)) for n in range(5)] + [bad for _, bad, _ in BAD_ITEMS]
    items += [
        item(description='Tab\tand \u00e9 and \\ "quoted" \ud83d\ude00'),
        item(
            prices=[
                price(1, service_code=None, setting=None, additional_information="x")
            ]
        ),
        json.dumps(item(severity_of_illness="major", refs=["7", 8, "@"])).replace(
            '"@"', "9.10"
        ),
        item(extra_field={"nested": [1, {"a": None}]}),
    ]
    path = write(tic_text(items))
    fast, slow = Read(path, engine="c"), Read(path, engine="python")
    for table in fast.tables:
        assert fast.rows(table) == slow.rows(table), table
    assert fast.reasons == slow.reasons
    assert fast.rows()[-2]["provider_refs"] == ["7", "8", "9.10"]


@needs_c
@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_c_and_python_scanners_agree_at_any_chunk_size(chunk: int) -> None:
    from payerbrief.sources.tic.innetwork._scan import Scanner  # type: ignore[import-not-found]

    text = tic_text(
        [item(description='a "quoted" \\ text'), item()], references_last=True
    )
    results = []
    for scanner in (Scanner(), PyScanner()):
        events = []
        for at in range(0, len(text), chunk):
            events += scanner.feed(text[at : at + chunk])
        scanner.finish()
        results.append((events, scanner.error, scanner.done, scanner.keep_from))
    assert results[0] == results[1]
    assert results[0][2] is True


# Into the warehouse


def test_warehouse_load_is_idempotent_and_reconciles(
    tmp_path: Path, write: Callable[..., Path]
) -> None:
    path = write(tic_text([item("99211"), item(billing_code_type="XYZ"), item()]))
    with Warehouse(tmp_path / "home") as warehouse:
        first = warehouse.load(TicInNetworkReader(path))
        second = warehouse.load(TicInNetworkReader(path))
        rows = warehouse.rows(
            "SELECT billing_code, provider_refs FROM tic_rate ORDER BY item_index"
        )
        groups = warehouse.rows("SELECT count(*) AS n FROM tic_provider_group")

    assert not first.skipped and second.skipped
    entry = first.entry
    assert entry.rows_loaded == 2
    assert entry.rows_rejected == 1
    assert entry.rows_read == entry.rows_loaded + entry.rows_rejected
    assert entry.reject_reasons == {"unknown billing_code_type": 1}
    assert entry.publisher == "Test Health"
    assert rows == [
        {"billing_code": "99211", "provider_refs": ["1"]},
        {"billing_code": "99213", "provider_refs": ["1"]},
    ]
    assert groups == [{"n": 1}]
