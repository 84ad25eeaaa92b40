"""The tables of each section, every cell taken from a fact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from payerbrief.brief.model import Table
from payerbrief.facts.model import Fact, FactSet, State


def _money(value: float | None) -> str:
    return "NA" if value is None else f"${value:,.2f}"


def _modifiers(facts: FactSet) -> Table:
    rows = tuple(
        (m["modifier"], m["description"], m["when"], m["indicator"])
        for m in facts["modifiers"].value
    )
    return Table(
        "Modifiers", ("Modifier", "Description", "When to use", "Source"), rows
    )


def _ncci(facts: FactSet) -> Table:
    edits = facts["ncci_edits"].value
    rows = tuple(
        (p["code"], role, p["modifier_indicator"], p["settings"], p["rationale"])
        for side, role in (("as_column1", "column 2"), ("as_column2", "column 1"))
        for p in edits[side]["partners"]
    )
    columns = (
        "Paired code",
        "Paired as",
        "Modifier indicator",
        "Settings",
        "Rationale",
    )
    return Table("NCCI procedure-to-procedure edits", columns, rows)


def _mue(facts: FactSet) -> Table:
    rows = tuple(
        (
            m["service_type"],
            str(m["mue_value"]),
            f"{m['adjudication_indicator']}: {m['adjudication_text']}",
            m["rationale"],
        )
        for m in facts["mue"].value
    )
    columns = ("Service type", "MUE (units)", "Adjudication", "Rationale")
    return Table("Medically Unlikely Edits", columns, rows)


def _pairings(facts: FactSet) -> Table:
    value = facts["icd10_pairings"].value
    rows = tuple(
        (t["code"], t["description"] or "", str(t["articles"]))
        for t in value["top_codes"]
    )
    columns = ("ICD-10-CM code", "Description", "Articles listing it")
    return Table("Diagnoses that support medical necessity", columns, rows)


def _taxonomies(facts: FactSet) -> Table:
    value = facts["provider_taxonomies"].value
    rows = tuple(
        (
            t["taxonomy"],
            t["name"] or "",
            str(t["providers"]),
            f"{t['provider_share']}%",
            str(t["rates"]),
            f"{t['rate_share']}%",
        )
        for t in value["taxonomies"]
    )
    columns = ("Taxonomy", "Name", "Providers", "Share", "Rates", "Share of rates")
    return Table("Provider taxonomies", columns, rows)


def _coding(facts: FactSet) -> list[Table]:
    makers = (
        ("modifiers", _modifiers),
        ("ncci_edits", _ncci),
        ("mue", _mue),
        ("icd10_pairings", _pairings),
        ("provider_taxonomies", _taxonomies),
    )
    return [make(facts) for name, make in makers if facts[name].present]


def _state_cell(state: State, what: str) -> str:
    return f"{what}: {state.value}" if state is State.PRESENT else state.value


# Payer rate tables: every cell from a `payer:<Family>` fact.

STAT_COLUMNS = ("Min", "P10", "P25", "Median", "P75", "P90", "Max", "Mean")
STAT_KEYS = ("min", "p10", "p25", "median", "p75", "p90", "max", "mean")


def _stat_cells(stats: dict[str, Any] | None, money: bool = True) -> tuple[str, ...]:
    if not stats:
        return tuple("" for _ in STAT_KEYS)
    if stats["withheld"]:
        return tuple("withheld" for _ in STAT_KEYS)
    if money:
        return tuple(_money(stats[k]) for k in STAT_KEYS)
    return tuple(f"{stats[k]}%" for k in STAT_KEYS)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value}%"


def _present_payers(facts: FactSet) -> list[tuple[str, Fact]]:
    return [
        (name.removeprefix("payer:"), fact)
        for name, fact in facts.items()
        if name.startswith("payer:") and fact.state is not State.NOT_AVAILABLE
    ]


def _payer_rows(payer: str, fact: Fact) -> list[tuple[str, ...]]:
    """One row per billing class of a payer's dollar rates."""
    if not fact.present:
        cells = tuple(fact.state.value for _ in STAT_KEYS)
        return [(payer, "", "", "", "", "", *cells, "")]
    v = fact.value
    providers = v["providers"]
    known = not providers["unresolved"]
    people = f"{providers['npis']} / {providers['tins']}" if known else "not known"
    rows = []
    for c in v["by_class"] or [
        {"billing_class": "", "dollars": None, "medicare": None}
    ]:
        pct = ((c["medicare"] or {}).get("pct") or {}).get("median")
        dollars = c["dollars"]
        rows.append(
            (
                payer,
                ", ".join(v["plans"]),
                c["billing_class"],
                str(v["rates"]),
                str(dollars["n"]) if dollars else "0",
                people,
                *_stat_cells(dollars),
                _pct(pct),
            )
        )
    return rows


def _medicare_rows(facts: FactSet) -> list[tuple[str, ...]]:
    national = facts["medicare_national"]
    if not national.present:
        return []
    rows = []
    for r in national.value:
        for key, words in (("non_facility", "non-facility"), ("facility", "facility")):
            if r[key] is None:
                continue
            label = f"Medicare (national, {r['part']}, {words})"
            cells = tuple("" for _ in STAT_KEYS[:3]) + (_money(r[key]),)
            rows.append(
                (label, "", "professional", "", "", "", *cells, "", "", "", "", "")
            )
    return rows


def _summary_table(facts: FactSet) -> Table | None:
    payers = _present_payers(facts)
    if not payers:
        return None
    rows = [r for p, f in payers for r in _payer_rows(p, f)] + _medicare_rows(facts)
    columns = (
        "Payer",
        "Plans",
        "Billing class",
        "Rates listed",
        "Rates counted",
        "NPIs / TINs",
        *STAT_COLUMNS,
        "Median % of Medicare",
    )
    return Table("Negotiated rates in dollars, by payer", columns, tuple(rows))


def _split_rows(value: dict[str, Any]) -> list[tuple[str, ...]]:
    from payerbrief.facts.rates import DIMENSIONS

    splits = value["splits"]
    shown = [d for d in DIMENSIONS if len(splits[d]) > 1]
    shown = shown or ["billing_class", "place_of_service"]
    rows = []
    for dimension in shown:
        for r in splits[dimension]:
            stats = None if r["withheld"] else r
            cells = _stat_cells(stats) if stats else ("withheld",) * len(STAT_KEYS)
            rows.append(
                (
                    DIMENSIONS[dimension],
                    r["value"],
                    str(r["n"]),
                    *cells,
                    _pct(r.get("median_pct")),
                )
            )
    return rows


def _payer_table(payer: str, value: dict[str, Any]) -> Table:
    columns = ("Split", "Value", "Rates", *STAT_COLUMNS, "Median % of Medicare")
    return Table(f"{payer} dollar rates by split", columns, tuple(_split_rows(value)))


def _other_units_table(payers: list[tuple[str, Fact]]) -> Table | None:
    rows = []
    for payer, fact in payers:
        if not fact.present:
            continue
        for key, words, money in (
            ("percent", "percentage (of billed charges)", False),
            ("per_diem", "per diem (dollars a day)", True),
        ):
            stats = fact.value[key]
            if stats:
                rows.append((payer, words, str(stats["n"]), *_stat_cells(stats, money)))
    if not rows:
        return None
    columns = ("Payer", "Negotiated type", "Rates", *STAT_COLUMNS)
    return Table("Rates that are not dollar amounts, kept apart", columns, tuple(rows))


def _bases_table(payers: list[tuple[str, Fact]]) -> Table | None:
    rows = []
    for payer, fact in payers:
        medicare = fact.value["medicare"] if fact.present else None
        if not medicare:
            continue
        for b in medicare["bases"]:
            where = f"{b['area']}; {b['note']}" if b["note"] else b["area"]
            rows.append(
                (
                    payer,
                    b["part"],
                    b["setting"],
                    where,
                    _money(b["amount"]),
                    str(b["rates"]),
                )
            )
        for miss in medicare["not_compared"]:
            rows.append(
                (payer, "", "", miss["reason"], "not compared", str(miss["rates"]))
            )
    if not rows:
        return None
    columns = ("Payer", "Part", "Setting", "Area", "Medicare amount", "Rates")
    return Table("Medicare amounts the rates are compared with", columns, tuple(rows))


def _flags_table(payers: list[tuple[str, Fact]]) -> Table | None:
    rows = [
        (payer, f["what"], str(f["rates"]), f["treatment"])
        for payer, fact in payers
        if fact.present
        for f in fact.value["flags"]
    ]
    if not rows:
        return None
    columns = ("Payer", "Flag", "Rates", "Treatment")
    return Table("Rates flagged as ghosts or placeholders", columns, tuple(rows))


def payer_rate_tables(facts: FactSet) -> list[Table]:
    """The payer comparison, one table per payer, and the tables behind them."""
    payers = _present_payers(facts)
    tables = [_summary_table(facts)]
    tables += [_payer_table(p, f.value) for p, f in payers if f.present]
    tables += [_bases_table(payers), _other_units_table(payers), _flags_table(payers)]
    return [t for t in tables if t is not None]


def _payers(facts: FactSet) -> list[Table]:
    tables = []
    national = facts["medicare_national"]
    if national.present:
        rows = tuple(
            (r["part"], _money(r["non_facility"]), _money(r["facility"]))
            for r in national.value
        )
        columns = ("Part", "Non-facility", "Facility")
        tables.append(Table("Medicare national amounts", columns, rows))
    tables += payer_rate_tables(facts)
    looked = [("Medicare", _state_cell(national.state, "fee schedule"))]
    looked += [
        (name.removeprefix("payer:"), _state_cell(fact.state, "in-network file"))
        for name, fact in facts.items()
        if name.startswith("payer:")
    ]
    tables.append(Table("Payers looked for", ("Payer", "Data"), tuple(looked)))
    return tables


def _sources(facts: FactSet) -> list[Table]:
    if not facts["files"].present:
        return []
    rows = tuple(
        (
            s["kind"],
            s["file_name"],
            s["publisher"],
            s["release"],
            s["as_of"] or "not stated",
            s["sha256"][:12],
        )
        for s in facts["files"].value
    )
    columns = ("Source", "File", "Publisher", "Release", "As of", "SHA-256")
    return [Table("Files used", columns, rows)]


BUILDERS: dict[str, Callable[[FactSet], list[Table]]] = {
    "coding": _coding,
    "payers": _payers,
    "sources": _sources,
}


def section_tables(key: str, facts: FactSet) -> list[Table]:
    builder = BUILDERS.get(key)
    return builder(facts) if builder else []
