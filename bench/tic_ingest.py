"""Benchmark the TiC in-network ingest against zcat, ijson and cms-mrf-extractor.

Every contender runs in its own process on the same file in one run, and is
measured with GNU time: wall time, CPU time (user + system) and peak RSS of
that process alone. Throughput is decompressed JSON megabytes (10^6 bytes)
per second of wall time and per second of CPU time; "per core" figures use
CPU time, which stays fair when the machine is shared or a tool uses threads.

    python bench/tic_ingest.py bench/data/tic-1000mb.json.gz \\
        --int-copy bench/data/tic-1000mb-int.json.gz

`cms-mrf-extractor` runs on the integer-id copy (it crashes on decimal ids);
payerbrief runs on both. Make the files with `bench/make_tic.py`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

PYTHON = sys.executable
HERE = Path(__file__).resolve()
TIME = "/usr/bin/time"  # GNU time (Debian package `time`)


@dataclass
class Run:
    name: str
    wall: float
    cpu: float
    rss_mb: float
    json_mb: float

    @property
    def mb_per_s(self) -> float:
        return self.json_mb / self.wall

    @property
    def mb_per_cpu_s(self) -> float:
        return self.json_mb / self.cpu


def json_megabytes(path: Path) -> float:
    """The decompressed size of a gzip file, in MB."""
    inflater = zlib.decompressobj(31)
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            while block:
                size += len(inflater.decompress(block, 64 << 20))
                block = inflater.unconsumed_tail
    return size / 1e6


def measure(name: str, command: list[str], json_mb: float, **popen: object) -> Run:
    """Run one command to its end and read its own time and peak memory.

    GNU time reports them for the command alone; `os.wait4` would count the
    memory of this process too, which a child inherits until it execs.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as record:
        timed = [TIME, "-f", "%e %U %S %M", "-o", record.name, *command]
        status = subprocess.run(timed, check=False, **popen).returncode  # type: ignore[call-overload]
        if status != 0:
            raise SystemExit(f"{name} failed with status {status}: {command}")
        wall, user, system, rss_kb = record.read().split()[-4:]
    return Run(
        name, float(wall), float(user) + float(system), int(rss_kb) / 1024, json_mb
    )


def parallel(command: list[list[str]], json_mb: float) -> tuple[float, float]:
    """Run commands at once; their wall time and summed CPU time."""
    start = time.perf_counter()
    processes = [subprocess.Popen(c) for c in command]
    cpu = 0.0
    for process in processes:
        _, status, usage = os.wait4(process.pid, 0)
        if status != 0:
            raise SystemExit(f"a parallel run failed with status {status}")
        cpu += usage.ru_utime + usage.ru_stime
    return time.perf_counter() - start, cpu


# What each child process runs


def run_ijson(path: Path) -> None:
    import gzip

    import ijson  # type: ignore[import-not-found,import-untyped,unused-ignore]

    count = 0
    with gzip.open(path, "rb") as handle:
        for _ in ijson.items(handle, "in_network.item"):
            count += 1
    print(f"ijson: {count} items", file=sys.stderr)


def run_payerbrief(path: Path, home: Path) -> None:
    from payerbrief.sources.tic.innetwork import TicInNetworkReader
    from payerbrief.store.warehouse import Warehouse

    with Warehouse(home) as warehouse:
        result = warehouse.load(TicInNetworkReader(path))
    entry = result.entry
    print(
        f"payerbrief: {entry.rows_loaded} rates, {entry.rows_rejected} rejected",
        file=sys.stderr,
    )


# The benchmark


def contenders(
    path: Path, int_copy: Path | None, work: Path
) -> list[tuple[str, Path, list[str]]]:
    me = [PYTHON, str(HERE), "--child"]
    runs = [
        ("zcat", path, ["zcat", str(path)]),
        ("ijson (yajl2_c)", path, [*me, "ijson", str(path)]),
        ("payerbrief", path, [*me, "payerbrief", str(path), str(work / "home-a")]),
    ]
    if int_copy is not None:
        source = work / "cms-in"
        source.mkdir()
        (source / int_copy.name).symlink_to(int_copy.resolve())
        extract = str(Path(PYTHON).with_name("mrf-extract"))
        for workers in (1, 8):
            out = work / f"cms-out-{workers}"
            runs.append(
                (
                    f"cms-mrf-extractor ({workers} blob worker{'s' if workers > 1 else ''}, int ids)",
                    int_copy,
                    [
                        extract,
                        str(source),
                        "-o",
                        str(out),
                        "-q",
                        "--workers",
                        "1",
                        "--blob-workers",
                        str(workers),
                    ],
                )
            )
        runs.append(
            (
                "payerbrief (int ids)",
                int_copy,
                [*me, "payerbrief", str(int_copy), str(work / "home-b")],
            )
        )
    return runs


def report(runs: list[Run]) -> None:
    print(
        "| run | JSON MB | wall s | CPU s | MB/s wall | MB/s per CPU s | peak RSS MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        print(
            f"| {r.name} | {r.json_mb:,.0f} | {r.wall:.2f} | {r.cpu:.2f} | "
            f"{r.mb_per_s:,.0f} | {r.mb_per_cpu_s:,.0f} | {r.rss_mb:,.0f} |"
        )
    ours = next(r for r in runs if r.name == "payerbrief")
    ours_int = next((r for r in runs if r.name == "payerbrief (int ids)"), ours)
    print()
    print("| payerbrief against | wall ratio | per-CPU ratio |")
    print("|---|---:|---:|")
    for r in runs:
        if r.name.startswith("payerbrief"):
            continue
        mine = ours_int if "int ids" in r.name else ours
        print(
            f"| {r.name} | {mine.mb_per_s / r.mb_per_s:.2f}x | "
            f"{mine.mb_per_cpu_s / r.mb_per_cpu_s:.2f}x |"
        )


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--child":
        what, path = args[1], Path(args[2])
        if what == "ijson":
            run_ijson(path)
        else:
            run_payerbrief(path, Path(args[3]))
        return

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="a gzip'd in-network file")
    parser.add_argument("--int-copy", type=Path, help="the integer-id copy")
    parser.add_argument(
        "--skip", action="append", default=[], help="skip runs whose name starts so"
    )
    options = parser.parse_args(args)

    sizes = {options.file: json_megabytes(options.file)}
    if options.int_copy is not None:
        sizes[options.int_copy] = json_megabytes(options.int_copy)
    work = Path(tempfile.mkdtemp(prefix="tic-bench-"))
    try:
        runs = []
        for name, path, command in contenders(options.file, options.int_copy, work):
            if any(name.startswith(s) for s in options.skip):
                continue
            print(f"running {name} ...", file=sys.stderr)
            runs.append(measure(name, command, sizes[path], stdout=subprocess.DEVNULL))
        report(runs)

        if options.int_copy is not None:
            me = [PYTHON, str(HERE), "--child", "payerbrief"]
            pair = [
                [*me, str(options.file), str(work / "home-p1")],
                [*me, str(options.int_copy), str(work / "home-p2")],
            ]
            total = sum(sizes.values())
            wall, cpu = parallel(pair, total)
            single = next(r for r in runs if r.name == "payerbrief")
            print()
            print(
                "| payerbrief, 2 files | wall s | CPU s | MB/s wall | scaling vs 1 process |"
            )
            print("|---|---:|---:|---:|---:|")
            print(
                f"| one process, one file | {single.wall:.2f} | {single.cpu:.2f} | {single.mb_per_s:,.0f} | 1.00x |"
            )
            print(
                f"| two processes, one file each | {wall:.2f} | {cpu:.2f} | "
                f"{total / wall:,.0f} | {total / wall / single.mb_per_s:.2f}x |"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
