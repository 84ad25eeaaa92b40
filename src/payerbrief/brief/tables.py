"""The tables of each section, every cell taken from a fact."""

from __future__ import annotations

from collections.abc import Callable

from payerbrief.brief.model import Table
from payerbrief.facts.model import FactSet, State


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


def _coding(facts: FactSet) -> list[Table]:
    makers = (
        ("modifiers", _modifiers),
        ("ncci_edits", _ncci),
        ("mue", _mue),
        ("icd10_pairings", _pairings),
    )
    return [make(facts) for name, make in makers if facts[name].present]


def _state_cell(state: State, what: str) -> str:
    return f"{what}: {state.value}" if state is State.PRESENT else state.value


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
