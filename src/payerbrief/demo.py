"""The main job on bundled real data: load it, write the sample briefs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path

from payerbrief.brief.build import build_brief
from payerbrief.brief.model import Brief
from payerbrief.errors import PayerbriefError
from payerbrief.facts.reference import Reference
from payerbrief.ingest import ingest
from payerbrief.render import render_json, render_markdown
from payerbrief.render.charts import write_markdown_brief
from payerbrief.site import build_site
from payerbrief.store.warehouse import LoadResult, Warehouse
from payerbrief.tic_ingest import ingest_tic

# The bundled files (see data/demo/PROVENANCE.md), in load order.
DEMO_FILES: tuple[tuple[str, str | None], ...] = (
    ("pfs-rvu", "PPRRVU25_JAN1.csv"),
    ("pfs-rvu", "PPRRVU2025_Oct.csv"),
    ("gpci", "GPCI2025.csv"),
    ("locality-county", "25LOCCO1.csv"),
    ("hcpcs", "2020-Alpha-Numeric-HCPCS-File.zip"),
    ("nucc", "nucc_taxonomy_251.csv"),
    ("pos", "place_of_service.csv"),
    ("icd10cm", None),
    ("tic", "carefirst_examplefile.json.gz"),
)

# One code of each kind the brief must handle, with why it is in the sample.
DEMO_CODES = {
    "3372F": "CPT Category II tracking code, status I",
    "99213": "office visit, the most billed CPT code",
    "27447": "major surgery with a 90-day global period",
    "70553": "imaging with professional (26) and technical (TC) parts",
    "71046": "radiology with 26 and TC parts",
    "31231": "endoscopy, priced in both settings, with CareFirst BCBS rates",
    "43239": "upper GI endoscopy with biopsy, with CareFirst BCBS rates",
    "45385": "colonoscopy with snare polypectomy, with CareFirst BCBS rates",
    "11045": "add-on code (global ZZZ)",
    "0042T": "CPT Category III code priced by each contractor",
    "G0439": "HCPCS Level II annual wellness visit",
    "E0601": "HCPCS Level II equipment outside the physician fee schedule",
}


@dataclass(frozen=True)
class DemoResult:
    out: Path
    loads: list[LoadResult]
    briefs: list[Path]
    site: Path


def load_demo_data(
    warehouse: Warehouse,
    report: Callable[[LoadResult], None] | None = None,
    *,
    payers: bool = True,
) -> list[LoadResult]:
    """Load the bundled files; `payers=False` leaves out the payer file."""
    loads: list[LoadResult] = []
    folder = files("payerbrief") / "data" / "demo"
    for kind, name in DEMO_FILES:
        if kind == "tic" and not payers:
            continue
        if name is None:
            results = ingest(warehouse, kind, [])
        elif kind == "tic":
            with as_file(folder / name) as path:
                run = ingest_tic(warehouse, [str(path)])
            if run.failures:
                raise run.failures[0]
            results = run.loads
        else:
            with as_file(folder / name) as path:
                results = ingest(warehouse, kind, [path])
        for result in results:
            if report is not None:
                report(result)
        loads += results
    return loads


def write_briefs(ref: Reference, codes: list[str], out: Path) -> list[Path]:
    """Write each code's brief as Markdown and JSON, plus an index."""
    folder = out / "briefs"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    index = ["# payerbrief demo briefs", ""]
    for code in codes:
        brief = build_brief(ref, ref.resolve(code))
        markdown = _write_markdown(brief, folder)
        (folder / f"{brief.code}.json").write_text(render_json(brief), encoding="utf-8")
        written.append(markdown)
        why = DEMO_CODES.get(code, "")
        index.append(f"- [{brief.title}](briefs/{brief.code}.md): {why}")
    (out / "index.md").write_text("\n".join(index) + "\n", encoding="utf-8")
    return written


def _write_markdown(brief: Brief, folder: Path) -> Path:
    """The Markdown brief, with its rate chart beside it when matplotlib is there."""
    try:
        return write_markdown_brief(brief, folder)
    except PayerbriefError:
        path = folder / f"{brief.code}.md"
        path.write_text(render_markdown(brief), encoding="utf-8")
        return path


def run_demo(
    warehouse: Warehouse,
    out: Path,
    report: Callable[[LoadResult], None] | None = None,
) -> DemoResult:
    loads = load_demo_data(warehouse, report)
    ref = Reference.load(warehouse)
    briefs = write_briefs(ref, list(DEMO_CODES), out)
    # The static site of the same codes, strict: a broken fact fails the demo.
    site = build_site(
        ref, out / "site", warehouse.entries(), list(DEMO_CODES), strict=True
    )
    return DemoResult(out, loads, briefs, site.out)
