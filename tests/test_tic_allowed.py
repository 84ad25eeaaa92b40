"""The allowed-amounts reader, on every CMS example and on broken files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from payerbrief.sources.tic.allowed import AllowedAmountsReader
from payerbrief.sources.tic.jsonitems import TicFileError
from payerbrief.store.warehouse import Warehouse

EXAMPLES = sorted(
    (Path(__file__).resolve().parents[2] / "shared/data/tic/cms-examples").glob(
        "v*/examples/allowed-amounts/*.json"
    )
)


def read_tables(reader: AllowedAmountsReader) -> dict[str, pa.Table]:
    batches: dict[str, list[pa.RecordBatch]] = {name: [] for name in reader.tables}
    for name, batch in reader.table_batches():
        batches[name].append(batch)
    return {
        name: pa.Table.from_batches(found, schema=reader.tables[name])
        for name, found in batches.items()
    }


def test_all_examples_are_found() -> None:
    assert len(EXAMPLES) == 12


@pytest.mark.parametrize(
    "path", EXAMPLES, ids=[f"{p.parts[-4]}/{p.name}" for p in EXAMPLES]
)
def test_cms_example(path: Path) -> None:
    reader = AllowedAmountsReader(path)
    tables = read_tables(reader)
    empty = "empty" in path.name
    assert tables["tic_allowed_amount"].num_rows == (0 if empty else 1)
    assert reader.stats.rows_read == tables["tic_allowed_amount"].num_rows
    assert reader.stats.rejects == []
    [file_row] = tables["tic_allowed_file"].to_pylist()
    assert file_row["items_read"] == (0 if empty else 1)
    assert file_row["last_updated_on"] == "2020-08-27"
    single = "single-plan" in path.name
    assert (file_row["plan_name"] == "medicare") is single
    provenance = reader.provenance()
    assert provenance.kind == "tic-allowed-amounts"
    assert provenance.as_of == date(2020, 8, 27)
    assert provenance.release == ("2.0.0" if "v2.2.0" in str(path) else "1.0.0")


def test_example_row(shared_data: Path) -> None:
    path = (
        shared_data
        / "tic/cms-examples/v2.2.0/examples/allowed-amounts"
        / "allowed-amounts-single-plan-sample.json"
    )
    [row] = read_tables(AllowedAmountsReader(path))["tic_allowed_amount"].to_pylist()
    assert row["description"].startswith("office or other outpatient visits")
    del row["description"]
    assert row == {
        "item_index": 0,
        "allowed_index": 0,
        "payment_index": 0,
        "billing_code_type": "CPT",
        "billing_code_type_version": "2020",
        "billing_code": "99214",
        "name": "Established Patient Office or Other Outpatient Services",
        "tin_type": "ein",
        "tin_value": "1234567890",
        "service_code": ["01", "02", "03"],
        "billing_class": "professional",
        "setting": "outpatient",
        "allowed_amount": 25.0,
        "billing_code_modifier": ["25"],
        "providers": [
            {"billed_charge": 50.0, "npi": [1234567891, 1234567892, 1234567893]},
            {"billed_charge": 60.0, "npi": [1111111111]},
            {
                "billed_charge": 70.0,
                "npi": [2222222222, 3333333333, 4444444444, 5555555555],
            },
        ],
        "npi": [
            1234567891,
            1234567892,
            1234567893,
            1111111111,
            2222222222,
            3333333333,
            4444444444,
            5555555555,
        ],
    }


def test_load_and_unnest_billed_charges(shared_data: Path, tmp_path: Path) -> None:
    path = (
        shared_data
        / "tic/cms-examples/v1.6.2/examples/allowed-amounts"
        / "allowed-amounts-multiple-plan-sample.json"
    )
    with Warehouse(tmp_path / "home") as warehouse:
        entry = warehouse.load(AllowedAmountsReader(path)).entry
        assert (entry.rows_read, entry.rows_loaded, entry.rows_rejected) == (1, 1, 0)
        charges = warehouse.rows(
            "SELECT billing_code, allowed_amount, p.billed_charge AS billed "
            "FROM tic_allowed_amount, UNNEST(providers) AS t(p) ORDER BY billed"
        )
        assert [
            (r["billing_code"], r["allowed_amount"], r["billed"]) for r in charges
        ] == [
            ("99214", 25.0, 50.0),
            ("99214", 25.0, 60.0),
            ("99214", 25.0, 70.0),
        ]


# Broken files


def provider(charge: Any = 50.0, npi: Any = None) -> dict[str, Any]:
    return {"billed_charge": charge, "npi": [1234567891] if npi is None else npi}


def payment(amount: Any = 25.0, **extra: Any) -> dict[str, Any]:
    return {"allowed_amount": amount, "providers": [provider()], **extra}


def allowed(payments: list[Any], **extra: Any) -> dict[str, Any]:
    entry = {
        "tin": {"type": "ein", "value": "1234567890"},
        "service_code": ["11"],
        "billing_class": "professional",
        "payments": payments,
    }
    entry.update(extra)
    return {k: v for k, v in entry.items() if v is not None}


def item(entries: list[Any], **extra: Any) -> dict[str, Any]:
    element = {
        "name": "Office visit",
        "billing_code_type": "CPT",
        "billing_code_type_version": "2024",
        "billing_code": "99213",
        "description": "Office visit, established patient",
        "allowed_amounts": entries,
    }
    element.update(extra)
    return {k: v for k, v in element.items() if v is not None}


def write_allowed(path: Path, elements: list[Any]) -> Path:
    document = {
        "reporting_entity_name": "Example Health Plan",
        "reporting_entity_type": "health insurance issuer",
        "last_updated_on": "2024-05-01",
        "version": "1.0.0",
        "out_of_network": elements,
    }
    path.write_text(json.dumps(document, indent=1))
    return path


def test_bad_units_are_quarantined_at_their_level(tmp_path: Path) -> None:
    elements = [
        item([allowed([payment(), payment(30.0)]), allowed([payment(40.0)])]),
        item([allowed([payment(), payment(), payment()])], billing_code=None),
        item(
            [
                allowed([payment()], tin=None),
                allowed([payment("25.00"), payment(41.0), payment(True)]),
                allowed([payment(providers=[provider(npi=["1234567891"])])]),
            ]
        ),
        7,
        item([allowed([payment(providers=[provider(charge=None)])])]),
    ]
    path = write_allowed(tmp_path / "aa.json", elements)
    reader = AllowedAmountsReader(path)
    tables = read_tables(reader)
    amounts = tables["tic_allowed_amount"].to_pylist()
    assert [r["allowed_amount"] for r in amounts] == [25.0, 30.0, 40.0, 41.0]
    reasons = [
        (r.line, r.reason.split(" (element ends")[0]) for r in reader.stats.rejects
    ]
    assert reasons == [
        (1, "missing field: out_of_network[1].billing_code (3 payments held back)"),
        (
            2,
            "missing field: out_of_network[2].allowed_amounts[0].tin (1 payment held back)",
        ),
        (
            2,
            "wrong type: out_of_network[2].allowed_amounts[1].payments[0].allowed_amount "
            "is a string, not a number",
        ),
        (
            2,
            "wrong type: out_of_network[2].allowed_amounts[1].payments[2].allowed_amount "
            "is a boolean, not a number",
        ),
        (
            2,
            "wrong type: out_of_network[2].allowed_amounts[2].payments[0].providers[0]"
            ".npi[0] is a string, not a number",
        ),
        (
            3,
            "wrong type: out_of_network[3] is a number, not an object (0 payments held back)",
        ),
        (
            4,
            "wrong type: out_of_network[4].allowed_amounts[0].payments[0].providers[0]"
            ".billed_charge is null, not a number",
        ),
    ]
    assert reader.stats.rows_read == len(amounts) + len(reader.stats.rejects)
    assert json.loads(reader.stats.rejects[2].raw)["allowed_amount"] == "25.00"
    [file_row] = tables["tic_allowed_file"].to_pylist()
    assert (file_row["items_read"], file_row["payments_loaded"]) == (5, 4)
    assert file_row["rows_rejected"] == 7


def test_manifest_reconciles(tmp_path: Path) -> None:
    elements = [
        item([allowed([payment(), payment("x")])]),
        item([], billing_code_type=5),
    ]
    path = write_allowed(tmp_path / "aa.json", elements)
    with Warehouse(tmp_path / "home") as warehouse:
        entry = warehouse.load(AllowedAmountsReader(path)).entry
        rejects = warehouse.rows("SELECT line, reason FROM rejects ORDER BY line")
    assert (entry.rows_read, entry.rows_loaded, entry.rows_rejected) == (3, 1, 2)
    assert entry.reject_reasons == {"wrong type": 2}
    assert [r["line"] for r in rejects] == [0, 1]


def test_truncated_file(tmp_path: Path) -> None:
    path = write_allowed(tmp_path / "aa.json", [item([allowed([payment()])])] * 5)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 200])
    reader = AllowedAmountsReader(path)
    with pytest.raises(TicFileError) as caught:
        read_tables(reader)
    assert caught.value.item == "after out_of_network[3]"
    assert caught.value.offset == len(data) - 200
    assert "the file ends before its JSON is complete" in str(caught.value)


def test_table_of_contents_given_as_allowed_amounts(shared_data: Path) -> None:
    path = (
        shared_data
        / "tic/cms-examples/v2.2.0/examples/table-of-contents"
        / "table-of-contents-sample.json"
    )
    with pytest.raises(TicFileError) as caught:
        AllowedAmountsReader(path).provenance()
    assert str(caught.value) == (
        f"{path}: no out_of_network array: this is not an allowed-amounts file\n"
        "Hint: this one has reporting_structure, so it is a table-of-contents file"
    )


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            {"reporting_entity_name": "x"},
            "no out_of_network array: this is not an allowed-amounts file",
        ),
        ({"out_of_network": "none"}, "out_of_network is a string, not an array"),
    ],
)
def test_not_allowed_amounts(tmp_path: Path, document: Any, problem: str) -> None:
    path = tmp_path / "aa.json"
    path.write_text(json.dumps(document))
    with pytest.raises(TicFileError) as caught:
        AllowedAmountsReader(path).provenance()
    assert caught.value.problem == problem
