"""What the HTML page shows of each fact: its label, state, value or reason, notes.

The Markdown publication shows prose and tables; the HTML page adds every fact
of a section in a table, so a reader sees each fact's state in plain words and
the source behind it as a numbered note.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from payerbrief.brief.model import Brief, Section
from payerbrief.facts.model import Fact, State

LABELS = {
    "code": "Billing code",
    "code_system": "Code system",
    "category": "Category",
    "descriptor": "Descriptor",
    "payers_with_data": "Payers with data",
    "payers_without_data": "Payers looked for with no data",
    "service_type": "Service type",
    "betos": "BETOS category",
    "medicare_status": "Medicare status",
    "fee_schedule_settings": "Sites of service in the fee schedule",
    "payer_places_of_service": "Places of service in payer files",
    "clinical_context": "Clinical context",
    "code_family": "Neighbours in the code set",
    "modifiers": "Payment modifiers",
    "global_period": "Global period",
    "mue": "Medically Unlikely Edit",
    "ncci_edits": "NCCI edits",
    "icd10_pairings": "ICD-10-CM pairings",
    "provider_taxonomies": "Provider taxonomies",
    "medicare_national": "Medicare national amounts",
    "medicare_localities": "Medicare amounts by locality",
    "files": "Files used",
    "method": "Method",
}

# What each state means, in the words the page shows beside it.
STATE_MEANINGS = {
    State.PRESENT: "a value from a loaded file, with its source",
    State.NOT_APPLICABLE: "the data says this value cannot exist for the code",
    State.NOT_AVAILABLE: "the value could exist, but no loaded file has it",
    State.WITHHELD: "too few values to publish",
}


# The longest value shown as JSON in the facts table.
LONGEST_INLINE = 160


@dataclass(frozen=True)
class CodeLink:
    code: str
    descriptor: str | None
    href: str | None


@dataclass(frozen=True)
class FactRow:
    name: str
    label: str
    state: str
    text: str
    notes: tuple[int, ...]
    codes: tuple[CodeLink, ...] = ()


def label(name: str) -> str:
    if name.startswith("payer:"):
        return f"{name.removeprefix('payer:')} rates"
    return LABELS.get(name, name.replace("_", " ").capitalize())


def state_words(state: object) -> str:
    """The state as the reader sees it; anything else is named as unknown."""
    return state.value if isinstance(state, State) else f"unknown state {state!r}"


def describe(name: str, value: Any) -> str:
    """A present fact's value in a line; tables and the chart show the detail."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value) if value else "none"
    if isinstance(value, dict):
        return _describe_dict(value)
    if name == "modifiers":
        codes = ", ".join(str(m["modifier"]) for m in value)
        return f"{codes}; see the Modifiers table"
    if name == "medicare_national":
        parts = ", ".join(str(r["part"]) for r in value)
        return f"{parts}; see the chart and the national amounts table"
    if name == "files":
        return f"{len(value)} files; see the notes below"
    return _compact(value)


def _describe_dict(value: dict[str, Any]) -> str:
    if "text" in value and "kind" in value:
        return f"{value['kind']}: {value['text']}"
    if "words" in value and "code" in value:
        return f"{value['code']}: {value['words']}"
    if "words" in value and "days" in value:
        return f"{value['days']}: {value['words']}"
    if "rows" in value and "count" in value:
        return (
            f"{value['count']} localities, {value['part']} part; the range is "
            "charted, and every locality's amounts are in the CSV"
        )
    if {"facility", "non_facility"} <= set(value):
        words = (
            f"priced outside a facility: {'yes' if value['non_facility'] else 'no'}; "
            f"in a facility: {'yes' if value['facility'] else 'no'}"
        )
        if value.get("parts"):
            words += "; parts: " + ", ".join(value["parts"])
        return words
    return _compact(value)


def _compact(value: Any) -> str:
    """Small values as JSON; larger ones are pointed to, not dumped."""
    text = msgspec.json.encode(value).decode("utf-8")
    if len(text) <= LONGEST_INLINE:
        return text
    return "shown in this section's tables and prose; all of it is in the JSON"


def fact_row(
    name: str,
    fact: Fact,
    notes: dict[str, int],
    code_href: Callable[[str], str | None],
) -> FactRow:
    numbers = tuple(
        sorted({notes[s.load_id] for s in fact.sources if s.load_id in notes})
    )
    if not fact.present:
        return FactRow(name, label(name), state_words(fact.state), fact.reason, numbers)
    if name == "code_family":
        links = tuple(
            CodeLink(n["code"], n["descriptor"], code_href(n["code"]))
            for n in fact.value
        )
        return FactRow(name, label(name), State.PRESENT.value, "", numbers, links)
    text = describe(name, fact.value)
    return FactRow(name, label(name), State.PRESENT.value, text, numbers)


def fact_rows(
    section: Section, notes: dict[str, int], code_href: Callable[[str], str | None]
) -> list[FactRow]:
    return [fact_row(n, f, notes, code_href) for n, f in section.facts.items()]


def note_numbers(brief: Brief) -> dict[str, int]:
    """Each source's note number, in the order the brief lists its sources."""
    return {s.load_id: i for i, s in enumerate(brief.sources, start=1)}
