"""Build the static site: a page per code, browsing pages, search index, assets.

Every page links relatively, so the site works on any web server and opened
from disk. Briefs are built from one `Reference` held in memory; with several
jobs the codes are split across worker processes, each with its own
`Reference` read from the warehouse opened read-only.
"""

from __future__ import annotations

import multiprocessing
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from payerbrief.brief.build import build_brief
from payerbrief.brief.model import Brief
from payerbrief.codes import BillingCode, parse_code
from payerbrief.errors import PayerbriefError
from payerbrief.facts.reference import Reference
from payerbrief.render import render_csv, render_json, render_markdown
from payerbrief.render.html import ASSETS, Links, asset_text, render_brief_page
from payerbrief.site import pages
from payerbrief.site.catalog import Catalog
from payerbrief.site.check import BrokenFactsError, Problem, broken_facts
from payerbrief.site.search import index_script
from payerbrief.store.readonly import ReadOnlyWarehouse
from payerbrief.store.warehouse import ManifestEntry

Builder = Callable[[Reference, BillingCode], Brief]

# A file in the site's root that marks the directory as one payerbrief wrote,
# so a rebuild may clear the pages it wrote before.
MARKER = ".payerbrief-site"
OWNED = ("codes", "families", "payers", "assets")

CHUNK = 50
# Below this many codes, forking workers costs more than it saves.
SERIAL_BELOW = 200


class SiteDirectoryError(PayerbriefError):
    def __init__(self, out: Path) -> None:
        self.out = out
        self.hint = "choose a new or empty directory, or one payerbrief built before"
        super().__init__(f"{out} is not empty and holds no site payerbrief built")


@dataclass(frozen=True)
class SiteResult:
    out: Path
    codes: int
    pages: int
    seconds: float = 0.0


def parse_codes(value: str) -> list[str]:
    """The codes of a `--codes` value: a file of codes, or codes joined by commas.

    A file holds codes separated by commas, spaces or line breaks; text after
    `#` on a line is a comment.
    """
    path = Path(value)
    if path.is_file():
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        text = " ".join(line.split("#", 1)[0] for line in lines)
    else:
        text = value
    return [t for t in text.replace(",", " ").split() if t]


def select_codes(ref: Reference, codes: Sequence[str] | None = None) -> list[str]:
    """The codes named (each must be in a loaded code set), or every known code."""
    if codes is None:
        return list(ref.known_codes())
    chosen: dict[str, None] = {}
    for text in codes:
        chosen[ref.resolve(text).code] = None
    return list(chosen)


def _prepare(out: Path) -> None:
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise SiteDirectoryError(out)
    for folder in OWNED:
        shutil.rmtree(out / folder, ignore_errors=True)
        (out / folder).mkdir(parents=True)
    (out / MARKER).write_text("written by payerbrief site\n", encoding="utf-8")


@dataclass(frozen=True)
class ReferenceSource:
    """Where worker processes load the reference data: the warehouse, read-only."""

    home: Path
    releases: dict[str, str] = field(default_factory=dict)

    def load(self) -> Reference:
        with ReadOnlyWarehouse(self.home) as warehouse:
            return Reference.load(warehouse, self.releases)


@dataclass
class _Job:
    ref: Reference
    folder: Path
    links: Links
    builder: Builder
    check: bool


# The job of this process: the build's own, or a worker's, set by `_start_worker`.
_JOB: _Job | None = None


def _start_worker(
    source: ReferenceSource, folder: Path, links: Links, builder: Builder, check: bool
) -> None:
    global _JOB
    _JOB = _Job(source.load(), folder, links, builder, check)


def write_brief(folder: Path, brief: Brief, links: Links) -> None:
    """The brief's page and its three downloads, side by side."""
    stem = folder / brief.code
    for suffix, text in (
        (".html", render_brief_page(brief, links)),
        (".md", render_markdown(brief)),
        (".json", render_json(brief)),
        (".csv", render_csv(brief)),
    ):
        stem.with_suffix(suffix).write_text(text, encoding="utf-8")


# What writing a chunk of briefs returns: problems found, payers with data by code.
Written = tuple[list[Problem], dict[str, tuple[str, ...]]]


def _payers(brief: Brief) -> tuple[str, ...]:
    summary = next((s for s in brief.sections if s.key == "summary"), None)
    if summary is None or "payers_with_data" not in summary.facts:
        return ()
    return tuple(summary.facts["payers_with_data"].value or ())


def _write_chunk(codes: list[str]) -> Written:
    job = _JOB
    assert job is not None, "the build sets the job before writing"
    problems: list[Problem] = []
    payers: dict[str, tuple[str, ...]] = {}
    for code in codes:
        brief = job.builder(job.ref, parse_code(code))
        payers[brief.code] = _payers(brief)
        found = broken_facts(brief) if job.check else []
        problems += found
        # A strict build publishes no brief with a broken fact.
        if not found:
            write_brief(job.folder, brief, job.links)
    return problems, payers


def _chunks(codes: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(codes), CHUNK):
        yield codes[start : start + CHUNK]


def _write_briefs(
    job: _Job,
    codes: list[str],
    jobs: int,
    source: ReferenceSource | None,
    on_briefs: Callable[[int], None] | None,
) -> Written:
    global _JOB
    problems: list[Problem] = []
    payers: dict[str, tuple[str, ...]] = {}

    def collect(results: Iterator[Written]) -> None:
        for found, seen in results:
            problems.extend(found)
            payers.update(seen)
            if on_briefs is not None:
                on_briefs(len(seen))

    if jobs <= 1 or source is None or len(codes) < SERIAL_BELOW:
        _JOB = job
        try:
            collect(map(_write_chunk, _chunks(codes)))
        finally:
            _JOB = None
    else:
        # Each worker loads its own reference data, read-only: a forked copy
        # of the parent's would share its DuckDB connection across processes.
        context = multiprocessing.get_context("spawn")
        start = (source, job.folder, job.links, job.builder, job.check)
        with context.Pool(jobs, initializer=_start_worker, initargs=start) as pool:
            collect(pool.imap_unordered(_write_chunk, _chunks(codes)))
    return sorted(problems, key=lambda p: (p.code, p.fact)), payers


def _write_pages(
    out: Path, catalog: Catalog, manifest: Sequence[ManifestEntry], used: set[str]
) -> int:
    top = Links(root="", codes=catalog.codes)
    nested = Links(root="../", codes=catalog.codes)
    written = {
        out / "index.html": pages.index_page(catalog, manifest, top),
        out / "sources.html": pages.sources_page(manifest, used, top),
        out / "404.html": pages.not_found_page(
            top, "No page of this site has that address."
        ),
        out / "families" / "index.html": pages.families_page(catalog, nested),
        out / "payers" / "index.html": pages.payers_page(catalog, nested),
    }
    for family, _ in catalog.families:
        page = pages.family_page(catalog, family.slug, nested)
        assert page is not None
        written[out / "families" / f"{family.slug}.html"] = page
    for payer in catalog.payers:
        page = pages.payer_page(catalog, payer.slug, nested)
        assert page is not None
        written[out / "payers" / f"{payer.slug}.html"] = page
    for path, text in written.items():
        path.write_text(text, encoding="utf-8")

    assets = out / "assets"
    for name in ASSETS:
        (assets / name).write_text(asset_text(name), encoding="utf-8")
    (assets / "search-index.js").write_text(index_script(catalog), encoding="utf-8")
    return len(written)


def build_site(
    ref: Reference,
    out: Path,
    manifest: Sequence[ManifestEntry],
    codes: Sequence[str] | None = None,
    *,
    strict: bool = False,
    jobs: int = 1,
    source: ReferenceSource | None = None,
    on_briefs: Callable[[int], None] | None = None,
    builder: Builder | None = None,
) -> SiteResult:
    """Write the site for `codes` (default: every known code) into `out`.

    `on_briefs` is called with the number of briefs written since its last
    call. With `jobs` above 1 and a `source`, briefs are written by that many
    worker processes, each loading the reference data from `source` (which
    must give the same data as `ref`). With `strict`, every brief is checked
    for broken facts (see `payerbrief.site.check`); any stops the build before
    the index pages are written, raising `BrokenFactsError`.
    """
    started = time.perf_counter()
    chosen = select_codes(ref, codes)
    _prepare(out)

    links = Links(root="../", codes=frozenset(chosen))
    job = _Job(ref, out / "codes", links, builder or build_brief, check=strict)
    problems, payers = _write_briefs(job, chosen, jobs, source, on_briefs)
    if problems:
        raise BrokenFactsError(problems)
    # The payers each brief names, so the index pages say what the briefs say.
    catalog = Catalog.build(ref, chosen, payers)

    used = {e.load_id for e in ref.entries.values()}
    other_pages = _write_pages(out, catalog, manifest, used)
    seconds = time.perf_counter() - started
    return SiteResult(out, len(chosen), len(chosen) + other_pages, seconds)
