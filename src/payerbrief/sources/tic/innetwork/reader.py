"""The reader of TiC in-network rates files: rates, provider groups and the file's facts.

One streaming pass fills `tic_rate`, `tic_provider_group` and `tic_file` (see
`schema.py`). The file may be plain JSON, gzip or a ZIP, of schema 1.x or
2.x, with `provider_references` before or after `in_network`. Bad parts are
quarantined in `stats` with their JSON path and byte offset; a file whose
structure breaks (truncated, damaged) yields everything valid before the break
and then raises `TicFileBrokenError`.

Row accounting: `stats.rows_read` = rate rows loaded + rejects, where a reject
is the smallest part that failed: a negotiated price, a negotiated rate, an
in_network item or a provider reference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from payerbrief.errors import SourceFileError
from payerbrief.sources.base import BATCH_ROWS, Provenance, ReadStats, require_file
from payerbrief.sources.tic.innetwork.errors import TicFileBrokenError
from payerbrief.sources.tic.innetwork.header import Header
from payerbrief.sources.tic.innetwork.providers import (
    ProviderGroupTable,
    ResolveRemote,
)
from payerbrief.sources.tic.innetwork.rates import RateTable
from payerbrief.sources.tic.innetwork.scan import (
    ARRAY_CLOSE,
    ARRAY_OPEN,
    ITEM,
    KEY,
    REFERENCE,
    VALUE,
)
from payerbrief.sources.tic.innetwork.schema import FILE, TABLES
from payerbrief.sources.tic.innetwork.stream import Inflate, OnRead
from payerbrief.sources.tic.innetwork.walk import Engine, Walk

KIND = "tic-in-network"
WHAT = "a TiC in-network rates file (.json, .json.gz or .zip)"


class NotInNetworkFileError(SourceFileError):
    """A JSON file with no `in_network` array: some other kind of payer file."""


class TicInNetworkReader:
    """Read one in-network rates file; see the module docstring for the tables.

    `resolve_remote(url)` may fetch a 1.x remote provider reference and return
    its bytes (or None when it cannot); without it remote references stay
    unresolved. `engine` "python" turns the C extensions off (for tests and
    for machines without a compiler, where "auto" falls back by itself).
    `file_name` names the source in provenance when `path` is a temporary
    download. `on_read(n)` hears of every `n` bytes read from the file as
    stored, for a progress bar.
    """

    kind: ClassVar[str] = KIND
    tables: ClassVar[dict[str, pa.Schema]] = TABLES

    def __init__(
        self,
        path: Path,
        *,
        resolve_remote: ResolveRemote | None = None,
        engine: Engine = "auto",
        inflate: Inflate = "auto",
        batch_rows: int = 8 * BATCH_ROWS,
        file_name: str | None = None,
        on_read: OnRead | None = None,
    ) -> None:
        self.path = require_file(Path(path), WHAT)
        self.on_read = on_read
        self.stats = ReadStats()
        self.resolve_remote = resolve_remote
        self.engine: Engine = engine
        self.inflate: Inflate = inflate
        self.batch_rows = batch_rows
        self.file_name = file_name or self.path.name
        self._sha256: str | None = None
        self._header: Header | None = None

    def provenance(self) -> Provenance:
        """Publisher and date from the top-level fields; after a pass, free.

        Before a pass it skims the file for them, stopping as soon as it has
        them, which is at once when they come first (as they usually do).
        """
        header = self._header if self._header is not None else self._skim()
        return Provenance(
            kind=KIND,
            file_name=self.file_name,
            sha256=self.sha256(),
            publisher=header.get("reporting_entity_name") or "",
            release=header.get("last_updated_on") or "",
            as_of=header.last_updated,
        )

    def sha256(self) -> str:
        if self._sha256 is None:
            digest = hashlib.sha256()
            with self.path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 22), b""):
                    digest.update(block)
            self._sha256 = digest.hexdigest()
        return self._sha256

    def _skim(self) -> Header:
        header = Header()
        walk = Walk(self.path, self.engine, self.inflate)
        spans = walk.spans()
        for kind, _, text in spans:
            if kind == KEY:
                header.on_key(text)
            elif kind == VALUE:
                header.on_value(text)
                if header.has_provenance:
                    break
        spans.close()
        return header

    def table_batches(self) -> Iterator[tuple[str, pa.RecordBatch]]:
        """Stream the three tables; raise `TicFileBrokenError` last if the file broke."""
        self.stats = ReadStats()
        header = Header()
        providers = ProviderGroupTable(self.stats, self.resolve_remote)
        rates = RateTable(
            self.stats, providers, self.batch_rows, use_c=self.engine != "python"
        )
        walk = Walk(self.path, self.engine, self.inflate, self.on_read)
        items = references = 0
        arrays: set[str] = set()
        in_array = ""
        for kind, start, text in walk.spans():
            if kind == ITEM:
                rates.add_item(items, start, text)
                items += 1
                if rates.full:
                    for batch in rates.take_batches():
                        yield "tic_rate", batch
                    yield from _batch("tic_item_code", rates.take_item_codes())
            elif kind == REFERENCE:
                providers.add_reference(references, start, text)
                references += 1
            elif kind == KEY:
                header.on_key(text)
            elif kind == VALUE:
                header.on_value(text)
                if header.key in ("in_network", "provider_references"):
                    arrays.add(header.key + " (not an array)")
            elif kind == ARRAY_OPEN:
                in_array = header.key
                arrays.add(in_array)
            elif kind == ARRAY_CLOSE:
                in_array = ""
        for batch in rates.take_batches():
            yield "tic_rate", batch

        yield from _batch("tic_item_code", rates.take_item_codes())
        problem = self._problem(walk, arrays, in_array, items, references, rates)
        providers.add_missing(rates.referenced)
        yield from _batch("tic_provider_group", providers.take_batch())
        self._header = header
        yield "tic_file", _file_row(header, walk, rates, providers, problem)
        if problem is not None:
            raise problem

    def _problem(
        self,
        walk: Walk,
        arrays: set[str],
        in_array: str,
        items: int,
        references: int,
        rates: RateTable,
    ) -> SourceFileError | None:
        """The error that ends the pass, after rejecting the part it cut off."""
        error = walk.error
        if error is not None:
            where = ""
            if in_array == "in_network":
                where = f"in_network[{items}]"
            elif in_array == "provider_references":
                where = f"provider_references[{references}]"
            problem = error.problem
            if problem == "the JSON text ends early":
                problem = f"{problem} at byte {error.offset}"
            if where:
                problem += f", inside {where}"
                if walk.pending_start >= 0:
                    self._reject_cut(where, items, walk, problem)
                    if in_array == "in_network":
                        rates.items_read += 1
                        rates.items_cut += 1
            return TicFileBrokenError(
                self.path, problem, offset=error.offset, hint=error.hint
            )
        if "in_network" not in arrays:
            found = "not an array" if "in_network (not an array)" in arrays else "none"
            return NotInNetworkFileError(
                self.path,
                f"the file has no in_network array ({found})",
                hint="pass an in-network rates file; a table of contents or an "
                "allowed-amounts file has its own reader",
            )
        return None

    def _reject_cut(self, where: str, items: int, walk: Walk, problem: str) -> None:
        self.stats.rows_read += 1
        self.stats.reject(
            items if where.startswith("in_network") else -1,
            f"truncated: {where} at byte {walk.pending_start}: {problem}",
            walk.pending.decode("utf-8", "replace"),
        )


def _batch(
    table: str, batch: pa.RecordBatch | None
) -> Iterator[tuple[str, pa.RecordBatch]]:
    if batch is not None and batch.num_rows:
        yield table, batch


def _generation(header: Header, rates: RateTable, providers: ProviderGroupTable) -> str:
    """'1.x' or '2.x' by the file's shape; `version` decides only when shape cannot.

    1.x-only shapes: inline `provider_groups` in a negotiated rate and remote
    `location` references (both removed in 2.0). 2.x-only shapes: `setting`,
    `severity_of_illness`, `network_name`, `tin.business_name`, `issuer_name`,
    `plan_sponsor_name`.
    """
    if rates.has_inline_groups or providers.has_remote:
        return "1.x"
    if (
        rates.has_settings
        or rates.has_severity
        or providers.has_network_names
        or providers.has_business_names
        or header.get("issuer_name") is not None
        or header.get("plan_sponsor_name") is not None
    ):
        return "2.x"
    return "2.x" if (header.get("version") or "").startswith("2") else "1.x"


def _file_row(
    header: Header,
    walk: Walk,
    rates: RateTable,
    providers: ProviderGroupTable,
    problem: SourceFileError | None,
) -> pa.RecordBatch:
    row: dict[str, Any] = {
        name: header.get(name) for name in FILE.names if name in header.values
    }
    row.update(
        {
            "last_updated_date": header.last_updated,
            "schema_generation": _generation(header, rates, providers),
            "json_bytes": walk.json_bytes,
            "items_read": rates.items_read,
            "items_rejected": rates.items_rejected,
            "rates_loaded": rates.rows_loaded,
            "rows_rejected": len(rates.stats.rejects),
            "provider_references": providers.references,
            "unresolved_references": providers.unresolved,
            "complete": problem is None,
            "problem": None if problem is None else problem.problem,
        }
    )
    return pa.RecordBatch.from_pylist([row], schema=FILE)
