"""Assemble a brief from the facts of one code."""

from __future__ import annotations

from payerbrief.brief.model import Brief, Section
from payerbrief.brief.prose import render_prose
from payerbrief.brief.tables import section_tables
from payerbrief.codes import BillingCode
from payerbrief.facts.coding import billing_facts, coding_facts, summary_facts
from payerbrief.facts.model import FactSet, SourceRef, present
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
    payers = payment_facts(ref, code)
    facts = {
        "summary": summary_facts(ref, code, payers),
        "billing": billing_facts(ref, code),
        "coding": coding_facts(ref, code),
        "payers": payers,
    }
    sources = _sources_used(facts)
    facts["sources"] = _source_facts(sources)

    sections = []
    for key, title in SECTIONS:
        section = Section(key, title, facts[key])
        section.tables = section_tables(key, section.facts)
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
