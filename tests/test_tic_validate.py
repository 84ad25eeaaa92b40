"""Schema validation of TiC files: the CMS examples, broken copies, CareFirst."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from payerbrief.sources.tic import validate
from payerbrief.sources.tic.jsonitems import TicFileError
from payerbrief.sources.tic.validate import (
    ValidationReport,
    Violation,
    choose_version,
    validate_file,
)

EXAMPLES_ROOT = Path(__file__).resolve().parents[2] / "shared/data/tic/cms-examples"
EXAMPLES = sorted(EXAMPLES_ROOT.glob("v*/examples/*/*.json"))
FFS_2X = (
    EXAMPLES_ROOT
    / "v2.2.0/examples/in-network-rates/in-network-rates-fee-for-service-single-plan-sample.json"
)
TOC_2X = (
    EXAMPLES_ROOT / "v2.2.0/examples/table-of-contents/table-of-contents-sample.json"
)

# The one official example that breaks its own declared schema: it declares
# version 1.0.0 yet uses billing_class "both", which 1.0.0 does not allow.
KNOWN_BAD = {
    "v1.6.2/examples/in-network-rates/in-network-rates-multiple-plans-sample.json": [
        Violation(
            "in_network[0].negotiated_rates[1].negotiated_prices[1].billing_class",
            "'both' is not one of ['professional', 'institutional']",
            "enum",
            "in_network[0]",
        )
    ]
}


def example_id(path: Path) -> str:
    return str(path.relative_to(EXAMPLES_ROOT))


def test_all_examples_are_found() -> None:
    assert len(EXAMPLES) == 32


@pytest.mark.parametrize("path", EXAMPLES, ids=[example_id(p) for p in EXAMPLES])
def test_cms_example_validates(path: Path) -> None:
    report = validate_file(path)
    expected = KNOWN_BAD.get(example_id(path), [])
    found = [Violation(v.path, v.message, v.keyword, v.item) for v in report.violations]
    assert found == expected, report.summary()
    assert report.violation_count == len(expected)
    assert sum(report.items.values()) > 0 or "empty" in path.name


@pytest.mark.parametrize(
    ("name", "kind", "declared", "used", "note"),
    [
        (
            "v1.0.0/examples/table-of-contents/table-of-contents-sample.json",
            "table-of-contents",
            None,
            "1.0.0",
            "the file names no version; checked against 1.0.0, the first schema "
            "(table-of-contents 1.0.0 had no version field)",
        ),
        (
            "v1.6.2/examples/table-of-contents/table-of-contents-sample.json",
            "table-of-contents",
            "1.4.0",
            "1.6.2",
            "version 1.4.0 is not shipped; checked against 1.6.2, the nearest "
            "shipped 1.x schema",
        ),
        (
            "v1.6.2/examples/provider-reference/provider-reference.json",
            "provider-reference",
            "1.4.0",
            "1.6.2",
            "version 1.4.0 is not shipped; checked against 1.6.2, the nearest "
            "shipped 1.x schema",
        ),
        (
            "v2.2.0/examples/allowed-amounts/allowed-amounts-single-plan-sample.json",
            "allowed-amounts",
            "2.0.0",
            "2.2.0",
            "version 2.0.0 is not shipped; checked against 2.2.0, the nearest "
            "shipped 2.x schema",
        ),
        (
            "v1.0.0/examples/allowed-amounts/allowed-amounts-single-plan-sample.json",
            "allowed-amounts",
            "1.0.0",
            "1.0.0",
            None,
        ),
    ],
)
def test_kind_and_version_fallback(
    name: str, kind: str, declared: str | None, used: str, note: str | None
) -> None:
    report = validate_file(EXAMPLES_ROOT / name)
    assert (report.file_kind, report.declared_version) == (kind, declared)
    assert report.schema_version == used
    assert report.notes == ([note] if note else [])


@pytest.mark.parametrize(
    ("declared", "kind", "used"),
    [
        ("1.2.0", "in-network-rates", "1.6.2"),
        ("1.0.1", "in-network-rates", "1.0.0"),
        ("1.9.0", "in-network-rates", "1.6.2"),
        ("2.0.0", "table-of-contents", "2.2.0"),
        ("v2.2.0", "table-of-contents", "2.2.0"),
        ("2.0.0", "provider-reference", "1.6.2"),
        ("3.0.0", "allowed-amounts", "2.2.0"),
        ("draft", "allowed-amounts", "2.2.0"),
    ],
)
def test_choose_version(declared: str, kind: str, used: str) -> None:
    assert choose_version(declared, kind)[0] == used


# Broken copies


def broken_copy(tmp_path: Path, source: Path, change: Any) -> Path:
    document = json.loads(source.read_text())
    change(document)
    path = tmp_path / source.name
    path.write_text(json.dumps(document, indent=1))
    return path


def first_price(doc: dict[str, Any]) -> dict[str, Any]:
    price: dict[str, Any] = doc["in_network"][1]["negotiated_rates"][0][
        "negotiated_prices"
    ][0]
    return price


def set_rate_text(doc: dict[str, Any]) -> None:
    first_price(doc)["negotiated_rate"] = "123.45"


def drop_billing_class(doc: dict[str, Any]) -> None:
    del first_price(doc)["billing_class"]


def drop_entity(doc: dict[str, Any]) -> None:
    del doc["reporting_entity_name"]


def bad_date(doc: dict[str, Any]) -> None:
    doc["last_updated_on"] = "2020-02-30"


def wrong_group_id(doc: dict[str, Any]) -> None:
    doc["provider_references"][1]["provider_group_id"] = 2.5


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            set_rate_text,
            Violation(
                "in_network[1].negotiated_rates[0].negotiated_prices[0].negotiated_rate",
                "'123.45' is not of type 'number'",
                "type",
                "in_network[1]",
            ),
        ),
        (
            drop_billing_class,
            Violation(
                "in_network[1].negotiated_rates[0].negotiated_prices[0].billing_class",
                "'billing_class' is a required property",
                "required",
                "in_network[1]",
            ),
        ),
        (
            drop_entity,
            Violation(
                "reporting_entity_name",
                "'reporting_entity_name' is a required property",
                "required",
            ),
        ),
        (
            bad_date,
            Violation("last_updated_on", "'2020-02-30' is not a 'date'", "format"),
        ),
        (
            wrong_group_id,
            Violation(
                "provider_references[1].provider_group_id",
                "2.5 is not of type 'integer'",
                "type",
                "provider_references[1]",
            ),
        ),
    ],
)
def test_broken_copy_names_the_path(
    tmp_path: Path, change: Any, expected: Violation
) -> None:
    report = validate_file(broken_copy(tmp_path, FFS_2X, change))
    found = [Violation(v.path, v.message, v.keyword, v.item) for v in report.violations]
    assert found == [expected]
    if expected.item:
        offset = report.violations[0].offset
        assert (
            offset is not None and 0 < offset <= (tmp_path / FFS_2X.name).stat().st_size
        )


def test_many_violations_are_counted_and_summarised(tmp_path: Path) -> None:
    def spoil(doc: dict[str, Any]) -> None:
        for item in doc["in_network"]:
            for rate in item["negotiated_rates"]:
                for price in rate["negotiated_prices"]:
                    price["negotiated_rate"] = str(price["negotiated_rate"])

    path = broken_copy(tmp_path, FFS_2X, spoil)
    report = validate_file(path, keep=2)
    assert report.violation_count == 5
    assert len(report.violations) == 2
    assert report.failed_items == 2
    assert report.summary() == "\n".join(
        [
            f"{path}: in-network-rates file, version 2.0.0, checked against the CMS "
            "schema 2.2.0",
            "  note: version 2.0.0 is not shipped; checked against 2.2.0, the nearest "
            "shipped 2.x schema",
            "  provider_references: 2 elements checked",
            "  in_network: 2 elements checked",
            "  5 violations, 2 elements with at least one",
            "  by rule: type 5",
            "  5 at in_network[].negotiated_rates[].negotiated_prices[].negotiated_rate",
        ]
    )


def test_array_rules_from_counts(tmp_path: Path) -> None:
    def repeat(doc: dict[str, Any]) -> None:
        doc["reporting_structure"].append(doc["reporting_structure"][0])

    report = validate_file(broken_copy(tmp_path, TOC_2X, repeat))
    assert [(v.path, v.message, v.keyword) for v in report.violations] == [
        (
            "reporting_structure[2]",
            "repeats reporting_structure[0]; the schema asks for unique items",
            "uniqueItems",
        )
    ]

    def empty(doc: dict[str, Any]) -> None:
        doc["in_network"] = []

    report = validate_file(broken_copy(tmp_path, FFS_2X, empty))
    assert [(v.path, v.message, v.keyword) for v in report.violations] == [
        ("in_network", "has 0 elements, fewer than the 1 required", "minItems")
    ]


def test_big_array_of_wrong_type(tmp_path: Path) -> None:
    def spoil(doc: dict[str, Any]) -> None:
        doc["reporting_structure"] = {"reporting_plans": []}

    report = validate_file(broken_copy(tmp_path, TOC_2X, spoil))
    assert [(v.path, v.keyword) for v in report.violations] == [
        ("reporting_structure", "type")
    ]


def test_version_after_the_arrays(tmp_path: Path) -> None:
    document = json.loads(TOC_2X.read_text())
    version = document.pop("version")
    document["version"] = version
    path = tmp_path / "late.json"
    path.write_text(json.dumps(document))
    report = validate_file(path)
    assert report.declared_version == "2.0.0"
    assert report.valid, report.summary()


def test_not_a_tic_file(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": "world"}')
    with pytest.raises(TicFileError, match="none of in_network, provider_references"):
        validate_file(path)


def test_truncated_file(tmp_path: Path) -> None:
    data = FFS_2X.read_bytes()
    path = tmp_path / "cut.json"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(TicFileError) as caught:
        validate_file(path)
    assert caught.value.offset == len(data) // 2
    assert "the file ends before its JSON is complete" in str(caught.value)


@pytest.fixture
def without_screen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(validate, "jsonschema_rs", None)
    validate.schema_set.cache_clear()
    yield
    validate.schema_set.cache_clear()


@pytest.mark.usefixtures("without_screen")
def test_same_verdict_without_the_screen(tmp_path: Path) -> None:
    report = validate_file(broken_copy(tmp_path, FFS_2X, set_rate_text))
    assert [v.path for v in report.violations] == [
        "in_network[1].negotiated_rates[0].negotiated_prices[0].negotiated_rate"
    ]


def test_carefirst_file_validates(shared_data: Path) -> None:
    # jsonschema alone takes minutes on this file; the screen makes it seconds.
    pytest.importorskip("jsonschema_rs")
    path = shared_data / "tic/carefirst/carefirst_examplefile.json.gz"
    with gzip.open(path) as probe:
        assert probe.read(1) == b"{"
    started = time.perf_counter()
    report: ValidationReport = validate_file(path)
    elapsed = time.perf_counter() - started
    assert report.file_kind == "in-network-rates"
    assert (report.declared_version, report.schema_version) == ("1.0.0", "1.0.0")
    assert report.items == {"provider_references": 370, "in_network": 1773}
    assert report.valid, report.summary()
    assert elapsed < 60, elapsed
