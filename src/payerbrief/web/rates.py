"""Rates of one code as rows, the same shape for every payer.

Today the rows are Medicare's fee-schedule amounts, national and by locality,
taken from the brief's payment facts. The shape has room for commercial
negotiated rates: a row names its payer, plan and provider group, billing
class, setting, places of service and modifiers, and the area it applies to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from payerbrief.facts.model import Fact, FactSet, SourceRef

SETTINGS = (("non_facility", "non-facility"), ("facility", "facility"))

# The Physician Fee Schedule pays professionals; institutional claims are paid
# under other Medicare payment systems, which are not loaded.
MEDICARE_BILLING_CLASS = "professional"


@dataclass(frozen=True)
class RateFilter:
    payer: str | None = None
    billing_class: str | None = None
    # The setting a place of service is paid at (from the POS file), if given.
    setting: str | None = None

    def keeps(self, row: dict[str, Any]) -> bool:
        return (
            (self.payer is None or row["payer"] == self.payer)
            and (
                self.billing_class is None or row["billing_class"] == self.billing_class
            )
            and (self.setting is None or row["setting"] == self.setting)
        )


def _medicare_row(
    part: str,
    modifier: str | None,
    setting: str,
    amount: float | None,
    area: dict[str, Any],
    sources: Sequence[SourceRef],
) -> dict[str, Any]:
    return {
        "payer": "Medicare",
        "rate_type": "fee schedule",
        "plan": None,
        "provider_group": None,
        "billing_class": MEDICARE_BILLING_CLASS,
        "setting": setting,
        "places_of_service": None,
        "modifiers": [modifier] if modifier else [],
        "part": part,
        "area": area,
        "amount": amount,
        "currency": "USD",
        "sources": [s.load_id for s in sources],
    }


NATIONAL = {"kind": "national", "id": "national", "name": "National", "state": None}


def medicare_rows(facts: FactSet) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    national = facts["medicare_national"]
    if national.present:
        for r in national.value:
            for key, setting in SETTINGS:
                rows.append(
                    _medicare_row(
                        r["part"],
                        r["modifier"],
                        setting,
                        r[key],
                        NATIONAL,
                        national.sources,
                    )
                )
    localities = facts["medicare_localities"]
    if localities.present:
        part = localities.value["part"]
        modifier = next(
            (r["modifier"] for r in national.value if r["part"] == part), None
        )
        for loc in localities.value["rows"]:
            area = {
                "kind": "locality",
                "id": loc["locality"],
                "name": loc["name"],
                "state": loc["state"],
            }
            for key, setting in SETTINGS:
                rows.append(
                    _medicare_row(
                        part, modifier, setting, loc[key], area, localities.sources
                    )
                )
    return rows


# Payers whose rates this module turns into rows.
LISTED = frozenset({"Medicare"})


def _coverage_row(payer: str, fact: Fact) -> dict[str, Any]:
    return {
        "payer": payer,
        "state": fact.state.value,
        "reason": None if fact.present else fact.reason,
        "listed": payer in LISTED,
    }


def coverage(facts: FactSet) -> list[dict[str, Any]]:
    """Each payer looked for, with whether the loaded files have its rates."""
    rows = [_coverage_row("Medicare", facts["medicare_national"])]
    rows += [
        _coverage_row(name.removeprefix("payer:"), fact)
        for name, fact in facts.items()
        if name.startswith("payer:")
    ]
    return rows


def rate_sources(facts: FactSet) -> list[dict[str, Any]]:
    seen: dict[str, SourceRef] = {}
    for _, fact in facts.items():
        for source in fact.sources:
            seen.setdefault(source.load_id, source)
    return [s.to_dict() for s in sorted(seen.values(), key=lambda s: s.load_id)]


def page_of(
    rows: list[dict[str, Any]], page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of rows, and the number of pages."""
    pages = max(1, -(-len(rows) // page_size))
    start = (page - 1) * page_size
    return rows[start : start + page_size], pages
