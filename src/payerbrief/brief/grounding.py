"""The grounding checker: every number in a brief's prose must be a fact.

Templates only print facts, so the check holds by construction; it exists for
the optional language-model writer, whose text must pass it, and for
`--strict` builds. Numbers are compared by value, so "$1,234.50", "1234.5"
and "1,234.50" are the same number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from payerbrief.brief.model import Brief

_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")

# Names of code systems whose digits are part of the name, not a number.
_VOCABULARY = re.compile(r"ICD-10-CM|ICD-10")


def numbers_in(text: str) -> set[Decimal]:
    found = set()
    for token in _NUMBER.findall(_VOCABULARY.sub(" ", text)):
        try:
            found.add(Decimal(token.replace(",", "")))
        except InvalidOperation:
            continue
    return found


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


def fact_numbers(brief: Brief) -> set[Decimal]:
    """Every number any fact of the brief holds, its reasons and sources included."""
    allowed: set[Decimal] = set()
    for _, fact in brief.facts():
        texts = [*_strings(fact.value), fact.reason]
        texts += [str(v) for s in fact.sources for v in s.to_dict().values()]
        for text in texts:
            allowed |= numbers_in(text)
    return allowed


def ungrounded(brief: Brief, extra_text: Iterable[str] = ()) -> list[str]:
    """Numbers in the brief's prose (and `extra_text`) that no fact holds."""
    allowed = fact_numbers(brief)
    texts = [p for s in brief.sections for p in s.prose] + list(extra_text)
    stray = set()
    for text in texts:
        stray |= numbers_in(text) - allowed
    return sorted(str(n) for n in stray)
