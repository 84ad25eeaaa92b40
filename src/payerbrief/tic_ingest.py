"""`payerbrief ingest tic`: payer files from paths or URLs, tables of contents included.

Each input is a local path or an http(s) URL (downloaded first, resuming by
byte range). What the file is comes from its top-level keys, not its name: an
in-network rates file, an allowed-amounts file, or a table of contents, whose
listed in-network files (for the plans asked for, up to a limit) are then
downloaded and loaded in turn. A file cut short keeps every valid item it had;
the error is reported after the other files are loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from payerbrief.errors import PayerbriefError
from payerbrief.facts.summaries import ensure_summaries
from payerbrief.sources.base import require_file
from payerbrief.sources.tic.allowed import AllowedAmountsReader
from payerbrief.sources.tic.fetch import FetchPolicy, fetch_cached, remote_resolver
from payerbrief.sources.tic.innetwork import TicInNetworkReader
from payerbrief.sources.tic.innetwork.stream import json_chunks
from payerbrief.sources.tic.toc import TocReader, toc_files
from payerbrief.sources.tic.validate import detect_kind, validate_file
from payerbrief.store.warehouse import LoadResult, Warehouse

log = logging.getLogger(__name__)

WHAT = "a Transparency in Coverage file (JSON, gzip or ZIP) or its http(s) URL"


class NotConformingError(PayerbriefError):
    def __init__(self, path: Path, schema: str, violations: int) -> None:
        self.path = path
        self.hint = "run `payerbrief validate` to list them, or ingest without --strict"
        super().__init__(
            f"{path} breaks the CMS schema {schema} in {violations} places; "
            "--strict refuses it"
        )


@dataclass(frozen=True)
class TicOptions:
    plan: str | None = None
    limit: int | None = None
    fetch_remote: bool = False
    allow_private_network: bool = False
    strict: bool = False


# Called with (what, bytes done, bytes in all or None) as a file is read.
Progress = Callable[[str, int, int | None], None]


@dataclass
class TicIngest:
    """The loads of one `ingest tic` run, and the files that failed."""

    loads: list[LoadResult] = field(default_factory=list)
    failures: list[PayerbriefError] = field(default_factory=list)


def ingest_tic(
    warehouse: Warehouse,
    inputs: Sequence[str],
    options: TicOptions = TicOptions(),
    progress: Progress | None = None,
) -> TicIngest:
    run = TicIngest()
    policy = FetchPolicy(allow_private_network=options.allow_private_network)
    for text in inputs:
        try:
            path = _local(warehouse, text, policy, progress)
            _load_any(warehouse, path, text, options, policy, progress, run)
        except PayerbriefError as error:
            log.info("%s", error)
            run.failures.append(error)
    if any(r.entry.kind == "tic-in-network" and not r.skipped for r in run.loads):
        # Per-file rate summaries, so briefs merge them instead of rereading.
        ensure_summaries(warehouse)
    return run


def _local(
    warehouse: Warehouse, text: str, policy: FetchPolicy, progress: Progress | None
) -> Path:
    if not text.lower().startswith(("http://", "https://")):
        return require_file(Path(text), WHAT)
    report = None
    if progress is not None:
        name = text.split("?")[0].rsplit("/", 1)[-1]

        def report(done: int, total: int | None) -> None:
            progress(f"download {name}", done, total)

    return fetch_cached(
        text, warehouse.home / "downloads", policy=policy, progress=report
    )


def _load_any(
    warehouse: Warehouse,
    path: Path,
    source: str,
    options: TicOptions,
    policy: FetchPolicy,
    progress: Progress | None,
    run: TicIngest,
) -> None:
    kind = _sniff_kind(path)
    if options.strict:
        report = validate_file(path)
        if not report.valid:
            raise NotConformingError(
                path, report.schema_version, report.violation_count
            )
    if kind == "table-of-contents":
        run.loads.append(warehouse.load(TocReader(path)))
        listed = toc_files(path, plan=options.plan, limit=options.limit)
        log.info("%s lists %d in-network files for the plan asked", path, len(listed))
        for listed_file in listed:
            try:
                local = _local(warehouse, listed_file.url, policy, progress)
                _load_any(
                    warehouse, local, listed_file.url, options, policy, progress, run
                )
            except PayerbriefError as error:
                log.info("%s", error)
                run.failures.append(error)
        return
    if kind == "allowed-amounts":
        run.loads.append(warehouse.load(AllowedAmountsReader(path)))
        return
    if kind != "in-network-rates":
        raise PayerbriefError(
            f"{path} is a {kind} file; load the in-network files that point to it"
        )
    reader = _in_network(warehouse, path, source, options, policy, progress)
    try:
        run.loads.append(warehouse.load(reader))
    except PayerbriefError:
        # A file cut short is loaded as far as it goes: report that load too.
        entry = warehouse.entry(f"{reader.kind}-{reader.sha256()[:16]}")
        if entry is not None:
            rejects = [(r.line, r.reason) for r in reader.stats.rejects]
            run.loads.append(LoadResult(entry, skipped=False, rejects=rejects))
        raise


# The top-level array that names each kind of payer file (CMS schemas 1.x, 2.x).
_ARRAYS = {
    b'"in_network"': "in-network-rates",
    b'"provider_references"': "in-network-rates",
    b'"reporting_structure"': "table-of-contents",
    b'"out_of_network"': "allowed-amounts",
}


def _sniff_kind(path: Path) -> str:
    """The file's kind from the first of its big arrays in the first 4 MB.

    Reading no further keeps a file cut short loadable: its kind shows early.
    Files whose big array starts later fall back to the full top-level scan.
    """
    chunk = next(json_chunks(path), b"")
    found = [(chunk.find(key), kind) for key, kind in _ARRAYS.items()]
    found = [(at, kind) for at, kind in found if at >= 0]
    if found:
        return min(found)[1]
    kind, _ = detect_kind(path)
    return kind


def _in_network(
    warehouse: Warehouse,
    path: Path,
    source: str,
    options: TicOptions,
    policy: FetchPolicy,
    progress: Progress | None,
) -> TicInNetworkReader:
    resolver = None
    if options.fetch_remote:
        resolver = remote_resolver(
            warehouse.home / "cache" / "provider-references", policy
        )
    total = path.stat().st_size
    done = 0
    on_read = None
    if progress is not None:

        def on_read(count: int) -> None:
            nonlocal done
            done += count
            progress(f"ingest {path.name}", done, total)

    name = source.split("?")[0].rsplit("/", 1)[-1] or path.name
    return TicInNetworkReader(
        path, resolve_remote=resolver, file_name=name, on_read=on_read
    )
