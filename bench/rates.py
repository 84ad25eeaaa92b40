"""Rate facts for every code of a large payer file, against one plain DuckDB query.

Loads the file (made by `bench/make_tic.py` from the real CareFirst file) into
a fresh warehouse, then times, in one run on the same file:

- `summaries`: the per-file rate summaries (`payerbrief.facts.summaries`), one
  pass over the loaded rates;
- `facts`: the payer facts of every code in the file, merged from those
  summaries (`payerbrief.facts.rates.rate_facts`);
- `duckdb`: a plain query that reads the rates table once and computes count,
  min, quartiles, median and max per code (no flags, no Medicare, no merging).

Prints the times, their ratios and peak memory (max RSS) as JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from payerbrief.codes import parse_code
from payerbrief.demo import load_demo_data
from payerbrief.facts.payment import medicare_national
from payerbrief.facts.rates import rate_facts
from payerbrief.facts.reference import Reference
from payerbrief.facts.summaries import ensure_summaries
from payerbrief.sources.tic.innetwork import TicInNetworkReader
from payerbrief.store.warehouse import Warehouse

HERE = Path(__file__).resolve().parent

PLAIN = """
SELECT billing_code, count(*) AS n, min(negotiated_rate) AS low,
    quantile_cont(negotiated_rate, [0.1, 0.25, 0.5, 0.75, 0.9]) AS q,
    max(negotiated_rate) AS high, avg(negotiated_rate) AS mean
FROM read_parquet(?) GROUP BY billing_code
"""


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(path: Path, home: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    with Warehouse(home) as warehouse:
        load_demo_data(warehouse)
        start = time.perf_counter()
        entry = warehouse.load(TicInNetworkReader(path)).entry
        figures["load_s"] = time.perf_counter() - start
        figures["rates"] = entry.rows_loaded
        figures["peak_mb_after_load"] = peak_mb()

        start = time.perf_counter()
        ensure_summaries(warehouse)
        figures["summaries_s"] = time.perf_counter() - start
        figures["peak_mb_after_summaries"] = peak_mb()

        rates = str(warehouse.lake / "tic_rate" / f"{entry.load_id}.parquet")
        start = time.perf_counter()
        plain = warehouse.db.execute(PLAIN, [rates]).fetchall()
        figures["duckdb_s"] = time.perf_counter() - start

        start = time.perf_counter()
        ref = Reference.load(warehouse)
        figures["reference_s"] = time.perf_counter() - start
    start = time.perf_counter()
    for row in plain:
        code = parse_code(row[0])
        rate_facts(ref, code, medicare_national(ref, code))
    figures["facts_s"] = time.perf_counter() - start
    figures["codes"] = len(plain)
    figures["peak_mb"] = peak_mb()
    figures["summaries_over_duckdb"] = figures["summaries_s"] / figures["duckdb_s"]
    figures["facts_over_duckdb"] = figures["facts_s"] / figures["duckdb_s"]
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "path", type=Path, nargs="?", default=HERE / "data" / "tic-1000mb.json.gz"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as home:
        figures = run(args.path, Path(home))
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}, indent=2))


if __name__ == "__main__":
    main()
