"""The static site in a real browser: search, briefs, chart, downloads, axe-core.

Drives Debian's Chromium (/usr/bin/chromium) with Playwright for Python;
`scripts/browser-setup.sh` installs both and axe-core. The tests skip only when
Chromium is absent.
"""

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from payerbrief.brief.build import build_brief
from payerbrief.demo import DEMO_CODES
from payerbrief.facts.reference import Reference
from payerbrief.render.html import render_html
from payerbrief.site import build_site
from payerbrief.site.catalog import Catalog
from payerbrief.site.search import search
from payerbrief.store.warehouse import Warehouse

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / ".tools" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SETUP = "run scripts/browser-setup.sh"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"Chromium is not installed at {CHROMIUM}; {SETUP}"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, demo_home: Path) -> Path:
    out = tmp_path_factory.mktemp("browser-site")
    with Warehouse(demo_home) as warehouse:
        ref = Reference.load(warehouse)
        build_site(ref, out, warehouse.entries(), list(DEMO_CODES))
    return out


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    """The site on a plain static web server on loopback."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(f"Chromium is installed but Playwright for Python is not; {SETUP}")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            accept_downloads=True,
        )
        yield context
        context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab that records script errors, console errors and dialogs."""
    tab = browser.new_page()
    tab.problems = []
    tab.on("pageerror", lambda error: tab.problems.append(f"error: {error}"))
    tab.on(
        "console",
        lambda m: m.type == "error" and tab.problems.append(f"console: {m.text}"),
    )

    def dialog(d: Any) -> None:
        tab.problems.append(f"dialog: {d.message}")
        d.dismiss()

    tab.on("dialog", dialog)
    yield tab
    tab.close()


def results(page: Any) -> list[str]:
    page.wait_for_selector("#results li a")
    return page.locator("#results li a").all_inner_texts()


def test_search_for_a_code_and_read_its_brief(
    page: Any, base_url: str, reference: Reference
) -> None:
    page.goto(base_url + "index.html")
    page.fill("#q", "99213")
    assert results(page)[0] == "99213: Office o/p est low 20 min"
    page.click("#results li a >> nth=0")
    page.wait_for_url("**/codes/99213.html")

    brief = build_brief(reference, reference.resolve("99213"))
    assert page.inner_text("h1") == brief.title
    headings = page.locator("h2").all_inner_texts()
    assert headings == [f"{n}. {s.title}" for n, s in enumerate(brief.sections, 1)]
    for section in brief.sections:
        state = page.locator(f"#{section.key} .section-state .state").inner_text()
        assert state == section.state.value
        facts = page.locator(f"#{section.key} table.facts tbody tr")
        assert facts.count() == len(section.facts.items())
        for row, (_, fact) in zip(facts.all(), section.facts.items(), strict=True):
            assert row.locator(".state").inner_text() == fact.state.value
    assert page.problems == []


def test_the_chart_is_drawn(page: Any, base_url: str) -> None:
    page.goto(base_url + "codes/71046.html")
    chart = page.locator("#medicare-chart svg")
    assert chart.get_attribute("role") == "img"
    assert page.locator("#chart-title").text_content() == (
        "Medicare amounts for 71046, in dollars"
    )
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    bars = page.locator("#medicare-chart rect")
    assert bars.count() == 4
    widths = [bars.nth(i).bounding_box()["width"] for i in range(4)]
    assert all(w > 10 for w in widths)
    # The non-facility bar of the global part is the widest: $32.67.
    assert widths[0] == max(widths)
    assert page.locator("table.chart-data tbody tr").count() == 5


def test_the_csv_download_works(page: Any, base_url: str) -> None:
    page.goto(base_url + "codes/99213.html")
    with page.expect_download() as download:
        page.click("text=CSV (the numbers behind every table)")
    saved = Path(download.value.path())
    assert download.value.suggested_filename == "99213.csv"
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("section,table,row,column,value\n")
    assert "payers,Medicare national amounts,1,Non-facility,88.95\n" in text


def test_search_by_words_matches_the_api_rules(
    page: Any, base_url: str, reference: Reference
) -> None:
    catalog = Catalog.build(reference, list(DEMO_CODES))
    for query in ("x-ray", "chest views", "9", "e06", "WELLNESS"):
        page.goto(base_url + "index.html")
        page.fill("#q", query)
        expected = [e.title for e in search(catalog, query, 50)[1]]
        if expected:
            assert results(page) == expected, query
    page.fill("#q", "nothing like this")
    page.wait_for_function(
        "document.getElementById('search-status').textContent.startsWith('No code')"
    )
    assert page.locator("#results li").count() == 0


def test_the_search_box_on_every_page_leads_to_results(
    page: Any, base_url: str
) -> None:
    page.goto(base_url + "families/cpt-surgery.html")
    page.fill("#q", "27447")
    page.press("#q", "Enter")
    page.wait_for_url("**/index.html?q=27447")
    assert results(page)[0].startswith("27447: ")


def test_the_site_works_opened_from_disk(page: Any, site: Path) -> None:
    page.goto((site / "index.html").as_uri() + "?q=G0439")
    assert results(page) == ["G0439: Ppps, subseq visit"]
    page.click("#results li a >> nth=0")
    page.wait_for_url("**/codes/G0439.html")
    assert page.inner_text("h1") == "G0439: Ppps, subseq visit"
    # The style sheet loaded: the page is laid out by it, not the defaults.
    width = page.evaluate("getComputedStyle(document.body).maxWidth")
    assert width != "none"
    assert page.locator("#medicare-chart rect").count() > 0
    assert page.problems == []


def test_markup_in_source_text_runs_no_script(
    page: Any, tmp_path: Path, reference: Reference
) -> None:
    from test_render_html import hostile

    path = tmp_path / "hostile.html"
    path.write_text(render_html(hostile(reference)), encoding="utf-8")
    page.goto(path.as_uri())
    page.wait_for_timeout(200)
    assert page.locator("img").count() == 0
    assert "<script>alert(1)</script>" in page.inner_text("h1")
    assert page.problems == []


def axe_violations(page: Any) -> list[str]:
    if not AXE.is_file():
        pytest.fail(f"axe-core is not installed at {AXE}; {SETUP}")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))"
    )
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize(
    "path",
    [
        "index.html?q=office",
        "codes/99213.html",
        "codes/71046.html",
        "codes/3372F.html",
        "families/index.html",
        "families/cpt-surgery.html",
        "payers/index.html",
        "payers/medicare.html",
        "payers/aetna.html",
        "sources.html",
        "404.html",
    ],
)
def test_pages_have_no_serious_accessibility_violations(
    page: Any, base_url: str, path: str
) -> None:
    page.goto(base_url + path)
    if "?q=" in path:
        results(page)
    assert axe_violations(page) == []


def test_the_accessibility_check_does_find_violations(page: Any) -> None:
    page.set_content('<!doctype html><html><body><img src="x.png"></body></html>')
    found = axe_violations(page)
    assert any("image-alt" in v for v in found), found
