"""Assemble a brief from the facts of one code."""

from __future__ import annotations

from payerbrief.brief.model import Brief, Section, Table
from payerbrief.brief.prose import render_prose
from payerbrief.codes import BillingCode
from payerbrief.facts.coding import billing_facts, coding_facts, summary_facts
from payerbrief.facts.model import FactSet, SourceRef, State, present
from payerbrief.facts.payment import payment_facts
from payerbrief.facts.reference import Reference

SECTIONS = (
    ("summary", "Summary and overview"),
    ("billing", "Billing code overview"),
    ("coding", "Clinical and coding specifications"),
    ("payers", "Payer coverage and rates"),
    ("sources", "Sources and method"),
)

METHOD = (
    "Medicare amounts are computed as CMS defines them: (work RVU x work GPCI + "
    "practice-expense RVU x practice-expense GPCI + malpractice RVU x malpractice "
    "GPCI) x conversion factor, with GPCIs of 1 for the national amount, the "
    "facility or non-facility practice-expense RVU for each setting, and rounding "
    "to the cent."
)


def build_brief(ref: Reference, code: BillingCode) -> Brief:
    """Build every section of the brief for `code` from the loaded sources."""
    facts = {
        "summary": summary_facts(ref, code),
        "billing": billing_facts(ref, code),
        "coding": coding_facts(ref, code),
        "payers": payment_facts(ref, code),
    }
    sources = _sources_used(facts)
    facts["sources"] = _source_facts(sources)

    sections = []
    for key, title in SECTIONS:
        section = Section(key, title, facts[key])
        section.tables = _tables(key, section.facts)
        section.prose = render_prose(key, code, facts)
        sections.append(section)

    descriptor = facts["summary"]["descriptor"]
    title = code.code
    if descriptor.present:
        title = f"{code.code}: {descriptor.value['short'] or descriptor.value['text']}"
    notices = sorted(
        {
            e.notice
            for e in ref.entries.values()
            if e.notice and e.load_id in {s.load_id for s in sources}
        }
    )
    return Brief(code.code, code.system, title, sections, sources, notices)


def _sources_used(facts: dict[str, FactSet]) -> list[SourceRef]:
    seen: dict[str, SourceRef] = {}
    for section in facts.values():
        for _, fact in section.items():
            for source in fact.sources:
                seen.setdefault(source.load_id, source)
    return sorted(seen.values(), key=lambda s: (s.kind, s.load_id))


def _source_facts(sources: list[SourceRef]) -> FactSet:
    facts = FactSet()
    facts["files"] = present([s.to_dict() for s in sources], *sources)
    facts["method"] = present(METHOD)
    return facts


def _money(value: float | None) -> str:
    return "NA" if value is None else f"${value:,.2f}"


def _tables(key: str, facts: FactSet) -> list[Table]:
    tables: list[Table] = []
    if key == "coding" and facts["modifiers"].present:
        tables.append(
            Table(
                "Modifiers",
                ("Modifier", "Description", "When to use", "Source"),
                tuple(
                    (
                        m["modifier"],
                        m["description"],
                        m["when"],
                        m["indicator"],
                    )
                    for m in facts["modifiers"].value
                ),
            )
        )
    if key == "coding" and facts["ncci_edits"].present:
        edits = facts["ncci_edits"].value
        rows = [
            (p["code"], role, p["modifier_indicator"], p["settings"], p["rationale"])
            for side, role in (("as_column1", "column 2"), ("as_column2", "column 1"))
            for p in edits[side]["partners"]
        ]
        tables.append(
            Table(
                "NCCI procedure-to-procedure edits",
                (
                    "Paired code",
                    "Paired as",
                    "Modifier indicator",
                    "Settings",
                    "Rationale",
                ),
                tuple(rows),
            )
        )
    if key == "coding" and facts["mue"].present:
        tables.append(
            Table(
                "Medically Unlikely Edits",
                ("Service type", "MUE (units)", "Adjudication", "Rationale"),
                tuple(
                    (
                        m["service_type"],
                        str(m["mue_value"]),
                        f"{m['adjudication_indicator']}: {m['adjudication_text']}",
                        m["rationale"],
                    )
                    for m in facts["mue"].value
                ),
            )
        )
    if key == "payers" and facts["medicare_national"].present:
        tables.append(
            Table(
                "Medicare national amounts",
                ("Part", "Non-facility", "Facility"),
                tuple(
                    (r["part"], _money(r["non_facility"]), _money(r["facility"]))
                    for r in facts["medicare_national"].value
                ),
            )
        )
    if key == "payers":
        rows = [
            ("Medicare", _state_cell(facts["medicare_national"].state, "fee schedule"))
        ]
        rows += [
            (name.removeprefix("payer:"), _state_cell(fact.state, "in-network file"))
            for name, fact in facts.items()
            if name.startswith("payer:")
        ]
        tables.append(Table("Payers looked for", ("Payer", "Data"), tuple(rows)))
    if key == "sources" and facts["files"].present:
        tables.append(
            Table(
                "Files used",
                ("Source", "File", "Publisher", "Release", "As of", "SHA-256"),
                tuple(
                    (
                        s["kind"],
                        s["file_name"],
                        s["publisher"],
                        s["release"],
                        s["as_of"] or "not stated",
                        s["sha256"][:12],
                    )
                    for s in facts["files"].value
                ),
            )
        )
    return tables


def _state_cell(state: State, what: str) -> str:
    return f"{what}: {state.value}" if state is State.PRESENT else state.value
