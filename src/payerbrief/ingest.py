"""Load source files into the warehouse: the function behind `payerbrief ingest`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from payerbrief.errors import PayerbriefError
from payerbrief.sources.registry import source_kind
from payerbrief.store.warehouse import LoadResult, Warehouse

log = logging.getLogger(__name__)


def ingest(
    warehouse: Warehouse, kind: str, paths: Sequence[Path | None]
) -> list[LoadResult]:
    """Load each path as a file of `kind`; files already loaded are skipped.

    A file that fails stops with its error; files loaded before it stay loaded.
    """
    spec = source_kind(kind)
    if not spec.readers:
        raise PayerbriefError(
            f"{kind} files are loaded by `payerbrief.tic_ingest.ingest_tic`"
        )
    if not paths:
        if not spec.path_optional:
            raise PayerbriefError(f"no file given for {kind}; pass {spec.what}")
        paths = [None]
    results = []
    for path in paths:
        for make in spec.readers:
            reader = make(path) if path is not None else make()  # type: ignore[call-arg]
            result = warehouse.load(reader)
            state = "already loaded" if result.skipped else "loaded"
            log.info("%s %s: %s", kind, result.entry.file_name, state)
            results.append(result)
    return results
