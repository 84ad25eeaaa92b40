"""Schema 2.x in-network rates files for four payer families, with known rates.

Tests only: the demo stays on the real CareFirst file. Every rate below is
chosen so the statistics can be worked out by hand; the comments say which
flag each odd rate should raise. Codes are real fee-schedule codes (99213,
31231, 27447, 70553 with 26 and TC, 3372F) and E0601, which has rates but no
Physician Fee Schedule amount.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# NPI 1000000111 practises in ZIP 21201 (tests/data/nppes), which the test
# ZIP-locality file puts in Maryland locality 12302-01 (Baltimore).
BALTIMORE_NPI = 1000000111

DESCRIPTIONS = {
    "99213": "Office visit, established patient",
    "31231": "Nasal endoscopy, diagnostic",
    "27447": "Total knee arthroplasty",
    "70553": "MRI brain without and with contrast",
    "3372F": "Tracking code",
    "E0601": "Continuous positive airway pressure device",
}


def group(group_id: int, npi: int, tin: str) -> dict[str, Any]:
    return {
        "provider_group_id": group_id,
        "network_name": ["Test Network"],
        "provider_groups": [
            {
                "npi": [npi],
                "tin": {"type": "ein", "value": tin, "business_name": f"Clinic {tin}"},
            }
        ],
    }


def price(
    rate: float,
    pos: list[str] | None = ("11",),  # type: ignore[assignment]
    *,
    billing_class: str = "professional",
    negotiated_type: str = "negotiated",
    modifiers: list[str] | None = None,
    setting: str = "outpatient",
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "negotiated_type": negotiated_type,
        "negotiated_rate": rate,
        "expiration_date": "9999-12-31",
        "billing_class": billing_class,
        "setting": setting,
    }
    if pos is not None:
        found["service_code"] = list(pos)
    if modifiers:
        found["billing_code_modifier"] = modifiers
    return found


def item(
    code: str, rates: list[tuple[list[int], list[dict[str, Any]]]]
) -> dict[str, Any]:
    """One `in_network` item: (provider group ids, prices) per negotiated rate."""
    return {
        "negotiation_arrangement": "ffs",
        "name": DESCRIPTIONS[code],
        "billing_code_type": "HCPCS" if code[0].isalpha() else "CPT",
        "billing_code_type_version": "2025",
        "billing_code": code,
        "description": DESCRIPTIONS[code],
        "negotiated_rates": [
            {"provider_references": refs, "negotiated_prices": prices}
            for refs, prices in rates
        ],
    }


def document(
    entity: str, plan: str, groups: list[dict[str, Any]], items: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "reporting_entity_name": entity,
        "reporting_entity_type": "health insurance issuer",
        "plan_name": plan,
        "plan_id_type": "hios",
        "plan_id": "12345VA0010001",
        "plan_market_type": "group",
        "issuer_name": entity,
        "last_updated_on": "2025-11-01",
        "version": "2.2.0",
        "provider_references": groups,
        "in_network": items,
    }


def each(ids: list[int], values: list[float], **options: Any) -> list[Any]:
    """One negotiated rate per provider group, with one price each."""
    return [([i], [price(v, **options)]) for i, v in zip(ids, values, strict=True)]


def aetna() -> dict[str, Any]:
    groups = [group(i, 1000000000 + 100 * i + 3, f"11-000000{i}") for i in range(1, 9)]
    groups.append(group(9, BALTIMORE_NPI, "11-0000009"))
    office = each([1, 2, 3, 4, 5], [100.0, 110.0, 120.0, 130.0, 140.0])
    office += [
        ([6], [price(0.01)]),  # a one-cent placeholder
        ([7], [price(999999.0)]),  # a sentinel
        ([8], [price(105.0), price(115.0)]),  # a conflict: two prices, one provider
        ([9], [price(125.0)]),  # the Baltimore provider
    ]
    items = [
        item("99213", office),
        item(
            "70553",
            each([1, 2, 3], [80.0, 85.0, 90.0], modifiers=["26"])
            + each([1, 2, 3], [300.0, 320.0, 340.0], modifiers=["TC"])
            + each([1, 2, 3], [400.0, 420.0, 440.0]),
        ),
        item(
            "27447",
            each([1, 2, 3], [1200.0, 1300.0, 1400.0], pos=["21", "22"])
            + each(
                [4, 5, 6],
                [15000.0, 16000.0, 17000.0],
                pos=None,
                billing_class="institutional",
                setting="inpatient",
            )
            + each(
                [4, 5, 6],
                [2500.0, 2600.0, 2700.0],
                pos=None,
                billing_class="institutional",
                setting="inpatient",
                negotiated_type="per diem",
            ),
        ),
        item(
            "31231",
            each(
                [1, 2, 3], [80.0, 85.0, 90.0], pos=["24"], negotiated_type="percentage"
            ),
        ),
        item("E0601", each([1, 2, 3], [50.0, 55.0, 60.0], pos=["12"])),
        item("3372F", each([1, 2, 3], [0.01, 0.01, 0.01])),  # placeholders only
    ]
    return document(
        "Aetna Life Insurance Company",
        "Aetna Open Access Managed Choice",
        groups,
        items,
    )


def bcbs() -> dict[str, Any]:
    groups = [group(i, 1000000000 + 200 * i + 7, f"22-000000{i}") for i in range(1, 6)]
    items = [
        # The same $95 for every provider group in the file: a blanket rate.
        item("99213", each([1, 2, 3, 4, 5], [95.0] * 5)),
        item(
            "31231",
            each([1, 2, 3, 4], [150.0, 160.0, 170.0, 180.0], pos=["24"])
            + each([5], [15000.0], pos=["24"]),  # 240 times Medicare: an outlier
        ),
        item("70553", each([1, 2], [310.0, 330.0], modifiers=["TC"])),
    ]
    return document(
        "Highmark Blue Cross Blue Shield", "Highmark PPO Blue", groups, items
    )


def cigna() -> dict[str, Any]:
    groups = [group(i, 1000000000 + 300 * i + 1, f"33-000000{i}") for i in range(1, 6)]
    knee = each([1, 2, 3, 4], [1500.0, 1600.0, 1700.0, 1800.0], pos=["22"])
    knee.append(([4], [price(1800.0, pos=["22"])]))  # listed twice: a duplicate
    items = [
        item("99213", each([1, 2], [90.0, 92.0])),  # two rates: withheld
        item("27447", knee),
    ]
    return document(
        "Connecticut General Life Insurance Company",
        "Cigna Open Access Plus",
        groups,
        items,
    )


def united(plan: str) -> dict[str, Any]:
    groups = [group(i, 1000000000 + 400 * i + 9, f"44-000000{i}") for i in range(1, 6)]
    items = [
        item(
            "99213",
            each([1, 2, 3, 4, 5], [80.0, 85.0, 88.0, 92.0, 97.0], pos=["11", "22"]),
        ),
    ]
    return document("UnitedHealthcare Insurance Company", plan, groups, items)


def write_payer_files(folder: Path) -> dict[str, Path]:
    """Write the files; returns them by a short name. Two UnitedHealthcare plans
    carry the same 99213 rates, to be counted once."""
    folder.mkdir(parents=True, exist_ok=True)
    documents = {
        "aetna": aetna(),
        "bcbs": bcbs(),
        "cigna": cigna(),
        "uhc-choice": united("Choice Plus"),
        "uhc-options": united("Options PPO"),
    }
    paths = {}
    for name, content in documents.items():
        path = folder / f"{name}_in-network-rates.json"
        path.write_text(json.dumps(content, indent=1), encoding="utf-8")
        paths[name] = path
    return paths
