"""A brief as HTML: a page of the static site and the web app, or a standalone file.

Templates live in `render/templates` and are compiled once per process. The
environment escapes every value, so text from a source file (a descriptor, a
locality name, a publisher) can never become markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

import jinja2
from markupsafe import Markup

from payerbrief.brief.model import Brief
from payerbrief.render.chart import medicare_chart, money
from payerbrief.render.view import STATE_MEANINGS, fact_rows, note_numbers

ASSETS = ("style.css", "search.js", "favicon.svg")


@dataclass(frozen=True)
class Links:
    """Where a page's links point: relative to the site root, or nowhere.

    `root` is the way from the page up to the site root ("" or "../"), so the
    same pages work on a web server and opened from disk (file://). A
    standalone page (`site=False`) inlines its style and links only within
    itself. `codes` holds the codes that have a page, so a brief links only to
    pages that exist.
    """

    root: str = ""
    site: bool = True
    codes: frozenset[str] = field(default_factory=frozenset)

    def to(self, path: str) -> str:
        return self.root + path

    def code(self, code: str) -> str | None:
        if self.site and code in self.codes:
            return f"{self.root}codes/{code}.html"
        return None

    def source(self, load_id: str) -> str | None:
        return f"{self.root}sources.html#{load_id}" if self.site else None


STANDALONE = Links(site=False)


def counted(number: int, noun: str) -> str:
    """`1 code`, `2,417 codes`."""
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def asset_text(name: str) -> str:
    """One of the site's own assets (style sheet, search script)."""
    if name not in ASSETS:
        raise KeyError(name)
    return (files("payerbrief") / "render" / "assets" / name).read_text("utf-8")


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("payerbrief", "render/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the package: never stat them again per render.
        auto_reload=False,
    )
    env.filters["money"] = money
    env.filters["counted"] = counted
    env.globals["inline_css"] = Markup(asset_text("style.css"))
    env.globals["state_meanings"] = {s.value: m for s, m in STATE_MEANINGS.items()}
    return env


def render_template(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def render_brief_page(brief: Brief, links: Links) -> str:
    """The brief's page, with links laid out by `links`."""
    notes = note_numbers(brief)
    sections = [
        {
            "number": number,
            "section": section,
            "state": section.state.value,
            "facts": fact_rows(section, notes, links.code),
        }
        for number, section in enumerate(brief.sections, start=1)
    ]
    payers = next((s for s in brief.sections if s.key == "payers"), None)
    chart = medicare_chart(brief.code, payers) if payers is not None else None
    chart_reason = ""
    if chart is None and payers is not None:
        chart_reason = payers.facts["medicare_national"].reason
    return render_template(
        "brief.html.j2",
        brief=brief,
        sections=sections,
        chart=chart,
        chart_reason=chart_reason,
        rates_svg=rates_svg(brief),
        links=links,
    )


def rates_svg(brief: Brief) -> Markup | None:
    """The payers' rate chart as inline SVG, when a payer has dollar statistics.

    matplotlib writes the SVG from the brief's facts and escapes its text;
    without the `charts` extra the page simply has no rate chart.
    """
    from payerbrief.errors import PayerbriefError
    from payerbrief.render.charts import draw, rate_chart

    chart = rate_chart(brief)
    if chart is None:
        return None
    try:
        svg = draw(chart, "svg").decode("utf-8")
    except PayerbriefError:
        return None
    # Drop the XML prolog and doctype: the SVG sits inside the HTML page.
    return Markup(svg[svg.index("<svg") :])


def render_html(brief: Brief) -> str:
    """The brief as one standalone HTML document."""
    return render_brief_page(brief, STANDALONE)
