"""The codes a site or the web app publishes, grouped for browsing and search.

A catalog holds one entry per code: its title, descriptor, code family and the
payers with data for it, taken from the same facts the brief shows (or from
the briefs themselves, when a site build has them), so the index pages never
claim more than the briefs do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from payerbrief.codes import BillingCode, parse_code
from payerbrief.facts.coding import descriptor, summary_facts
from payerbrief.facts.model import FactSet
from payerbrief.facts.payment import PAYERS, medicare_national, payment_facts
from payerbrief.facts.reference import Reference

# CPT Category I sections in code order (see `payerbrief.codes`).
_CPT_SECTIONS = (
    "Anesthesia",
    "Surgery",
    "Radiology",
    "Pathology and Laboratory",
    "Medicine",
    "Evaluation and Management",
)
_CPT_LEVELS = {
    "Category II": ("cpt-category-ii", "CPT Category II: performance measurement"),
    "Category III": ("cpt-category-iii", "CPT Category III: emerging technology"),
    "Proprietary Laboratory Analyses": (
        "cpt-pla",
        "CPT Proprietary Laboratory Analyses",
    ),
    "Multianalyte Assays with Algorithmic Analyses": (
        "cpt-maaa",
        "CPT Multianalyte Assays with Algorithmic Analyses",
    ),
}

ALL_PAYERS = ("Medicare", *PAYERS)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class Family:
    """A browsing group: a CPT section or category, or a HCPCS letter group."""

    slug: str
    name: str
    rank: tuple[int, str]


def family_of(code: BillingCode) -> Family:
    if code.system == "HCPCS":
        letter = code.code[0]
        return Family(f"hcpcs-{letter.lower()}", code.category, (3, letter))
    if code.level == "Category I":
        section = code.section
        if section is None:
            return Family(
                "cpt-category-i-other", "CPT Category I: other codes", (1, "")
            )
        rank = _CPT_SECTIONS.index(section)
        return Family(
            f"cpt-{slug(section)}", f"CPT Category I: {section}", (0, f"{rank:02}")
        )
    family_slug, name = _CPT_LEVELS.get(
        code.level, (f"cpt-{slug(code.level)}", code.level)
    )
    return Family(family_slug, name, (2, family_slug))


@dataclass(frozen=True)
class Entry:
    code: str
    title: str
    text: str
    family: Family
    payers: tuple[str, ...]
    # What a word search looks in, lower-cased once.
    haystack: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class Payer:
    name: str
    slug: str
    codes: tuple[Entry, ...]


def codes_with_rates(ref: Reference) -> set[str]:
    """Codes that some loaded payer file has rates for, in one query.

    A code no payer file lists has no payer data to find, so its entry needs
    only its Medicare amount; this spares a rate lookup per code.
    """
    if not ref.rate_files:
        return set()
    return {r["code"] for r in ref.lookup("SELECT DISTINCT code FROM rate_summary", [])}


def payers_of(ref: Reference, code: BillingCode, rated: bool = True) -> tuple[str, ...]:
    """The payers with data for `code`, as its brief's summary names them.

    `rated` says whether any payer file lists the code (see `codes_with_rates`);
    when none does, only the Medicare amount needs to be looked at.
    """
    if rated:
        payment = payment_facts(ref, code)
    else:
        payment = FactSet()
        payment["medicare_national"] = medicare_national(ref, code)
    summary = summary_facts(ref, code, payment)
    return tuple(summary["payers_with_data"].value)


def entry_of(ref: Reference, code: BillingCode, payers: tuple[str, ...]) -> Entry:
    """A code's catalog entry: its title and descriptor, as its brief has them."""
    fact = descriptor(ref, code)
    title, text = code.code, ""
    if fact.present:
        short = fact.value["short"] or fact.value["text"]
        title = f"{code.code}: {short}"
        if fact.value["text"] != short:
            text = fact.value["text"]
    haystack = f"{code.code} {title} {text}".lower()
    return Entry(code.code, title, text, family_of(code), payers, haystack)


@dataclass
class Catalog:
    entries: list[Entry] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        ref: Reference,
        codes: Iterable[str],
        payers: Mapping[str, tuple[str, ...]] | None = None,
    ) -> Catalog:
        """Entries for `codes`, with the payers given or looked up for each."""
        entries = []
        rated = codes_with_rates(ref) if payers is None else set()
        for text in codes:
            code = parse_code(text)
            if payers is None:
                found = payers_of(ref, code, code.code in rated)
            else:
                found = payers.get(code.code, ())
            entries.append(entry_of(ref, code, found))
        entries.sort(key=lambda e: (e.family.rank, e.code))
        return cls(entries)

    @cached_property
    def by_code(self) -> dict[str, Entry]:
        return {e.code: e for e in self.entries}

    @cached_property
    def haystacks(self) -> list[str]:
        """What word search looks in, entry by entry."""
        return [e.haystack for e in self.entries]

    @cached_property
    def sorted_entries(self) -> list[Entry]:
        """Entries in code order, for prefix search."""
        return sorted(self.entries, key=lambda e: e.code)

    @cached_property
    def sorted_keys(self) -> list[str]:
        """The lower-cased codes of `sorted_entries`, for bisection."""
        return [e.code.lower() for e in self.sorted_entries]

    @cached_property
    def codes(self) -> frozenset[str]:
        return frozenset(self.by_code)

    @cached_property
    def families(self) -> list[tuple[Family, list[Entry]]]:
        groups: dict[str, tuple[Family, list[Entry]]] = {}
        for entry in self.entries:
            groups.setdefault(entry.family.slug, (entry.family, []))[1].append(entry)
        return list(groups.values())

    def family(self, family_slug: str) -> tuple[Family, list[Entry]] | None:
        return next((g for g in self.families if g[0].slug == family_slug), None)

    @cached_property
    def payers(self) -> list[Payer]:
        return [
            Payer(name, slug(name), tuple(e for e in self.entries if name in e.payers))
            for name in ALL_PAYERS
        ]

    def payer(self, payer_slug: str) -> Payer | None:
        return next((p for p in self.payers if p.slug == payer_slug), None)
