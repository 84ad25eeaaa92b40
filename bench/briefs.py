"""Benchmark: build and render the brief of every code in the fee schedule.

Loads the bundled demo data into a fresh warehouse in a temporary directory,
then builds every brief and renders it as Markdown and JSON, reporting briefs
per second and the process's peak memory. Run:

    .venv/bin/python bench/briefs.py
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from payerbrief.brief.build import build_brief
from payerbrief.brief.grounding import ungrounded
from payerbrief.demo import load_demo_data
from payerbrief.facts.reference import Reference
from payerbrief.render import render_json, render_markdown
from payerbrief.store.warehouse import Warehouse


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="also run the grounding checker"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as home, Warehouse(Path(home)) as warehouse:
        started = time.perf_counter()
        load_demo_data(warehouse)
        load_seconds = time.perf_counter() - started

        started = time.perf_counter()
        ref = Reference.load(warehouse)
        reference_seconds = time.perf_counter() - started

        codes = sorted(ref.pfs)
        started = time.perf_counter()
        size = 0
        stray = 0
        for code in codes:
            brief = build_brief(ref, ref.resolve(code))
            size += len(render_markdown(brief)) + len(render_json(brief))
            if args.check and ungrounded(brief):
                stray += 1
        seconds = time.perf_counter() - started

    print(f"load bundled data:   {load_seconds:8.2f} s")
    print(f"read reference data: {reference_seconds:8.2f} s")
    print(f"codes in the fee schedule: {len(codes):,}")
    print(f"build + render md/json:    {seconds:8.2f} s")
    print(f"briefs per second:         {len(codes) / seconds:8.0f}")
    print(f"output written:            {size / 1e6:8.1f} MB")
    print(f"peak memory (RSS):         {peak_rss_mb():8.0f} MB")
    if args.check:
        print(f"briefs with an ungrounded number: {stray}")


if __name__ == "__main__":
    main()
