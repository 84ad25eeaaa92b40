"""Negotiated rates of one code by payer: statistics, flags and Medicare comparison.

Built from the stored per-file summaries (`summaries.py`), merged here, so a
brief never rereads a payer file. For each payer family: how many rates,
providers and plans; min, p10, p25, median, p75, p90, max and mean of the
dollar rates (percentage and per-diem rates apart, never mixed in); the same
split by billing class, setting, place of service, modifier, negotiated type
and plan; each as a percent of the matching Medicare amount; and the rates
flagged as ghosts or placeholders with what was done with them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from payerbrief.codes import BillingCode
from payerbrief.facts.ghosts import Fences, fences, flag_rows
from payerbrief.facts.medicare import Gpci, Rvus, amount, priced
from payerbrief.facts.model import (
    Fact,
    SourceRef,
    not_applicable,
    not_available,
    present,
    withheld,
)
from payerbrief.facts.reference import RateFile, Reference
from payerbrief.facts.sketch import Dist, IdSet, rank_error

# The commercial payer families every brief looks for (PRODUCT.md section 1).
PAYERS = ("Aetna", "Blue Cross Blue Shield", "Cigna", "UnitedHealthcare")

MIN_RATES = 3
QUANTILES = (("p10", 0.1), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.9))
# TiC negotiated_type: three kinds are dollar amounts; a percentage is a share
# of billed charges and a per diem is dollars per day, so each stays apart.
UNITS = {"percentage": "percent", "per diem": "per diem"}
DOLLARS = "dollars"

# Split dimensions: their key in facts, and their words.
DIMENSIONS = {
    "billing_class": "billing class",
    "setting": "setting",
    "place_of_service": "place of service",
    "pos_setting": "place of service setting",
    "modifier": "modifier",
    "negotiated_type": "negotiated type",
    "plan": "plan",
}

INSTITUTIONAL = (
    "institutional rates pay a facility, which Medicare pays under its hospital "
    "payment systems, not the Physician Fee Schedule loaded here"
)


@dataclass(frozen=True)
class Group:
    """One stored summary row of a code, with its file's payer and plan."""

    row: dict[str, Any]
    file: RateFile

    @property
    def unit(self) -> str:
        return UNITS.get(self.row["negotiated_type"], DOLLARS)

    @cached_property
    def dist(self) -> Dist:
        r = self.row
        if r["n"] == 0:
            return Dist.empty()
        return Dist.stored(
            r["n"], r["total"], r["low"], r["high"], r["vals"], r["sketch"]
        )

    @cached_property
    def npis(self) -> IdSet:
        return IdSet.stored(self.row["npis"], self.row["npi_sketch"])

    @cached_property
    def tins(self) -> IdSet:
        return IdSet.stored(self.row["tins"], self.row["tin_sketch"])

    @property
    def repeat_key(self) -> tuple[Any, ...]:
        keys = ("code_type", "billing_class", "setting", "pos", "modifier")
        return (
            self.file.family,
            *(self.row[k] for k in keys),
            self.row["negotiated_type"],
            self.row["locality"],
            self.row["fingerprint"],
        )


@dataclass
class Basis:
    """The Medicare amount a group of professional rates is compared with."""

    part: str
    setting: str
    area: str
    amount: float
    note: str = ""


@dataclass
class Context:
    """What every payer of one code shares: Medicare rows, places, fences."""

    ref: Reference
    code: BillingCode
    national: Fact
    fences: Fences
    gpcis: dict[str, Gpci] = field(default_factory=dict)

    @cached_property
    def rvus(self) -> dict[str, Rvus]:
        rows = [Rvus.of(r) for r in self.ref.pfs.get(self.code.code, [])]
        return {r.modifier or "": r for r in rows if priced(r)}


def groups_of(ref: Reference, code: str) -> list[Group]:
    """The stored summaries of `code` from every loaded payer file."""
    if not ref.rate_files:
        return []
    rows = ref.lookup("SELECT * FROM rate_summary WHERE code = ?", [code])
    return [
        Group(r, ref.rate_files[r["load_id"]])
        for r in rows
        if r["load_id"] in ref.rate_files
    ]


def without_plan_repeats(groups: list[Group]) -> tuple[list[Group], int]:
    """Groups whose rates another file of the payer repeats exactly count once."""
    seen: set[tuple[Any, ...]] = set()
    kept, repeated = [], 0
    for group in sorted(groups, key=lambda g: g.file.entry.load_id):
        if group.row["n"] and group.repeat_key in seen:
            repeated += group.row["n"]
            continue
        seen.add(group.repeat_key)
        kept.append(group)
    return kept, repeated


def merged(dists: Iterable[Dist]) -> Dist:
    total = Dist.empty()
    for dist in dists:
        total = total.merge(dist)
    return total


def statistics(dist: Dist, digits: int = 2) -> dict[str, Any]:
    """Count, min, the five quantiles, max and mean, rounded for print."""
    stats: dict[str, Any] = {
        "n": dist.n,
        "withheld": False,
        "min": round(dist.low, digits),
    }
    values = dist.quantiles([q for _, q in QUANTILES])
    for (name, _), value in zip(QUANTILES, values, strict=True):
        stats[name] = round(value, digits)
    stats["max"] = round(dist.high, digits)
    stats["mean"] = round(dist.mean(), digits)
    stats["approximate"] = not dist.exact or dist.approximate
    if stats["approximate"]:
        stats["rank_error"] = round(rank_error(), 4)
    return stats


# Places of service


def _pos_codes(group: Group) -> list[str]:
    text = group.row["pos"]
    return text.split(",") if text else []


def pos_setting(ref: Reference, codes: list[str]) -> str:
    """Facility, non-facility, mixed or not stated, by the POS file's flag."""
    if not codes:
        return "not stated"
    flags = {ref.places.get(c, {}).get("facility") for c in codes}
    if flags == {True}:
        return "facility"
    if flags == {False}:
        return "non-facility"
    return "mixed" if None not in flags else "unknown place"


def pos_label(ref: Reference, codes: list[str]) -> str:
    if not codes:
        return "not stated"
    names = [f"{c} {ref.places[c]['name']}" if c in ref.places else c for c in codes]
    return f"{', '.join(names)} ({pos_setting(ref, codes)})"


def dimension_value(ref: Reference, group: Group, dimension: str) -> str:
    row = group.row
    if dimension == "place_of_service":
        return pos_label(ref, _pos_codes(group))
    if dimension == "pos_setting":
        return pos_setting(ref, _pos_codes(group))
    if dimension == "plan":
        return group.file.plan
    if dimension == "payer":
        return group.file.family
    if dimension == "modifier":
        return row["modifier"] or "none"
    return str(row[dimension] or "not stated")


# Medicare comparison


def _part(ctx: Context, modifiers: list[str]) -> tuple[str, Rvus] | str:
    for modifier, words in (("26", "professional (26)"), ("TC", "technical (TC)")):
        if modifier in modifiers:
            if modifier in ctx.rvus:
                return words, ctx.rvus[modifier]
            return f"the fee schedule does not split {ctx.code.code} into a {modifier} part"
    if "" in ctx.rvus:
        return "global", ctx.rvus[""]
    return f"the fee schedule gives {ctx.code.code} no global amount"


def basis(ctx: Context, group: Group) -> Basis | str:
    """The Medicare amount for a group of rates, or why there is none."""
    if not ctx.national.present:
        return ctx.national.reason
    if group.row["billing_class"] == "institutional":
        return INSTITUTIONAL
    part = _part(ctx, group.row["modifier"].split(",") if group.row["modifier"] else [])
    if isinstance(part, str):
        return part
    words, rvus = part
    where = pos_setting(ctx.ref, _pos_codes(group))
    facility = where == "facility"
    note = ""
    if where != "facility" and where != "non-facility":
        note = f"place of service {where}: non-facility amount used"
    if rvus.fac_na if facility else rvus.nonfac_na:
        setting = "facility" if facility else "non-facility"
        return f"the fee schedule gives no {setting} amount for {ctx.code.code}"
    gpci = ctx.gpcis.get(group.row["locality"])
    area = f"{gpci.name.title()}, {gpci.state} ({gpci.key})" if gpci else "national"
    value = (
        amount(rvus, facility=facility, gpci=gpci)
        if gpci
        else amount(rvus, facility=facility)
    )
    setting = "facility" if facility else "non-facility"
    return Basis(words, setting, area, float(value), note)


@dataclass
class Comparison:
    pct: Dist = field(default_factory=Dist.empty)
    bases: Counter[tuple[str, str, str, float, str]] = field(default_factory=Counter)
    missing: Counter[str] = field(default_factory=Counter)
    area_note: str = ""

    def add(self, ctx: Context, group: Group, kept: Dist) -> None:
        if kept.n == 0:
            return
        found = basis(ctx, group)
        if isinstance(found, str):
            self.missing[found] += kept.n
            return
        key = (found.part, found.setting, found.area, found.amount, found.note)
        self.bases[key] += kept.n
        self.pct = self.pct.merge(kept.divided(found.amount / 100))

    def to_value(self) -> dict[str, Any] | None:
        if not self.bases and not self.missing:
            return None
        value: dict[str, Any] = {
            "compared": self.pct.n,
            "bases": [
                {
                    "part": part,
                    "setting": setting,
                    "area": area,
                    "amount": amount_,
                    "note": note,
                    "rates": n,
                }
                for (part, setting, area, amount_, note), n in sorted(
                    self.bases.items(), key=lambda kv: -kv[1]
                )
            ],
            "not_compared": [
                {"reason": reason, "rates": n} for reason, n in self.missing.items()
            ],
        }
        value["pct"] = statistics(self.pct, digits=1) if self.pct.n else None
        value["area_note"] = self.area_note
        return value


def _area_note(ctx: Context, groups: list[Group]) -> str:
    """Why rates were compared with national amounts, when they were."""
    if not ctx.ref.rates_located:
        return (
            "No NPPES and ZIP-code locality files are loaded to place providers in "
            "Medicare localities, so rates are compared with national amounts"
        )
    placed = sum(g.row["n"] for g in groups if g.row["locality"])
    if placed == 0:
        return (
            "No provider of these rates could be placed in one Medicare locality "
            "through NPPES, so rates are compared with national amounts"
        )
    return ""


# One payer


def _kept(ctx: Context, groups: list[Group]) -> list[tuple[Group, Dist]]:
    return [(g, ctx.fences.keeps(g.dist)) for g in groups]


def _split(
    ctx: Context, kept: list[tuple[Group, Dist]], dimension: str
) -> list[dict[str, Any]]:
    by_value: dict[str, list[tuple[Group, Dist]]] = {}
    for group, dist in kept:
        by_value.setdefault(dimension_value(ctx.ref, group, dimension), []).append(
            (group, dist)
        )
    rows = []
    for value, members in sorted(by_value.items()):
        dist = merged(d for _, d in members)
        if dist.n == 0:
            continue
        row: dict[str, Any] = {"value": value, **_published(dist)}
        comparison = Comparison()
        for group, part in members:
            comparison.add(ctx, group, part)
        if comparison.pct.n >= MIN_RATES:
            row["median_pct"] = round(comparison.pct.quantile(0.5), 1)
        rows.append(row)
    return rows


def _published(dist: Dist) -> dict[str, Any]:
    """Statistics when there are enough rates; the count alone otherwise."""
    if dist.n < MIN_RATES:
        return {"n": dist.n, "withheld": True}
    return statistics(dist)


def _flags(ctx: Context, groups: list[Group], plan_repeats: int) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for group in groups:
        for key in (
            "zero",
            "cent",
            "sentinel",
            "duplicates",
            "blanket_rows",
            "conflict_rows",
        ):
            counts[key] += group.row[key]
        if group.unit == DOLLARS:
            counts["outlier_low"] += group.dist.count_below(ctx.fences.low)
            counts["outlier_high"] += group.dist.count_above(ctx.fences.high)
    counts["plan_repeats"] = plan_repeats
    return dict(counts)


def _providers(groups: list[Group]) -> dict[str, Any]:
    npis, tins = IdSet(), IdSet()
    for group in groups:
        if group.row["n"]:
            npis, tins = npis.union(group.npis), tins.union(group.tins)
    unresolved = any(g.row["unresolved_groups"] for g in groups if g.row["n"])
    return {
        "npis": npis.count(),
        "tins": tins.count(),
        "approximate": not (npis.exact and tins.exact),
        "unresolved": unresolved and npis.count() == 0,
    }


def _sources(groups: list[Group]) -> list[SourceRef]:
    seen = {g.file.entry.load_id: SourceRef.of(g.file.entry) for g in groups}
    return [seen[k] for k in sorted(seen)]


def payer_value(ctx: Context, family: str, groups: list[Group]) -> dict[str, Any]:
    """Everything the brief shows of one payer's rates for the code."""
    counted, repeats = without_plan_repeats(groups)
    dollars = [g for g in counted if g.unit == DOLLARS]
    kept = _kept(ctx, dollars)
    total = merged(d for _, d in kept)
    comparison = Comparison(area_note=_area_note(ctx, dollars))
    for group, dist in kept:
        comparison.add(ctx, group, dist)
    counts = _flags(ctx, counted, repeats)
    value: dict[str, Any] = {
        "payer": family,
        "plans": sorted({g.file.plan for g in groups}),
        "files": sorted({g.file.entry.load_id for g in groups}),
        "rates": sum(g.row["rows"] for g in groups),
        "billing_classes": sorted(
            {g.row["billing_class"] for g in dollars if g.row["n"]}
        ),
        "providers": _providers(counted),
        "dollars": _published(total) if total.n else None,
        "medicare": comparison.to_value(),
        "by_class": _by_class(ctx, kept, comparison.area_note),
        "splits": {dim: _split(ctx, kept, dim) for dim in DIMENSIONS},
        "flags": flag_rows(counts),
        "conflicts": {
            "providers": sum(g.row["conflict_providers"] for g in counted),
            "rates": counts.get("conflict_rows", 0),
        },
    }
    for unit in ("percent", "per diem"):
        others = merged(g.dist for g in counted if g.unit == unit)
        value[unit.replace(" ", "_")] = _published(others) if others.n else None
    return value


def _by_class(
    ctx: Context, kept: list[tuple[Group, Dist]], area_note: str
) -> list[dict[str, Any]]:
    """Dollar rates of each billing class, each with its Medicare comparison."""
    rows = []
    for billing_class in sorted({g.row["billing_class"] for g, d in kept if d.n}):
        members = [(g, d) for g, d in kept if g.row["billing_class"] == billing_class]
        comparison = Comparison(area_note=area_note)
        for group, dist in members:
            comparison.add(ctx, group, dist)
        total = merged(d for _, d in members)
        rows.append(
            {
                "billing_class": billing_class,
                "dollars": _published(total),
                "medicare": comparison.to_value(),
            }
        )
    return rows


def _counted(value: dict[str, Any]) -> int:
    return max(
        (value[k]["n"] for k in ("dollars", "percent", "per_diem") if value[k]),
        default=0,
    )


def payer_fact(ctx: Context, family: str, groups: list[Group]) -> Fact:
    code = ctx.code.code
    if not groups:
        if ctx.code.is_tracking_code:
            return not_applicable(
                f"{code} is a CPT Category II tracking code, which payers do not pay; "
                f"no {family} in-network file loaded lists it"
            )
        return not_available(f"No {family} in-network file loaded covers {code}")
    sources = _sources(groups)
    value = payer_value(ctx, family, groups)
    counted = _counted(value)
    if ctx.code.is_tracking_code and counted == 0:
        return not_applicable(
            f"{code} is a CPT Category II tracking code, which payers do not pay; "
            f"the {value['rates']} {family} rates listed for it are placeholders",
            *sources,
        )
    if counted < MIN_RATES:
        flagged = "".join(
            f"; {f['what']}, {f['rates']}, {f['treatment']}" for f in value["flags"]
        )
        return withheld(
            f"{family} has {counted} {'rate' if counted == 1 else 'rates'} for {code} "
            f"after flagged rates are set apart ({value['rates']} listed{flagged}); "
            f"statistics need at least {MIN_RATES}",
            *sources,
        )
    return present(value, *sources)


def context(
    ref: Reference, code: BillingCode, national: Fact, groups: list[Group]
) -> Context:
    pooled = merged(g.dist for g in groups if g.unit == DOLLARS)
    ctx = Context(
        ref, code, national, fences(pooled, []), {g.key: g for g in ref.gpcis}
    )
    amounts = [
        float(amount(r, facility=f))
        for r in ctx.rvus.values()
        for f, na in ((True, r.fac_na), (False, r.nonfac_na))
        if not na
    ]
    ctx.fences = fences(pooled, amounts if national.present else [])
    return ctx


def families(groups: list[Group]) -> list[str]:
    """The four payers looked for, then any other family with rates for the code."""
    others = sorted({g.file.family for g in groups} - set(PAYERS))
    return [*PAYERS, *others]


def rate_facts(ref: Reference, code: BillingCode, national: Fact) -> dict[str, Fact]:
    """One fact per payer family: `payer:<Family>`."""
    groups = groups_of(ref, code.code)
    ctx = context(ref, code, national, groups)
    facts = {}
    for family in families(groups):
        mine = [g for g in groups if g.file.family == family]
        facts[f"payer:{family}"] = payer_fact(ctx, family, mine)
    return facts


def breakdown(
    ref: Reference,
    code: BillingCode,
    national: Fact,
    dimension: str,
    keep: Callable[[Group], bool] = lambda g: True,
) -> list[dict[str, Any]]:
    """The code's dollar rates split by one dimension (or `payer`), for `compare`."""
    groups = [g for g in groups_of(ref, code.code) if keep(g)]
    ctx = context(ref, code, national, groups)
    # Plans are compared with their own rates, even where another plan repeats them.
    counted = groups if dimension == "plan" else without_plan_repeats(groups)[0]
    dollars = [g for g in counted if g.unit == DOLLARS]
    return _split(ctx, _kept(ctx, dollars), dimension)
