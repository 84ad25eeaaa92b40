"""Parquet files plus a DuckDB catalog, with a manifest of every loaded file.

Each load writes its rows to `lake/<table>/<load_id>.parquet` (through a
temporary name, so a killed load leaves no half file under the real name) and
then records itself in the manifest. Views over the Parquet files show only
rows whose load is in the manifest, so a load interrupted between the two steps
is invisible and a rerun overwrites it: loads are idempotent and resumable.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import platformdirs
import pyarrow as pa
import pyarrow.parquet as pq

from payerbrief.errors import PayerbriefError, ReleaseNotFoundError, WarehouseError
from payerbrief.sources.base import MultiTableReader, Provenance, SourceReader

log = logging.getLogger(__name__)

_MANIFEST_DDL = """
CREATE TABLE IF NOT EXISTS manifest (
    load_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    publisher VARCHAR NOT NULL,
    release VARCHAR NOT NULL,
    as_of DATE,
    notice VARCHAR NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    reject_reasons VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    complete BOOLEAN NOT NULL DEFAULT TRUE,
    problem VARCHAR NOT NULL DEFAULT ''
)
"""

# Columns added after the first release of the manifest, for older catalogs.
_MANIFEST_UPGRADES = (
    "ALTER TABLE manifest ADD COLUMN IF NOT EXISTS complete BOOLEAN DEFAULT TRUE",
    "ALTER TABLE manifest ADD COLUMN IF NOT EXISTS problem VARCHAR DEFAULT ''",
)

_REJECT_SCHEMA = pa.schema(
    [
        ("load_id", pa.string()),
        ("line", pa.int64()),
        ("reason", pa.string()),
        ("raw", pa.string()),
    ]
)


def default_home() -> Path:
    """`PAYERBRIEF_HOME`, or the per-user data directory."""
    configured = os.environ.get("PAYERBRIEF_HOME")
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir("payerbrief", appauthor=False))


@dataclass(frozen=True)
class ManifestEntry:
    load_id: str
    kind: str
    table_name: str
    file_name: str
    path: str
    sha256: str
    publisher: str
    release: str
    as_of: date | None
    notice: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    reject_reasons: dict[str, int]
    loaded_at: datetime
    complete: bool = True
    problem: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "load_id": self.load_id,
            "kind": self.kind,
            "file_name": self.file_name,
            "sha256": self.sha256,
            "publisher": self.publisher,
            "release": self.release,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "reject_reasons": self.reject_reasons,
            "loaded_at": self.loaded_at.isoformat(timespec="seconds"),
            "complete": self.complete,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class LoadResult:
    entry: ManifestEntry
    skipped: bool
    rejects: list[tuple[int, str]]


def _load_id(provenance: Provenance) -> str:
    return f"{provenance.kind}-{provenance.sha256[:16]}"


class Warehouse:
    """One home directory: `catalog.duckdb` and the Parquet lake beside it."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = (home or default_home()).resolve()
        self.lake = self.home / "lake"
        try:
            self.lake.mkdir(parents=True, exist_ok=True)
            self.db = duckdb.connect(str(self.home / "catalog.duckdb"))
        except (OSError, duckdb.Error) as exc:
            raise WarehouseError(
                f"cannot open the warehouse in {self.home}: {exc}"
            ) from exc
        self.db.execute(_MANIFEST_DDL)
        for upgrade in _MANIFEST_UPGRADES:
            self.db.execute(upgrade)
        self._refresh_views()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # Loading

    def load(
        self,
        reader: SourceReader | MultiTableReader,
        *,
        on_batch: Callable[[int], None] | None = None,
    ) -> LoadResult:
        """Load one file through `reader`, unless the same bytes are already loaded.

        A reader that can name its file's checksum alone (`sha256()`) is asked
        for its provenance only after the pass, so a payer file whose header
        comes after its rates is not read twice. A reader that raises an error
        marked `partial` (a payer file cut short) keeps what it yielded: the
        load is recorded as incomplete, with the problem, and the error goes on.
        """
        checksum = getattr(reader, "sha256", None)
        if callable(checksum):
            load_id = f"{reader.kind}-{checksum()[:16]}"
        else:
            load_id = _load_id(reader.provenance())
        existing = self.entry(load_id)
        if existing is not None:
            log.info("%s already loaded as %s", existing.file_name, load_id)
            return LoadResult(existing, skipped=True, rejects=[])

        if isinstance(reader, MultiTableReader):
            schemas = dict(reader.tables)
            batches = reader.table_batches()
        else:
            schemas = {reader.table: reader.schema}
            batches = ((reader.table, b) for b in reader.batches())
        # Rows of the first table count as loaded (a payer file's rates, not
        # its plans), unless the reader says every table holds rows it read.
        counted = (
            set(schemas)
            if getattr(reader, "count_all_tables", False)
            else {next(iter(schemas))}
        )
        broken: PayerbriefError | None = None
        try:
            rows_loaded = self._write_tables(
                schemas, batches, load_id, counted, on_batch
            )
        except PartialLoad as stop:
            rows_loaded, broken = stop.rows, stop.error
        self._write_rejects(reader, load_id)
        entry = self._entry_for(reader, load_id, schemas, rows_loaded, broken)
        self._record(entry)
        if broken is not None:
            raise broken
        rejects = [(r.line, r.reason) for r in reader.stats.rejects]
        return LoadResult(entry, skipped=False, rejects=rejects)

    def _entry_for(
        self,
        reader: SourceReader | MultiTableReader,
        load_id: str,
        schemas: dict[str, pa.Schema],
        rows_loaded: int,
        broken: PayerbriefError | None,
    ) -> ManifestEntry:
        provenance = reader.provenance()
        reasons = Counter(_reason_kind(r.reason) for r in reader.stats.rejects)
        return ManifestEntry(
            load_id=load_id,
            kind=provenance.kind,
            table_name=",".join(schemas),
            file_name=provenance.file_name,
            path=str(reader.path),
            sha256=provenance.sha256,
            publisher=provenance.publisher,
            release=provenance.release,
            as_of=provenance.as_of,
            notice=provenance.notice,
            rows_read=reader.stats.rows_read,
            rows_loaded=rows_loaded,
            rows_rejected=len(reader.stats.rejects),
            reject_reasons=dict(reasons),
            loaded_at=datetime.now().replace(microsecond=0),
            complete=broken is None,
            problem=str(broken).splitlines()[0] if broken is not None else "",
        )

    def _write_tables(
        self,
        schemas: dict[str, pa.Schema],
        batches: Iterator[tuple[str, pa.RecordBatch]],
        load_id: str,
        counted: set[str],
        on_batch: Callable[[int], None] | None,
    ) -> int:
        """Stream batches into one Parquet file per table, renamed when complete.

        Returns the rows written to the `counted` tables.
        """
        writers: dict[str, pq.ParquetWriter] = {}
        partials: dict[str, Path] = {}
        rows = 0
        broken: PayerbriefError | None = None
        try:
            for table, batch in _until_broken(batches):
                if table not in writers:
                    folder = self.lake / table
                    folder.mkdir(parents=True, exist_ok=True)
                    partials[table] = folder / f"{load_id}.parquet.partial"
                    schema = schemas[table].append(pa.field("load_id", pa.string()))
                    writers[table] = pq.ParquetWriter(partials[table], schema)
                writer = writers[table]
                ids = pa.array([load_id] * batch.num_rows, pa.string())
                columns = [*batch.columns, ids]
                writer.write_batch(
                    pa.RecordBatch.from_arrays(columns, schema=writer.schema)
                )
                if table in counted:
                    rows += batch.num_rows
                    if on_batch is not None:
                        on_batch(batch.num_rows)
        except _Broken as stop:
            broken = stop.error
        finally:
            for writer in writers.values():
                writer.close()
        for table, schema in schemas.items():
            if table not in writers:
                # An empty table still gets its file, so its view exists.
                folder = self.lake / table
                folder.mkdir(parents=True, exist_ok=True)
                partials[table] = folder / f"{load_id}.parquet.partial"
                empty = schema.append(pa.field("load_id", pa.string()))
                pq.write_table(empty.empty_table(), partials[table])
        for partial in partials.values():
            partial.replace(partial.with_suffix(""))
        if broken is not None:
            raise PartialLoad(rows, broken)
        return rows

    def _write_rejects(
        self, reader: SourceReader | MultiTableReader, load_id: str
    ) -> None:
        folder = self.lake / "rejects"
        folder.mkdir(parents=True, exist_ok=True)
        rejects = reader.stats.rejects
        table = pa.Table.from_pydict(
            {
                "load_id": [load_id] * len(rejects),
                "line": [r.line for r in rejects],
                "reason": [r.reason for r in rejects],
                "raw": [r.raw for r in rejects],
            },
            schema=_REJECT_SCHEMA,
        )
        pq.write_table(table, folder / f"{load_id}.parquet")

    def _record(self, entry: ManifestEntry) -> None:
        self.db.execute(
            "INSERT INTO manifest VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                entry.load_id,
                entry.kind,
                entry.table_name,
                entry.file_name,
                entry.path,
                entry.sha256,
                entry.publisher,
                entry.release,
                entry.as_of,
                entry.notice,
                entry.rows_read,
                entry.rows_loaded,
                entry.rows_rejected,
                json.dumps(entry.reject_reasons),
                entry.loaded_at,
                entry.complete,
                entry.problem,
            ],
        )
        self._refresh_views()

    def _refresh_views(self) -> None:
        """(Re)create one view per lake table, over loads in the manifest only."""
        for folder in sorted(p for p in self.lake.iterdir() if p.is_dir()):
            if not any(folder.glob("*.parquet")):
                continue
            pattern = str(folder / "*.parquet").replace("'", "''")
            self.db.execute(
                f'CREATE OR REPLACE VIEW "{folder.name}" AS '
                f"SELECT * FROM read_parquet('{pattern}', union_by_name = true) "
                "WHERE load_id IN (SELECT load_id FROM manifest)"
            )

    # Reading

    def entries(self, kind: str | None = None) -> list[ManifestEntry]:
        """Manifest entries, newest release first within each kind."""
        sql = "SELECT * FROM manifest"
        params: list[object] = []
        if kind is not None:
            sql += " WHERE kind = ?"
            params.append(kind)
        sql += " ORDER BY kind, as_of DESC NULLS LAST, loaded_at DESC"
        return [_entry(row) for row in self.db.execute(sql, params).fetchall()]

    def entry(self, load_id: str) -> ManifestEntry | None:
        rows = self.db.execute(
            "SELECT * FROM manifest WHERE load_id = ?", [load_id]
        ).fetchall()
        return _entry(rows[0]) if rows else None

    def current(self, kind: str, release: str | None = None) -> ManifestEntry | None:
        """The load of `kind` that briefs use: the newest, or the named release."""
        entries = self.entries(kind)
        if release is None:
            return entries[0] if entries else None
        for entry in entries:
            if entry.release == release:
                return entry
        raise ReleaseNotFoundError(kind, release, [e.release for e in entries])

    def current_set(self, kind: str, release: str | None = None) -> list[ManifestEntry]:
        """Every load of the release briefs use, for kinds published in parts.

        One NCCI quarter is several files (parts and settings), one MUE quarter
        three; they share a release, and all of them apply together.
        """
        chosen = self.current(kind, release)
        if chosen is None:
            return []
        return [e for e in self.entries(kind) if e.release == chosen.release]

    def has_table(self, table: str) -> bool:
        rows = self.db.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
            [table],
        ).fetchall()
        return bool(rows[0][0])

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        """Run a parameterised query and return rows as dicts."""
        cursor = self.db.execute(sql, list(params))
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class _Broken(Exception):
    def __init__(self, error: PayerbriefError) -> None:
        self.error = error


class PartialLoad(Exception):
    """A reader stopped on a broken file after yielding `rows` good rows."""

    def __init__(self, rows: int, error: PayerbriefError) -> None:
        super().__init__(str(error))
        self.rows = rows
        self.error = error


def _until_broken(
    batches: Iterator[tuple[str, pa.RecordBatch]],
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Pass batches on; turn a reader's partial-file error into `_Broken`."""
    try:
        yield from batches
    except PayerbriefError as error:
        if not getattr(error, "partial", False):
            raise
        raise _Broken(error) from error


def _reason_kind(reason: str) -> str:
    """Group reject reasons by their wording, before any quoted value and with
    numbers and dates folded, so "line 12 ..." and "line 40 ..." count together."""
    # A reader of several members may prefix the member and line: drop it.
    reason = re.sub(r"^[\w.-]+:\d+: ", "", reason)
    words = reason.split("'")[0].split(":")[0].strip()
    return re.sub(r"\d[\d.,-]*", "N", words)


def _entry(row: tuple[Any, ...]) -> ManifestEntry:
    values = list(row)
    values[13] = json.loads(values[13])
    return ManifestEntry(*values)
