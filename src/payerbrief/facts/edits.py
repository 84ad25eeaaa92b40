"""Facts from CMS's code edits: NCCI procedure-to-procedure edits and MUEs."""

from __future__ import annotations

from typing import Any

from payerbrief.codes import BillingCode
from payerbrief.facts.model import Fact, not_available, present
from payerbrief.facts.reference import Reference
from payerbrief.sources.ncci import IN_FORCE_SQL

# What NCCI modifier indicator 1 allows, in the order a coder looks for them
# (NCCI Policy Manual, chapter I, "Modifiers and Modifier Indicators").
NCCI_MODIFIERS = (
    ("XE", "Separate encounter", "the services were done at separate encounters"),
    (
        "XS",
        "Separate structure",
        "the services were done on separate organs or structures",
    ),
    (
        "XP",
        "Separate practitioner",
        "the services were done by different practitioners",
    ),
    (
        "XU",
        "Unusual non-overlapping service",
        "the service does not overlap the usual parts of the main service",
    ),
    (
        "59",
        "Distinct procedural service",
        "the services are distinct and no X modifier says why",
    ),
)

PARTNER_LIMIT = 25


def mue(ref: Reference, code: BillingCode) -> Fact:
    sources = ref.set_sources("mue")
    if not sources:
        return not_available("No Medically Unlikely Edit file loaded")
    rows = ref.lookup(
        "SELECT service_type, mue_value, adjudication_indicator, adjudication_text, "
        "rationale FROM mue WHERE code = ? ORDER BY service_type",
        [code.code],
    )
    release = sources[0].release
    if not rows:
        return not_available(
            f"The loaded MUE tables ({release}) publish no MUE for {code.code}",
            *sources,
        )
    return present(rows, *sources)


def ncci_edits(ref: Reference, code: BillingCode) -> Fact:
    """Edits in force at the start of the loaded NCCI quarter, both directions."""
    sources = ref.set_sources("ncci-ptp")
    if not sources:
        return not_available("No NCCI procedure-to-procedure edit file loaded")
    as_of = sources[0].as_of
    if as_of is None:
        return not_available(
            f"The loaded NCCI edits ({sources[0].release}) carry no date to apply "
            "them on",
            *sources,
        )
    column1 = _partners(ref, code.code, "column1", "column2", as_of)
    column2 = _partners(ref, code.code, "column2", "column1", as_of)
    if not column1["count"] and not column2["count"]:
        return not_available(
            f"No NCCI edit in force on {as_of.isoformat()} ({sources[0].release}) "
            f"pairs {code.code} with another code",
            *sources,
        )
    return present(
        {"as_of": as_of.isoformat(), "as_column1": column1, "as_column2": column2},
        *sources,
    )


def _partners(
    ref: Reference, code: str, own: str, other: str, as_of: object
) -> dict[str, Any]:
    where = f"{own} = $code AND {IN_FORCE_SQL}"
    counts = ref.lookup(
        f"SELECT setting, modifier_indicator, count(DISTINCT {other}) AS n "
        f"FROM ncci_ptp WHERE {where} GROUP BY ALL ORDER BY ALL",
        {"code": code, "as_of": as_of},
    )
    partners = ref.lookup(
        f"SELECT {other} AS code, min(modifier_indicator) AS modifier_indicator, "
        f"string_agg(DISTINCT setting, ', ' ORDER BY setting) AS settings, "
        f"min(rationale) AS rationale FROM ncci_ptp WHERE {where} "
        f"GROUP BY {other} ORDER BY {other} LIMIT {PARTNER_LIMIT}",
        {"code": code, "as_of": as_of},
    )
    total = ref.lookup(
        f"SELECT count(DISTINCT {other}) AS n FROM ncci_ptp WHERE {where}",
        {"code": code, "as_of": as_of},
    )[0]["n"]
    return {
        "count": total,
        "by_indicator": counts,
        "partners": partners,
        "listed": PARTNER_LIMIT,
    }


def ncci_modifier_rows(edits: Fact) -> list[dict[str, Any]]:
    """Modifier rows for the modifiers table when any edit allows a modifier."""
    if not edits.present:
        return []
    allowing = sum(
        row["n"]
        for side in ("as_column1", "as_column2")
        for row in edits.value[side]["by_indicator"]
        if row["modifier_indicator"] == "1"
    )
    if not allowing:
        return []
    return [
        {
            "modifier": modifier,
            "description": label,
            "description_source": "payerbrief label",
            "when": f"an NCCI edit with modifier indicator 1 pairs the codes and {when}",
            "indicator": "NCCI modifier indicator 1",
        }
        for modifier, label, when in NCCI_MODIFIERS
    ]
