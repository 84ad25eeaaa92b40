"""Prose rendered from templates over facts, so every number in it is a fact."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import jinja2

from payerbrief.codes import BillingCode
from payerbrief.facts.model import FactSet


def money(value: float | None) -> str:
    return "not priced (NA)" if value is None else f"${value:,.2f}"


def join_and(items: Sequence[str], word: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def join_or(items: Sequence[str]) -> str:
    return join_and(items, "or")


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 code`, `2 codes`: the count, then the word in the number it needs."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("payerbrief", "brief/templates"),
        autoescape=False,
        extensions=["jinja2.ext.do"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["money"] = money
    env.filters["join_and"] = join_and
    env.filters["join_or"] = join_or
    env.filters["plural"] = plural
    return env


def render_prose(key: str, code: BillingCode, facts: dict[str, FactSet]) -> list[str]:
    """Paragraphs of one section; blank lines in the template separate them."""
    template = _environment().get_template(f"prose/{key}.j2")
    views = {name: dict(fs.items()) for name, fs in facts.items()}
    text = template.render(code=code, f=views)
    paragraphs = (" ".join(p.split()) for p in text.split("\n\n"))
    return [p for p in paragraphs if p]
