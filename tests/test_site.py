"""The static site: pages, links that resolve, browsing, search index, --strict."""

import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag

import pytest
from click.testing import CliRunner

from payerbrief.brief.build import build_brief
from payerbrief.brief.model import Brief
from payerbrief.cli import main
from payerbrief.codes import BillingCode
from payerbrief.demo import DEMO_CODES
from payerbrief.facts.model import Fact, State
from payerbrief.facts.reference import Reference
from payerbrief.render.html import Links as HtmlLinks
from payerbrief.site import ReferenceSource, build_site, parse_codes, select_codes
from payerbrief.site.build import SiteDirectoryError, write_brief
from payerbrief.site.catalog import Catalog, family_of
from payerbrief.site.check import BrokenFactsError, broken_facts
from payerbrief.site.search import GLOBAL_NAME, search
from payerbrief.store.warehouse import ManifestEntry, Warehouse

CODES = list(DEMO_CODES)


class Links(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.ids: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in ("href", "src"):
            if attributes.get(name):
                self.targets.append(str(attributes[name]))
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))


@pytest.fixture(scope="module")
def manifest(demo_home: Path) -> list[ManifestEntry]:
    with Warehouse(demo_home) as warehouse:
        return warehouse.entries()


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    reference: Reference,
    manifest: list[ManifestEntry],
) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(reference, out, manifest, CODES)
    return out


def test_the_site_has_a_page_and_downloads_per_code(site: Path) -> None:
    for code in CODES:
        for suffix in ("html", "md", "json", "csv"):
            assert (site / "codes" / f"{code}.{suffix}").is_file()
    assert json.loads((site / "codes" / "99213.json").read_text())["code"] == "99213"
    for page in ("index.html", "sources.html", "404.html"):
        assert (site / page).is_file()
    assert (site / "families" / "index.html").is_file()
    assert (site / "payers" / "medicare.html").is_file()


def test_every_link_of_every_page_resolves(site: Path) -> None:
    parsed: dict[Path, Links] = {}

    def page(path: Path) -> Links:
        if path not in parsed:
            parsed[path] = Links(path.read_text(encoding="utf-8"))
        return parsed[path]

    pages = sorted(site.rglob("*.html"))
    assert len(pages) > len(CODES) + 10
    for path in pages:
        for target in page(path).targets:
            assert "://" not in target, f"{path.name} loads {target} from outside"
            url, fragment = urldefrag(target)
            goal = (path.parent / url).resolve() if url else path
            assert goal.is_file(), f"{path.relative_to(site)} links to {target}"
            assert site.resolve() in goal.parents
            if fragment and goal.suffix == ".html":
                assert fragment in page(goal).ids, f"{path.name}: {target}"


def test_pages_work_from_disk_with_relative_links_only(site: Path) -> None:
    for path in site.rglob("*.html"):
        for target in Links(path.read_text(encoding="utf-8")).targets:
            assert not target.startswith("/"), f"{path.name}: {target}"


def test_the_search_index_is_a_script_that_sets_a_global(site: Path) -> None:
    text = (site / "assets" / "search-index.js").read_text(encoding="utf-8")
    prefix = f"window.{GLOBAL_NAME} = "
    assert text.startswith(prefix) and text.endswith(";\n")
    data = json.loads(text[len(prefix) : -2])
    assert sorted(row[0] for row in data["codes"]) == sorted(CODES)
    rows = {row[0]: row for row in data["codes"]}
    assert rows["99213"][1] == "99213: Office o/p est low 20 min"
    assert rows["E0601"][3] == "hcpcs-e" and "hcpcs-e" in data["families"]
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<script src="assets/search-index.js"></script>' in index
    assert '<script src="assets/search.js"></script>' in index


def test_family_pages_group_codes_by_their_place_in_the_code_set(site: Path) -> None:
    names = {p.stem for p in (site / "families").glob("*.html")}
    assert names == {
        "index",
        "cpt-surgery",
        "cpt-radiology",
        "cpt-evaluation-and-management",
        "cpt-category-ii",
        "cpt-category-iii",
        "hcpcs-e",
        "hcpcs-g",
    }
    surgery = (site / "families" / "cpt-surgery.html").read_text()
    for code in ("11045", "27447", "31231"):
        assert f'<a href="../codes/{code}.html">{code}</a>' in surgery


def test_payer_pages_say_which_codes_have_data(
    site: Path, reference: Reference
) -> None:
    def with_medicare(code: str) -> bool:
        brief = build_brief(reference, reference.resolve(code))
        return bool(brief.section("payers").facts["medicare_national"].present)

    priced = [c for c in CODES if with_medicare(c)]
    assert "99213" in priced and "3372F" not in priced
    medicare = (site / "payers" / "medicare.html").read_text()
    assert (
        f"Medicare data is loaded for {len(priced)} of the {len(CODES)} codes here"
        in medicare
    )
    for code in CODES:
        assert (f"../codes/{code}.html" in medicare) is (code in priced)
    aetna = (site / "payers" / "aetna.html").read_text()
    assert f"No loaded Aetna file covers any of the {len(CODES)} codes here" in aetna
    assert {p.stem for p in (site / "payers").glob("*.html")} == {
        "index",
        "medicare",
        "aetna",
        "blue-cross-blue-shield",
        "cigna",
        "unitedhealthcare",
    }


def test_the_sources_page_lists_the_manifest(
    site: Path, manifest: list[ManifestEntry]
) -> None:
    page = Links((site / "sources.html").read_text())
    assert {e.load_id for e in manifest} <= page.ids
    text = (site / "sources.html").read_text()
    assert "PPRRVU25_JAN1.csv" in text and "PPRRVU2025_Oct.csv" in text


def test_search_matches_codes_then_words(reference: Reference) -> None:
    # Evaluation and management codes, and every code with "visit" in its title.
    codes = [c for c in reference.known_codes() if c.startswith("992")]
    codes += ["G0438", "G0439", "D9430", "D9440", "S9126"]
    catalog = Catalog.build(reference, codes)
    total, found = search(catalog, "99213", 5)
    assert found[0].code == "99213"
    total, found = search(catalog, "9921", 50)
    assert [e.code for e in found][:4] == ["99211", "99212", "99213", "99214"]
    total, found = search(catalog, "  Office VISIT ", 100)
    assert total == len(found) > 0
    assert all("office" in e.haystack and "visit" in e.haystack for e in found)
    assert search(catalog, "?!", 10) == (0, [])


def test_families_follow_the_code_sets(reference: Reference) -> None:
    def family(code: str) -> str:
        return family_of(reference.resolve(code)).slug

    assert family("99213") == "cpt-evaluation-and-management"
    assert family("00100") == "cpt-anesthesia"
    assert family("0042T") == "cpt-category-iii"
    assert family("G0439") == "hcpcs-g"


def test_codes_come_from_a_list_or_a_file(tmp_path: Path) -> None:
    assert parse_codes("99213,3372F") == ["99213", "3372F"]
    listed = tmp_path / "codes.txt"
    listed.write_text("# office visits\n99213\n99214, 99215  # and more\n\n")
    assert parse_codes(str(listed)) == ["99213", "99214", "99215"]


def test_the_default_is_every_known_code(reference: Reference) -> None:
    assert select_codes(reference) == reference.known_codes()
    assert select_codes(reference, ["g0439", "99213", "G0439"]) == ["G0439", "99213"]


def test_a_rebuild_replaces_the_old_pages(
    tmp_path: Path, reference: Reference, manifest: list[ManifestEntry]
) -> None:
    build_site(reference, tmp_path, manifest, ["99213", "3372F"])
    build_site(reference, tmp_path, manifest, ["99213"])
    assert sorted(p.name for p in (tmp_path / "codes").iterdir()) == [
        "99213.csv",
        "99213.html",
        "99213.json",
        "99213.md",
    ]


def test_a_directory_holding_other_files_is_refused(
    tmp_path: Path, reference: Reference, manifest: list[ManifestEntry]
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SiteDirectoryError) as caught:
        build_site(reference, tmp_path, manifest, ["99213"])
    assert str(caught.value) == (
        f"{tmp_path} is not empty and holds no site payerbrief built\n"
        "Hint: choose a new or empty directory, or one payerbrief built before"
    )
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_worker_processes_write_the_same_pages(
    tmp_path: Path, demo_home: Path, reference: Reference, manifest: list[ManifestEntry]
) -> None:
    codes = reference.known_codes()[5000:5200]
    seen: list[int] = []
    result = build_site(
        reference,
        tmp_path / "parallel",
        manifest,
        codes,
        jobs=2,
        source=ReferenceSource(demo_home),
        on_briefs=seen.append,
    )
    assert result.codes == sum(seen) == 200
    links = HtmlLinks(root="../", codes=frozenset(codes))
    for code in codes[::40]:
        brief = build_brief(reference, reference.resolve(code))
        write_brief(tmp_path, brief, links)
        for suffix in (".html", ".md", ".json", ".csv"):
            written = tmp_path / "parallel" / "codes" / f"{code}{suffix}"
            assert written.read_bytes() == (tmp_path / f"{code}{suffix}").read_bytes()


# Briefs broken on purpose, as a faulty template or fact builder would break them.


def with_stray_number(ref: Reference, code: BillingCode) -> Brief:
    brief = build_brief(ref, code)
    brief.section("payers").prose.append("Most practices bill it 40,000 times a year.")
    return brief


def with_unknown_state(ref: Reference, code: BillingCode) -> Brief:
    brief = build_brief(ref, code)
    brief.section("coding").facts["mue"] = Fact("maybe", None)  # type: ignore[arg-type]
    return brief


def with_no_reason(ref: Reference, code: BillingCode) -> Brief:
    brief = build_brief(ref, code)
    brief.section("billing").facts["betos"] = Fact(State.NOT_AVAILABLE, None, (), "")
    return brief


@pytest.mark.parametrize(
    ("builder", "problem"),
    [
        (with_stray_number, "99213 payers prose: numbers that are no fact: 40000"),
        (with_unknown_state, "99213 coding.mue: unknown state 'maybe'"),
        (with_no_reason, "99213 billing.betos: not available with no reason given"),
    ],
)
def test_strict_builds_stop_at_a_broken_fact(
    tmp_path: Path,
    reference: Reference,
    manifest: list[ManifestEntry],
    builder,
    problem: str,
) -> None:
    with pytest.raises(BrokenFactsError) as caught:
        build_site(
            reference,
            tmp_path,
            manifest,
            ["3372F", "99213"],
            strict=True,
            builder=builder,
        )
    assert [str(p) for p in caught.value.problems if p.code == "99213"] == [problem]
    assert f"  {problem}\n" in str(caught.value)
    assert not (tmp_path / "index.html").exists()
    assert not (tmp_path / "codes" / "99213.html").exists()


@pytest.mark.parametrize("code", CODES)
def test_the_demo_briefs_have_no_broken_fact(reference: Reference, code: str) -> None:
    assert broken_facts(build_brief(reference, reference.resolve(code))) == []


def run(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--home", str(home), *args])
    return result.exit_code, result.stdout, result.stderr


def test_site_command_writes_the_named_codes(demo_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    code, stdout, _ = run(demo_home, "-q", "site", str(out), "--codes", "99213,3372F")
    assert code == 0
    assert sorted(p.stem for p in (out / "codes").glob("*.html")) == ["3372F", "99213"]
    code, stdout, stderr = run(demo_home, "site", str(out), "--codes", "99213")
    assert code == 0
    assert stdout == (
        f"Wrote 1 briefs and 11 other pages to {out}\nOpen {out / 'index.html'}\n"
    )
    assert "Writing briefs" in stderr


def test_site_command_with_both_selections_is_bad_usage(
    demo_home: Path, tmp_path: Path
) -> None:
    code, _, err = run(demo_home, "site", str(tmp_path), "--codes", "99213", "--all")
    assert code == 2
    assert err == (
        "Error: --codes and --all cannot be used together\n"
        "Hint: --all (the default) publishes every code; --codes limits the site\n"
    )


def test_site_command_names_a_missing_codes_file(
    demo_home: Path, tmp_path: Path
) -> None:
    code, _, err = run(demo_home, "site", str(tmp_path), "--codes", "codes.txt")
    assert code == 2
    assert err == (
        "Error: --codes: no file codes.txt\n"
        "Hint: pass a file of codes, or codes separated by commas (99213,3372F)\n"
    )


def test_site_command_names_an_unknown_code(demo_home: Path, tmp_path: Path) -> None:
    code, _, err = run(demo_home, "site", str(tmp_path), "--codes", "99213,99999")
    assert code == 1
    assert err.startswith("Error: code 99999 is in none of the loaded code sets")
    assert err.endswith("Hint: closest codes: 99601, 99602, 99605, 99606, 99607\n")


def test_strict_site_command_fails_naming_the_code_and_fact(
    demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The one place a test swaps our code: a builder that breaks a fact.
    monkeypatch.setattr("payerbrief.site.build.build_brief", with_no_reason)
    code, _, err = run(
        demo_home, "-q", "site", str(tmp_path), "--codes", "99213", "--strict"
    )
    assert code == 1
    assert err == (
        "Error: 1 briefs have broken facts, so the strict build stops:\n"
        "  99213 billing.betos: not available with no reason given\n"
        "Hint: fix the facts or templates named above, or build without --strict\n"
    )


def test_site_command_has_help(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "site", "--help")
    assert code == 0
    for option in ("--codes FILE|CODES", "--all", "--strict", "--jobs", "--release"):
        assert option in out
