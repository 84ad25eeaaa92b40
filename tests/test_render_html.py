"""HTML and CSV briefs: a proper document, states in words, escaping, the chart."""

import csv
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from payerbrief.brief.build import SECTIONS, build_brief
from payerbrief.brief.model import Brief, Table
from payerbrief.cli import main
from payerbrief.demo import DEMO_CODES
from payerbrief.facts.model import SourceRef, present
from payerbrief.facts.reference import Reference
from payerbrief.render import FORMATS, render_csv, render_html
from payerbrief.render.csv import plain
from payerbrief.render.html import Links, render_brief_page

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = "\"'><img src=x onerror=alert(1)>"


class Page(HTMLParser):
    """The parts of a page the tests look at: tags, headings, ids, links, text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self._heading: str | None = None
        self._code = 0
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))
        if tag in ("style", "script"):
            self._code += 1
        if tag in ("h1", "h2", "h3", "h4"):
            self._heading = tag
            self.headings.append((tag, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._code -= 1
        if tag == self._heading:
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._code:
            return
        self.text.append(data)
        if self._heading:
            tag, text = self.headings[-1]
            self.headings[-1] = (tag, text + data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def brief_of(reference: Reference, code: str) -> Brief:
    return build_brief(reference, reference.resolve(code))


@pytest.mark.parametrize("code", list(DEMO_CODES))
def test_every_brief_is_a_document_with_its_sections_in_order(
    reference: Reference, code: str
) -> None:
    text = render_html(brief_of(reference, code))
    assert text.startswith('<!doctype html>\n<html lang="en">')
    page = Page(text)
    assert page.all("title") and page.all("main")
    levels = [int(tag[1]) for tag, _ in page.headings]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    h2 = [heading for tag, heading in page.headings if tag == "h2"]
    assert h2 == [f"{n}. {title}" for n, (_, title) in enumerate(SECTIONS, 1)]


def test_the_states_are_shown_in_plain_words(reference: Reference) -> None:
    page = Page(render_html(brief_of(reference, "3372F")))
    words = page.words
    assert "This section: present" in words
    assert (
        "Medicare national amounts not applicable 3372F is a CPT Category II "
        "tracking code: Medicare pays nothing for it" in words
    )
    assert "NCCI edits not available" in words or "NCCI edits present" in words
    # The legend names all four states, with what each means.
    for state in ("present", "not applicable", "not available", "withheld"):
        assert f"{state} " in words
    assert "too few values to publish" in words
    assert "input" not in words.lower()


@pytest.mark.parametrize("code", ["E0601", "3372F", "99213"])
def test_sections_show_their_own_state(reference: Reference, code: str) -> None:
    brief = brief_of(reference, code)
    shown = re.findall(
        r'This section: <span class="state state-[a-z-]+">([a-z ]+)</span>',
        render_html(brief),
    )
    assert shown == [s.state.value for s in brief.sections]


def test_source_notes_link_to_the_sources_page(reference: Reference) -> None:
    brief = brief_of(reference, "99213")
    links = Links(root="../", codes=frozenset({"99212", "99214"}))
    page = Page(render_brief_page(brief, links))
    notes = {a["href"] for a in page.all("a") if "note" in (a.get("class") or "")}
    assert notes and all(href.removeprefix("#") in page.ids for href in notes)
    sources = {a["href"] for a in page.all("a") if "sources.html#" in (a["href"] or "")}
    assert sources == {f"../sources.html#{s.load_id}" for s in brief.sources}
    # Neighbours link only to pages that exist.
    hrefs = {a["href"] for a in page.all("a")}
    assert "../codes/99212.html" in hrefs and "../codes/99211.html" not in hrefs


def test_site_pages_offer_the_downloads(reference: Reference) -> None:
    brief = brief_of(reference, "99213")
    page = Page(render_brief_page(brief, Links(root="../")))
    downloads = [a["href"] for a in page.all("a") if "download" in a]
    assert downloads == ["99213.md", "99213.json", "99213.csv"]
    assert not [a for a in Page(render_html(brief)).all("a") if "download" in a]


def test_a_standalone_page_inlines_its_style(reference: Reference) -> None:
    text = render_html(brief_of(reference, "99213"))
    page = Page(text)
    assert page.all("style") and not page.all("link") and not page.all("script")
    assert "sources.html" not in text


def test_the_chart_draws_the_medicare_amounts_with_text_alternatives(
    reference: Reference,
) -> None:
    page = Page(render_html(brief_of(reference, "71046")))
    (svg,) = page.all("svg")
    assert svg["role"] == "img"
    assert set(str(svg["aria-labelledby"]).split()) <= page.ids
    assert len(page.all("rect")) == 4  # global, 26 and TC outside; 26 inside
    assert len(page.all("circle")) == 2  # the non-facility locality range
    words = page.words
    assert "Medicare amounts for 71046, in dollars" in words
    assert "National, global $32.67 NA" in words
    assert "National, professional (26) $10.03 $10.03" in words
    assert "Lowest of 109 localities, global $28.83 (Mississippi, MS) NA" in words
    assert "Highest of 109 localities, global $43.93 (San Jose" in words


def test_a_code_without_medicare_amounts_says_why_there_is_no_chart(
    reference: Reference,
) -> None:
    page = Page(render_html(brief_of(reference, "3372F")))
    assert not page.all("svg")
    assert "No Medicare chart: 3372F is a CPT Category II tracking code" in page.words


def hostile(reference: Reference) -> Brief:
    """A brief whose every kind of source text carries markup."""
    brief = brief_of(reference, "71046")
    brief.title = f"71046: {SCRIPT}{ATTRIBUTE}"
    summary = brief.section("summary")
    summary.facts["descriptor"] = present(
        {"text": SCRIPT + ATTRIBUTE, "short": ATTRIBUTE, "kind": SCRIPT},
        *brief.sources,
    )
    summary.prose.append(f"Its descriptor reads {SCRIPT}{ATTRIBUTE}")
    payers = brief.section("payers")
    localities = payers.facts["medicare_localities"]
    rows = [dict(r, name=SCRIPT + ATTRIBUTE) for r in localities.value["rows"]]
    payers.facts["medicare_localities"] = present(
        dict(localities.value, rows=rows), *localities.sources
    )
    payers.tables.append(Table(ATTRIBUTE, (SCRIPT,), ((ATTRIBUTE,),)))
    first = brief.sources[0]
    brief.sources[0] = SourceRef(
        first.load_id, first.kind, SCRIPT, ATTRIBUTE, first.release, None, "0" * 64
    )
    brief.notices = [SCRIPT + "\n" + ATTRIBUTE]
    return brief


@pytest.mark.parametrize("links", [Links(site=False), Links(root="../")])
def test_text_from_source_files_is_escaped(reference: Reference, links: Links) -> None:
    text = render_brief_page(hostile(reference), links)
    assert SCRIPT not in text and "<img" not in text
    page = Page(text)
    assert not page.all("img") and not page.all("script")
    assert not [a for _, attrs in page.tags for a in attrs if a.startswith("on")]
    # The text is still there for the reader, as text.
    assert page.words.count(SCRIPT) >= 5
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&#34;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;" in text


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_holds_every_table_cell_in_long_form(reference: Reference) -> None:
    brief = brief_of(reference, "71046")
    rows = read_csv(render_csv(brief))
    assert list(rows[0]) == ["section", "table", "row", "column", "value"]
    for section in brief.sections:
        for table in section.tables:
            cells = [
                r
                for r in rows
                if (r["section"], r["table"]) == (section.key, table.caption)
            ]
            rebuilt: dict[int, list[str]] = {}
            for r in cells:
                rebuilt.setdefault(int(r["row"]), []).append(r["value"])
            assert list(rebuilt.values()) == [
                [plain(c) for c in row] for row in table.rows
            ]


def test_the_csv_writes_money_as_plain_dollars(reference: Reference) -> None:
    rows = read_csv(render_csv(brief_of(reference, "71046")))
    national = {
        (r["row"], r["column"]): r["value"]
        for r in rows
        if r["table"] == "Medicare national amounts"
    }
    assert national[("1", "Non-facility")] == "32.67"
    assert national[("1", "Facility")] == "NA"
    assert plain("$1,234.50") == "1234.50" and plain("$5 a visit") == "$5 a visit"


def test_the_csv_carries_every_locality_amount(reference: Reference) -> None:
    rows = read_csv(render_csv(brief_of(reference, "99213")))
    localities = [
        r for r in rows if r["table"] == "Medicare amounts by locality (global)"
    ]
    assert len({r["row"] for r in localities}) == 109
    alaska = {r["column"]: r["value"] for r in localities if r["row"] == "3"}
    assert set(alaska) == {"Locality", "State", "Name", "Non-facility", "Facility"}
    values = [float(r["value"]) for r in localities if r["column"] == "Non-facility"]
    assert (min(values), max(values)) == (81.28, 112.20)


def test_a_code_without_medicare_amounts_has_no_medicare_tables(
    reference: Reference,
) -> None:
    brief = brief_of(reference, "3372F")
    rows = read_csv(render_csv(brief))
    tables = {r["table"] for r in rows}
    assert tables == {t.caption for s in brief.sections for t in s.tables}
    assert not [t for t in tables if t.startswith("Medicare")]


def test_the_renderers_are_registered() -> None:
    assert set(FORMATS) == {"md", "html", "json", "csv"}


@pytest.mark.parametrize(
    ("fmt", "start"),
    [("html", "<!doctype html>"), ("csv", "section,table,row,column,value\n")],
)
def test_the_brief_command_prints_each_format(
    demo_home: Path, fmt: str, start: str
) -> None:
    result = CliRunner().invoke(
        main, ["--home", str(demo_home), "brief", "99213", "--format", fmt]
    )
    assert result.exit_code == 0
    assert result.stdout.startswith(start)


def test_the_brief_command_names_the_formats(demo_home: Path) -> None:
    result = CliRunner().invoke(
        main, ["--home", str(demo_home), "brief", "99213", "--format", "pdf"]
    )
    assert result.exit_code == 2
    assert "'pdf' is not one of 'md', 'html', 'json', 'csv'" in result.stderr


def test_a_code_with_payer_rates_has_the_rate_chart_inline(reference) -> None:
    from payerbrief.brief.build import build_brief
    from payerbrief.render import render_html

    page = render_html(build_brief(reference, reference.resolve("31231")))
    figure = page[page.index('<figure class="chart" id="rates-chart">') :]
    assert figure.index("<svg") < figure.index("</figure>")
    assert "Blue Cross Blue Shield" in figure[: figure.index("</figure>")]
    # Two renders give the same page: the SVG carries no date.
    again = render_html(build_brief(reference, reference.resolve("31231")))
    assert again == page
