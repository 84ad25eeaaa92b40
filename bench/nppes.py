"""Benchmark: load one NPPES file with payerbrief, DuckDB and pandas, in one run.

Each tool runs in its own subprocess on the same file and builds the same
table: the NPI, entity type, taxonomies and primary taxonomy, practice state
and five-digit ZIP, deactivation date and NPI check digit of every row.

- payerbrief: `Warehouse.load(NppesReader(FILE))` into a fresh warehouse in a
  temporary directory (checksum, Parquet file, manifest); `payerbrief-read`
  is the reader's batches alone, written nowhere.
- DuckDB: `read_csv` of the file, given its 330 columns as VARCHAR so that no
  time goes to sniffing, into a table of a database file, with the derived
  columns in SQL.
- pandas: `read_csv(usecols=..., dtype=str, chunksize=...)` with the C
  parser, the derived columns computed per chunk with vectorised pandas and
  NumPy operations, each chunk appended to a Parquet file.

Throughput is the file's size over the wall time of the work (imports and
interpreter start excluded); peak memory is the subprocess's maximum RSS.
Ratios compare each tool with the payerbrief load. Run:

    .venv/bin/python bench/make_nppes.py --size-mb 2000
    .venv/bin/python bench/nppes.py \\
        bench/data/nppes-2000mb/npidata_pfile_20050523-20251109.csv

pandas is a benchmark-only dependency: `.venv/bin/pip install pandas`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_nppes import HEADER  # noqa: E402

from payerbrief.sources.nppes import (  # noqa: E402
    COLUMNS,
    COUNTRY,
    DEACTIVATED,
    ENTITY,
    NPI,
    POSTAL,
    STATE,
    SWITCH,
    TAXONOMY,
    NppesReader,
)

TOOLS = ("payerbrief", "payerbrief-read", "duckdb", "pandas")
CHUNK_ROWS = 100_000
Result = dict[str, Any]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(work: Callable[[], Result]) -> Result:
    """Run `work`, adding its wall and CPU seconds and the peak RSS to its result."""
    started, cpu = time.perf_counter(), cpu_seconds()
    result = work()
    result["seconds"] = time.perf_counter() - started
    result["cpu"] = cpu_seconds() - cpu
    result["rss_mb"] = peak_rss_mb()
    return result


# payerbrief


def run_payerbrief(path: Path, scratch: Path) -> Result:
    from payerbrief.store.warehouse import Warehouse

    warehouse = Warehouse(scratch / "home")

    def work() -> Result:
        entry = warehouse.load(NppesReader(path)).entry
        return {"rows": entry.rows_loaded, "rejected": entry.rows_rejected}

    result = timed(work)
    result.update(
        warehouse.rows(
            "SELECT count(*) FILTER (WHERE NOT npi_valid) AS invalid_npis, "
            "count(primary_taxonomy) AS with_primary, "
            "sum(len(taxonomies)) AS taxonomies, "
            "count(practice_zip5) AS with_zip5, "
            "count(deactivation_date) AS deactivated FROM nppes_provider"
        )[0]
    )
    warehouse.close()
    return result


def run_payerbrief_read(path: Path, scratch: Path) -> Result:
    def work() -> Result:
        reader = NppesReader(path)
        rows = sum(batch.num_rows for batch in reader.batches())
        return {"rows": rows, "invalid_npis": reader.check_digit_failures}

    return timed(work)


# DuckDB


def _luhn_sql(npi: str) -> str:
    """The NPI check digit test (Luhn with the prefix 80840, worth 24) in SQL."""
    terms = []
    for position in range(1, 11):
        digit = f"substr({npi}, {position}, 1)::INTEGER"
        if position % 2 == 1 and position < 10:
            digit = f"(2 * {digit} - CASE WHEN {digit} > 4 THEN 9 ELSE 0 END)"
        terms.append(digit)
    return f"(24 + {' + '.join(terms)}) % 10 = 0"


def duckdb_sql(path: Path) -> str:
    columns = ", ".join(f"'{name}': 'VARCHAR'" for name in HEADER)
    picked = ", ".join(f'nullif("{name}", \'\') AS "{name}"' for name in COLUMNS)
    codes = ", ".join(f'"{name}"' for name in TAXONOMY)
    marks = " ".join(
        f'WHEN "{s}" = \'Y\' AND "{t}" IS NOT NULL THEN "{t}"'
        for t, s in zip(TAXONOMY, SWITCH, strict=True)
    )
    source = str(path).replace("'", "''")
    return f"""
CREATE TABLE nppes_provider AS
WITH raw AS (
    SELECT {picked}
    FROM read_csv('{source}', header = true, delim = ',', quote = '"',
                  escape = '"', auto_detect = false, columns = {{{columns}}})
), listed AS (
    SELECT *, list_filter([{codes}], lambda code: code IS NOT NULL) AS taxonomies
    FROM raw
)
SELECT
    "{NPI}" AS npi,
    "{ENTITY}" AS entity_type,
    coalesce(CASE {marks} END,
             CASE WHEN len(taxonomies) = 1 THEN taxonomies[1] END)
        AS primary_taxonomy,
    taxonomies,
    "{STATE}" AS practice_state,
    CASE WHEN coalesce("{COUNTRY}", 'US') = 'US'
          AND regexp_matches("{POSTAL}", '^[0-9]{{5}}')
         THEN left("{POSTAL}", 5) END AS practice_zip5,
    try_strptime("{DEACTIVATED}", '%m/%d/%Y')::DATE AS deactivation_date,
    {_luhn_sql(f'"{NPI}"')} AS npi_valid
FROM listed
"""


def run_duckdb(path: Path, scratch: Path) -> Result:
    import duckdb

    db = duckdb.connect(str(scratch / "bench.duckdb"))
    sql = duckdb_sql(path)

    def work() -> Result:
        db.execute(sql)
        row = db.execute("SELECT count(*) FROM nppes_provider").fetchone()
        return {"rows": row[0] if row else 0}

    result = timed(work)
    row = db.execute(
        "SELECT count(*) FILTER (WHERE NOT npi_valid), count(primary_taxonomy), "
        "sum(len(taxonomies)), count(practice_zip5), count(deactivation_date) "
        "FROM nppes_provider"
    ).fetchone()
    keys = ("invalid_npis", "with_primary", "taxonomies", "with_zip5", "deactivated")
    result.update(dict(zip(keys, row or (), strict=True)))
    db.close()
    return result


# pandas


def pandas_chunk(chunk: Any) -> Any:
    """The derived table of one chunk, with vectorised pandas and NumPy.

    The taxonomy slots go through NumPy object arrays: pandas' row-wise
    helpers (`bfill(axis=1)`, `stack().groupby().agg(list)`) transpose the
    frame and take minutes per chunk. Only the list column is built per row,
    as pandas has no vectorised way to make one.
    """
    import numpy as np
    import pandas as pd

    rows = np.arange(len(chunk))
    codes = chunk[list(TAXONOMY)].to_numpy(dtype=object, na_value=None)
    present = pd.notna(codes)
    taxonomies = [list(row[mask]) for row, mask in zip(codes, present, strict=True)]
    marked = present & (chunk[list(SWITCH)].to_numpy(dtype=object) == "Y")
    first = codes[rows, present.argmax(axis=1)]
    primary = np.where(
        marked.any(axis=1),
        codes[rows, marked.argmax(axis=1)],
        np.where(present.sum(axis=1) == 1, first, None),
    )
    postal = chunk[POSTAL]
    domestic = chunk[COUNTRY].fillna("US") == "US"
    usable = domestic & postal.str.match(r"^[0-9]{5}").fillna(False).astype(bool)
    zip5 = postal.str.slice(0, 5).where(usable)
    digits = np.stack(
        [chunk[NPI].str.slice(k, k + 1).astype(int).to_numpy() for k in range(10)]
    )
    doubled = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9])
    total = 24 + doubled[digits[0:9:2]].sum(axis=0) + digits[1:10:2].sum(axis=0)
    dates = pd.to_datetime(chunk[DEACTIVATED], format="%m/%d/%Y", errors="coerce")
    return pd.DataFrame(
        {
            "npi": chunk[NPI],
            "entity_type": chunk[ENTITY],
            "primary_taxonomy": pd.Series(primary, index=chunk.index, dtype=object),
            "taxonomies": pd.Series(taxonomies, index=chunk.index, dtype=object),
            "practice_state": chunk[STATE],
            "practice_zip5": zip5,
            "deactivation_date": dates.dt.date,
            "npi_valid": total % 10 == 0,
        }
    )


def run_pandas(path: Path, scratch: Path) -> Result:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    def work() -> Result:
        totals = dict.fromkeys(
            ("rows", "invalid_npis", "with_primary", "taxonomies", "with_zip5"), 0
        )
        totals["deactivated"] = 0
        writer = None
        chunks = pd.read_csv(
            path, usecols=list(COLUMNS), dtype=str, chunksize=CHUNK_ROWS
        )
        for chunk in chunks:
            table = pandas_chunk(chunk)
            arrow = pa.Table.from_pandas(table, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(scratch / "pandas.parquet", arrow.schema)
            writer.write_table(arrow)
            totals["rows"] += len(table)
            totals["invalid_npis"] += int((~table["npi_valid"]).sum())
            totals["with_primary"] += int(table["primary_taxonomy"].notna().sum())
            totals["taxonomies"] += int(table["taxonomies"].map(len).sum())
            totals["with_zip5"] += int(table["practice_zip5"].notna().sum())
            totals["deactivated"] += int(table["deactivation_date"].notna().sum())
        if writer is not None:
            writer.close()
        return totals

    return timed(work)


RUNNERS: dict[str, Callable[[Path, Path], Result]] = {
    "payerbrief": run_payerbrief,
    "payerbrief-read": run_payerbrief_read,
    "duckdb": run_duckdb,
    "pandas": run_pandas,
}


def run_in_subprocess(tool: str, path: Path) -> Result:
    done = subprocess.run(
        [sys.executable, __file__, "--run", tool, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{tool} failed:\n{done.stderr}")
    result: Result = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(path: Path, results: dict[str, Result]) -> None:
    size_mb = path.stat().st_size / 1e6
    base = results.get("payerbrief")
    print(f"file: {path.name}, {size_mb:,.0f} MB")
    print(
        f"{'tool':<16}{'rows':>11}{'wall s':>9}{'MB/s':>8}{'CPU s':>8}"
        f"{'peak RSS MB':>13}{'wall vs payerbrief':>20}{'CPU vs payerbrief':>19}"
    )
    for tool, result in results.items():
        wall = result["seconds"] / base["seconds"] if base else float("nan")
        cpu = result["cpu"] / base["cpu"] if base else float("nan")
        print(
            f"{tool:<16}{result['rows']:>11,}{result['seconds']:>9.2f}"
            f"{size_mb / result['seconds']:>8.0f}{result['cpu']:>8.2f}"
            f"{result['rss_mb']:>13.0f}{wall:>19.2f}x{cpu:>18.2f}x"
        )
    keys = ("invalid_npis", "with_primary", "taxonomies", "with_zip5", "deactivated")
    print("agreement (derived counts):")
    for tool, result in results.items():
        print(f"  {tool:<16}" + "  ".join(f"{k}={result.get(k, '-')}" for k in keys))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per tool; the fastest is kept"
    )
    parser.add_argument("--run", choices=TOOLS, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.run:
        with tempfile.TemporaryDirectory() as scratch:
            result = RUNNERS[args.run](args.file, Path(scratch))
        print(json.dumps(result, default=str))
        return

    results: dict[str, Result] = {}
    load_before = os.getloadavg()[0]
    for tool in args.tools.split(","):
        runs = [run_in_subprocess(tool, args.file) for _ in range(args.repeat)]
        results[tool] = min(runs, key=lambda result: result["seconds"])
    report(args.file, results)
    # Other work on the machine stretches wall times; CPU seconds less so.
    print(
        f"load average (1 min) at start {load_before:.2f}, at end "
        f"{os.getloadavg()[0]:.2f}, on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
