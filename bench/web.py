"""Benchmark: the web app's latency and throughput on loopback, and site builds.

Loads the bundled demo data into a fresh warehouse in a temporary directory (or
uses `--home`), starts `payerbrief serve` in a subprocess on a free loopback
port, and drives it with a bounded asyncio loop of httpx clients: for each
target and each number of concurrent clients, a fixed number of requests over
codes drawn at random (fixed seed) from every known code, each run also capped
in time. Reports p50 and p99 latency and requests per second. Client and server
share the machine's cores, so the figures are for the pair, not the server
alone; the tiny static asset is there to show that ceiling.

With `--site`, then builds the static site of every known code and reports
pages per second; with `--stages`, times each step of writing one brief's
page (build, check, HTML, Markdown, JSON, CSV) over 400 random codes. Run:

    apt-get install -y wrk   # optional; without it the httpx client is used
    .venv/bin/python bench/web.py --site
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from payerbrief.brief.build import build_brief
from payerbrief.brief.model import Brief
from payerbrief.demo import load_demo_data
from payerbrief.facts.reference import Reference
from payerbrief.render import render_csv, render_json, render_markdown
from payerbrief.render.html import Links, render_brief_page
from payerbrief.site import ReferenceSource, build_site
from payerbrief.site.check import broken_facts
from payerbrief.store.warehouse import Warehouse

TARGETS: dict[str, Callable[[str], str]] = {
    "static asset (ceiling)": lambda code: "/assets/favicon.svg",
    "brief page (HTML)": lambda code: f"/codes/{code}.html",
    "brief facts (API)": lambda code: f"/api/codes/{code}",
    "rates (API, page of 50)": lambda code: f"/api/codes/{code}/rates",
    "search (API)": lambda code: f"/api/search?q={code[:3]}&limit=20",
}
CONCURRENCY = (1, 10, 50)
TIME_CAP = 60.0
WRK_SECONDS = 10

# wrk script: request the paths of a file in turn; report one parsable line.
WRK_SCRIPT = """
local paths = {}
local at = 0
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
end
request = function()
  at = at % #paths + 1
  return wrk.format("GET", paths[at])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


@dataclass(frozen=True)
class Run:
    target: str
    clients: int
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    # wrk reports its own percentiles (ms); the httpx loop keeps every latency.
    p50_ms: float | None = None
    p99_ms: float | None = None

    def percentile(self, share: float) -> float:
        given = {0.5: self.p50_ms, 0.99: self.p99_ms}.get(share)
        if given is not None:
            return given
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def drive_wrk(base: str, target: str, paths: list[str], clients: int) -> Run:
    """Run wrk for `WRK_SECONDS` with `clients` connections over `paths`."""
    with tempfile.TemporaryDirectory() as folder:
        script, listed = Path(folder) / "paths.lua", Path(folder) / "paths.txt"
        script.write_text(WRK_SCRIPT)
        listed.write_text("\n".join(paths) + "\n")
        command = [
            "wrk",
            "-t1",
            f"-c{clients}",
            f"-d{WRK_SECONDS}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            base + "/",
            "--",
            str(listed),
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    requests, micros, p50, p99, errors = (int(x) for x in line.split()[1:])
    return Run(
        target, clients, requests, errors, micros / 1e6, [], p50 / 1e3, p99 / 1e3
    )


async def drive(
    base: str, target: str, paths: list[str], clients: int, time_cap: float
) -> Run:
    """Send `paths` with `clients` concurrent connections; stop early at the cap."""
    queue = iter(paths)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + time_cap
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            for path in queue:
                if time.perf_counter() > deadline:
                    return
                started = time.perf_counter()
                response = await client.get(path)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        seconds = time.perf_counter() - started
    return Run(target, clients, len(latencies), errors, seconds, latencies)


def start_server(home: Path, log: Path) -> tuple[subprocess.Popen[str], str]:
    command = Path(sys.executable).parent / "payerbrief"
    server = subprocess.Popen(
        [str(command), "--home", str(home), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    if " at http://" not in line:
        server.kill()
        raise SystemExit(f"the server did not start: {line}{log.read_text()}")
    return server, line.split(" at ")[1].split()[0].rstrip("/")


def bench_web(home: Path, codes: list[str], requests: int, client: str) -> list[Run]:
    with tempfile.TemporaryDirectory() as folder:
        server, base = start_server(home, Path(folder) / "server.log")
        try:
            picked = random.Random(7)
            runs = []
            for target, path_of in TARGETS.items():
                # Warm up: first requests fill caches that later ones reuse.
                warm = [path_of(c) for c in picked.sample(codes, 20)]
                asyncio.run(drive(base, target, warm, 5, TIME_CAP))
                for clients in CONCURRENCY:
                    paths = [path_of(c) for c in picked.choices(codes, k=requests)]
                    if client == "wrk":
                        run = drive_wrk(base, target, paths, clients)
                    else:
                        run = asyncio.run(drive(base, target, paths, clients, TIME_CAP))
                    runs.append(run)
                    print(
                        f"  {target:26} {clients:3} clients: "
                        f"p50 {run.percentile(0.5):7.1f} ms  "
                        f"p99 {run.percentile(0.99):7.1f} ms  "
                        f"{run.rate:7.0f} req/s  ({run.requests} requests, "
                        f"{run.errors} errors)",
                        flush=True,
                    )
        finally:
            server.terminate()
            server.wait(20)
    return runs


def bench_site(home: Path, jobs: int) -> tuple[int, float, float]:
    with Warehouse(home) as warehouse:
        ref = Reference.load(warehouse)
        manifest = warehouse.entries()
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        result = build_site(
            ref, Path(out), manifest, jobs=jobs, source=ReferenceSource(home)
        )
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    return result.pages, seconds, size / 1e6


def bench_stages(home: Path, count: int = 400) -> dict[str, float]:
    """Milliseconds per brief for each step of writing a site page, one core."""
    with Warehouse(home) as warehouse:
        ref = Reference.load(warehouse)
    codes = random.Random(2).sample(ref.known_codes(), count)
    links = Links(root="../", codes=frozenset(ref.known_codes()))
    spent = dict.fromkeys(("build", "check", "html", "md", "json", "csv"), 0.0)
    for code in codes:
        started = time.perf_counter()
        brief = build_brief(ref, ref.resolve(code))
        spent["build"] += time.perf_counter() - started
        steps: dict[str, Callable[[Brief], object]] = {
            "check": broken_facts,
            "html": lambda b: render_brief_page(b, links),
            "md": render_markdown,
            "json": render_json,
            "csv": render_csv,
        }
        for name, step in steps.items():
            started = time.perf_counter()
            step(brief)
            spent[name] += time.perf_counter() - started
    return {name: seconds / count * 1000 for name, seconds in spent.items()}


def table(runs: list[Run]) -> str:
    lines = [
        "| target | clients | requests | p50 ms | p99 ms | requests/s |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run.target} | {run.clients} | {run.requests} | "
            f"{run.percentile(0.5):.1f} | {run.percentile(0.99):.1f} | {run.rate:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a loaded warehouse to use")
    parser.add_argument(
        "--requests",
        type=int,
        default=400,
        help="httpx: requests per target and run; wrk: distinct paths cycled",
    )
    parser.add_argument(
        "--client",
        choices=["wrk", "httpx"],
        default="wrk" if shutil.which("wrk") else "httpx",
        help="load generator (default: wrk when installed)",
    )
    parser.add_argument("--site", action="store_true", help="also build the site")
    parser.add_argument(
        "--stages", action="store_true", help="also time each step of a brief page"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="site build worker processes",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or Path(scratch)
        if args.home is None:
            with Warehouse(home) as warehouse:
                load_demo_data(warehouse)
        with Warehouse(home) as warehouse:
            codes = Reference.load(warehouse).known_codes()
        cores = len(os.sched_getaffinity(0))
        print(f"codes: {len(codes):,}; cores: {cores}; client: {args.client}")
        runs = bench_web(home, codes, args.requests, args.client)
        print()
        print(table(runs))
        if args.site:
            pages, seconds, megabytes = bench_site(home, args.jobs)
            print()
            print(f"site: {pages:,} pages in {seconds:.1f} s with {args.jobs} jobs")
            print(f"site pages per second: {pages / seconds:.0f}")
            print(f"site size: {megabytes:,.0f} MB")
        if args.stages:
            print()
            for name, ms in bench_stages(home).items():
                print(f"per brief, {name:5}: {ms:5.2f} ms")


if __name__ == "__main__":
    main()
