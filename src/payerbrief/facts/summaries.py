"""Per-file rate summaries: one pass over a loaded payer file, merged at brief time.

For each loaded TiC in-network file, `summarize_load` reads its `tic_rate` and
`tic_provider_group` Parquet once and writes `lake/rate_summary/<load_id>.parquet`:
one row per group of rates that share a billing code, billing class, setting,
places of service, modifiers, negotiated type and the providers' Medicare
locality. A row holds the group's rates (exact values, or a KLL sketch past
`EXACT_LIMIT`), its providers (NPIs and TINs, or HyperLogLog sketches), and the
counts of rates flagged on the way in, so that nothing is dropped unseen:

- exact duplicates (the same provider group, code, class, places, modifiers,
  type and value listed again) count once; `duplicates` has the extra copies;
- a rate with the same value for every provider group in the file (a blanket
  fee schedule, often listed for providers who never bill the code) counts
  once; `blanket_rows` has how many rows it stood for;
- $0, one-cent and sentinel values (99999, 99999.99, 999999, ...) are
  placeholders, not prices: counted in `zero`, `cent` and `sentinel`, and kept
  out of the values;
- a provider group with several prices for the same code, class, setting,
  places, modifiers and type is a conflict: `conflict_providers` and
  `conflict_rows` count them; all its prices stay in the values.

Loading one more file adds one more summary file; the others are not reread.
The summary records the NPPES and ZIP-locality loads it placed providers with
and its format version, and is recomputed when either changes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from payerbrief.facts.sketch import EXACT_LIMIT, Dist, IdSet
from payerbrief.store.warehouse import Warehouse

log = logging.getLogger(__name__)

KIND = "tic-in-network"
TABLE = "rate_summary"
VERSION = "1"

# Values payers write where they have no price (placeholders), in dollars or
# percent alike: nothing, one cent, and runs of nines.
SENTINELS = (99999.0, 99999.99, 999999.0, 999999.99, 9999999.0, 9999999.99)

GROUP = (
    "code_type",
    "code",
    "billing_class",
    "setting",
    "pos",
    "modifier",
    "negotiated_type",
)

SCHEMA = pa.schema(
    [
        *[(name, pa.string()) for name in GROUP],
        ("locality", pa.string()),
        ("rows", pa.int64()),
        ("duplicates", pa.int64()),
        ("blanket_rows", pa.int64()),
        ("conflict_providers", pa.int64()),
        ("conflict_rows", pa.int64()),
        ("zero", pa.int64()),
        ("cent", pa.int64()),
        ("sentinel", pa.int64()),
        ("n", pa.int64()),
        ("total", pa.float64()),
        ("low", pa.float64()),
        ("high", pa.float64()),
        ("vals", pa.list_(pa.float64())),
        ("sketch", pa.binary()),
        ("fingerprint", pa.string()),
        ("provider_groups", pa.int64()),
        ("unresolved_groups", pa.int64()),
        ("npis", pa.list_(pa.string())),
        ("npi_sketch", pa.binary()),
        ("tins", pa.list_(pa.string())),
        ("tin_sketch", pa.binary()),
        ("load_id", pa.string()),
    ]
)


@dataclass(frozen=True)
class Locator:
    """The NPPES and ZIP-locality Parquet files that place a provider in a locality."""

    nppes: tuple[Path, ...]
    zip_locality: Path
    load_ids: tuple[str, ...]

    @property
    def key(self) -> str:
        return ",".join(self.load_ids)


def summary_path(lake: Path, load_id: str) -> Path:
    return lake / TABLE / f"{load_id}.parquet"


def _sql_list(paths: tuple[Path, ...] | list[Path]) -> str:
    quoted = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return f"[{quoted}]"


SEP = "\x1f"


def _normalize(db: duckdb.DuckDBPyConnection, rates: Path, groups: Path) -> None:
    """Rates per group and provider key, with their prices as a list.

    The group's columns travel as one text key (joined by the unit separator),
    and every later step works on this table, one row per group and provider
    key, instead of on the rates themselves.
    """
    columns = [
        "billing_code_type::VARCHAR",
        "billing_code::VARCHAR",
        "billing_class::VARCHAR",
        "coalesce(setting::VARCHAR, '')",
        "coalesce(array_to_string(list_sort(service_code), ','), '')",
        "coalesce(array_to_string(list_sort(list_transform(billing_code_modifier, "
        "lambda m: upper(trim(m)))), ','), '')",
        "negotiated_type::VARCHAR",
    ]
    db.execute(
        f"""
        CREATE TABLE kp AS
        SELECT concat_ws(chr(31), {", ".join(columns)}) AS gkey,
            array_to_string(list_sort(provider_refs), ' ') AS providers,
            any_value(provider_refs) AS refs,
            count(*) AS rows,
            list(negotiated_rate) AS prices
        FROM read_parquet({_sql_list([rates])})
        GROUP BY gkey, providers
        """
    )
    db.execute(
        f"CREATE TABLE pg AS SELECT provider_group_id, npi, tin_type, tin_value, "
        f"resolved FROM read_parquet({_sql_list([groups])})"
    )


def _locate(db: duckdb.DuckDBPyConnection, locator: Locator | None) -> None:
    """The Medicare locality of each provider key, where all its NPIs share one."""
    if locator is None:
        db.execute("CREATE TABLE key_locality (providers VARCHAR, locality VARCHAR)")
        return
    # A ZIP code split between localities needs its +4 digits (CMS ZIP5 file,
    # plus-four flag); such ZIP codes place no provider.
    db.execute(
        f"""
        CREATE TABLE zip_loc AS
        SELECT zip5, any_value(mac || '-' || locality_number) AS locality
        FROM read_parquet({_sql_list([locator.zip_locality])})
        GROUP BY zip5 HAVING count(DISTINCT mac || '-' || locality_number) = 1
        """
    )
    db.execute(
        f"""
        CREATE TABLE npi_loc AS
        SELECT n.npi, any_value(z.locality) AS locality
        FROM read_parquet({_sql_list(locator.nppes)}) n
        JOIN zip_loc z ON z.zip5 = n.practice_zip5
        GROUP BY n.npi
        """
    )
    db.execute(
        """
        CREATE TABLE key_locality AS
        WITH keys AS (SELECT DISTINCT providers, refs FROM kp),
        key_npi AS (
            SELECT k.providers, unnest(pg.npi)::VARCHAR AS npi
            FROM (SELECT providers, unnest(refs) AS ref FROM keys) k
            JOIN pg ON pg.provider_group_id = k.ref
        )
        SELECT providers,
            CASE WHEN count(DISTINCT l.locality) = 1
                 AND count(*) = count(l.locality)
            THEN any_value(l.locality) ELSE '' END AS locality
        FROM key_npi LEFT JOIN npi_loc l USING (npi)
        GROUP BY providers
        """
    )


def _classify(db: duckdb.DuckDBPyConnection) -> None:
    """Mark placeholders, blanket rates and conflicts on each provider key."""
    sentinels = ", ".join(str(s) for s in SENTINELS)
    placeholder = f"x = 0 OR x = 0.01 OR x IN ({sentinels})"
    db.execute(
        f"""
        CREATE TABLE c AS
        WITH keyed AS (
            SELECT kp.*, list_distinct(prices) AS distinct_prices
            FROM kp
        ),
        network AS (SELECT count(DISTINCT providers) AS n FROM kp),
        blanket AS (
            SELECT gkey FROM keyed, network
            GROUP BY gkey, network.n
            HAVING count(*) >= 3 AND count(*) = network.n
                AND max(len(distinct_prices)) = 1
                AND min(distinct_prices[1]) = max(distinct_prices[1])
        )
        SELECT keyed.gkey, keyed.providers, keyed.refs, keyed.rows,
            rows - len(distinct_prices) AS duplicates,
            len(distinct_prices) > 1 AS conflict,
            len(list_filter(prices, lambda x: x = 0)) AS zero,
            len(list_filter(prices, lambda x: x = 0.01)) AS cent,
            len(list_filter(prices, lambda x: x IN ({sentinels}))) AS sentinel,
            list_filter(distinct_prices, lambda x: NOT ({placeholder})) AS kept,
            b.gkey IS NOT NULL AS blanket,
            CASE WHEN b.gkey IS NOT NULL THEN ''
                 ELSE coalesce(kl.locality, '') END AS locality
        FROM keyed
        LEFT JOIN blanket b USING (gkey)
        LEFT JOIN key_locality kl USING (providers)
        """
    )
    # The values counted: each distinct price of a provider key once, and a
    # blanket rate once for the whole file.
    db.execute(
        """
        CREATE TABLE v AS
        SELECT gkey, locality, unnest(kept) AS value FROM c WHERE NOT blanket
        UNION ALL
        SELECT gkey, '' AS locality, any_value(kept[1]) AS value FROM c
        WHERE blanket AND len(kept) > 0 GROUP BY gkey
        """
    )


def _aggregate(db: duckdb.DuckDBPyConnection, limit: int) -> pa.Table:
    keys = "gkey, locality"
    split = ", ".join(
        f"string_split(gkey, chr(31))[{i}] AS {name}"
        for i, name in enumerate(GROUP, start=1)
    )
    return db.sql(
        f"""
        WITH flags AS (
            SELECT {keys},
                sum(rows) AS rows,
                sum(duplicates) AS duplicates,
                coalesce(sum(rows) FILTER (blanket AND len(kept) > 0), 0)
                    AS blanket_rows,
                count(*) FILTER (conflict) AS conflict_providers,
                coalesce(sum(rows) FILTER (conflict), 0) AS conflict_rows,
                sum(zero) AS zero, sum(cent) AS cent, sum(sentinel) AS sentinel
            FROM c GROUP BY {keys}
        ),
        stats AS (
            SELECT {keys}, count(*) AS n, sum(value) AS total, min(value) AS low,
                max(value) AS high,
                CASE WHEN count(*) <= {int(limit)}
                     THEN list(value ORDER BY value) END AS vals,
                md5(list(value ORDER BY value)::VARCHAR) AS fingerprint
            FROM v GROUP BY {keys}
        ),
        members AS (
            SELECT DISTINCT {keys}, unnest(refs) AS ref FROM c WHERE len(kept) > 0
        ),
        npis AS (
            SELECT m.gkey, m.locality,
                list(DISTINCT n.npi::VARCHAR) AS npis
            FROM members m
            JOIN (SELECT provider_group_id, unnest(npi) AS npi FROM pg) n
                ON n.provider_group_id = m.ref
            GROUP BY m.gkey, m.locality
        ),
        groups AS (
            SELECT m.gkey, m.locality,
                count(DISTINCT m.ref) AS provider_groups,
                count(DISTINCT m.ref) FILTER (NOT coalesce(pg.resolved, FALSE))
                    AS unresolved_groups,
                list(DISTINCT pg.tin_type || ':' || pg.tin_value)
                    FILTER (pg.tin_value IS NOT NULL) AS tins
            FROM members m LEFT JOIN pg ON pg.provider_group_id = m.ref
            GROUP BY m.gkey, m.locality
        )
        SELECT {split}, flags.locality,
            flags.* EXCLUDE (gkey, locality),
            coalesce(stats.n, 0) AS n, coalesce(stats.total, 0) AS total,
            stats.low, stats.high, stats.vals, stats.fingerprint,
            coalesce(groups.provider_groups, 0) AS provider_groups,
            coalesce(groups.unresolved_groups, 0) AS unresolved_groups,
            coalesce(npis.npis, []) AS npis, coalesce(groups.tins, []) AS tins,
            flags.gkey
        FROM flags
        LEFT JOIN stats USING ({keys})
        LEFT JOIN groups USING ({keys})
        LEFT JOIN npis USING ({keys})
        ORDER BY flags.gkey, flags.locality
        """
    ).to_arrow_table()


def _sketches(
    db: duckdb.DuckDBPyConnection, table: pa.Table, limit: int
) -> dict[tuple[str, str], bytes | None]:
    """KLL sketches of the groups with more than `limit` values."""
    big = table.filter(pc.greater(table["n"], limit)).select(["gkey", "locality"])
    if big.num_rows == 0:
        return {}
    db.register("big", big)
    values = db.sql(
        "SELECT v.gkey, v.locality, v.value, "
        "dense_rank() OVER (ORDER BY v.gkey, v.locality) AS part "
        "FROM v JOIN big USING (gkey, locality) ORDER BY part"
    ).to_arrow_table()
    db.unregister("big")
    parts = values["part"].to_numpy()
    column = values["value"].to_numpy()
    starts = [0, *(np.flatnonzero(np.diff(parts)) + 1).tolist()]
    ends = [*starts[1:], values.num_rows]
    sketches: dict[tuple[str, str], bytes | None] = {}
    for start, end in zip(starts, ends, strict=True):
        key = (values["gkey"][start].as_py(), values["locality"][start].as_py())
        sketches[key] = Dist.of(column[start:end], limit).serialized()
    return sketches


def _finish(
    table: pa.Table,
    sketches: dict[tuple[str, str], bytes | None],
    load_id: str,
    limit: int,
) -> pa.Table:
    """Add sketches for large groups and large provider sets; fix the schema."""
    rows = table.to_pylist()
    for row in rows:
        row["sketch"] = sketches.get((row.pop("gkey"), row["locality"]))
        for ids, sketch in (("npis", "npi_sketch"), ("tins", "tin_sketch")):
            found = IdSet.of(row[ids] or [], limit)
            row[sketch] = found.serialized()
            row[ids] = None if found.sketch is not None else sorted(row[ids] or [])
        row["load_id"] = load_id
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def summarize_load(
    lake: Path,
    load_id: str,
    locator: Locator | None = None,
    limit: int = EXACT_LIMIT,
) -> pa.Table:
    """The `rate_summary` rows of one loaded in-network file (see the module doc)."""
    db = duckdb.connect()
    try:
        _normalize(
            db,
            lake / "tic_rate" / f"{load_id}.parquet",
            lake / "tic_provider_group" / f"{load_id}.parquet",
        )
        _locate(db, locator)
        _classify(db)
        table = _aggregate(db, limit)
        sketches = _sketches(db, table, limit)
    finally:
        db.close()
    return _finish(table, sketches, load_id, limit)


def _metadata(locator: Locator | None) -> dict[bytes, bytes]:
    return {
        b"payerbrief.summary_version": VERSION.encode(),
        b"payerbrief.located_with": (locator.key if locator else "").encode(),
    }


def write_summary(
    lake: Path, load_id: str, table: pa.Table, locator: Locator | None
) -> Path:
    """Write one file's summary through a temporary name, like every lake table."""
    path = summary_path(lake, load_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".parquet.partial")
    pq.write_table(table.replace_schema_metadata(_metadata(locator)), partial)
    partial.replace(path)
    return path


def is_current(path: Path, locator: Locator | None) -> bool:
    """Whether a stored summary has this format and was located with these loads."""
    if not path.is_file():
        return False
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return False
    return metadata == _metadata(locator)


def locator(warehouse: Warehouse) -> Locator | None:
    """The loaded NPPES files and the current ZIP-locality file, if both are loaded."""
    nppes = warehouse.entries("nppes")
    zips = warehouse.current("zip-locality")
    if not nppes or zips is None:
        return None
    lake = warehouse.lake
    return Locator(
        tuple(lake / "nppes_provider" / f"{e.load_id}.parquet" for e in nppes),
        lake / "zip_locality" / f"{zips.load_id}.parquet",
        tuple(sorted([*(e.load_id for e in nppes), zips.load_id])),
    )


def ensure_summaries(warehouse: Warehouse, limit: int = EXACT_LIMIT) -> list[Path]:
    """Summarize every loaded in-network file whose summary is missing or stale.

    This is the post-load step for kind "tic-in-network"; briefs also call it
    on first use. Returns the summaries of all loaded files. A warehouse whose
    lake cannot be written gets its summaries computed and kept in memory by
    the caller instead (see `load_summaries`).
    """
    found = locator(warehouse)
    paths = []
    for entry in warehouse.entries(KIND):
        path = summary_path(warehouse.lake, entry.load_id)
        if not is_current(path, found):
            log.info("summarizing the rates of %s", entry.file_name)
            table = summarize_load(warehouse.lake, entry.load_id, found, limit)
            try:
                write_summary(warehouse.lake, entry.load_id, table, found)
            except OSError as exc:
                log.warning(
                    "cannot store the rate summary of %s: %s", entry.file_name, exc
                )
        paths.append(path)
    return paths


def load_summaries(warehouse: Warehouse) -> pa.Table:
    """Every current file's summary rows, with each file's reporting entity and plan."""
    found = locator(warehouse)
    parts = []
    for entry in warehouse.entries(KIND):
        path = summary_path(warehouse.lake, entry.load_id)
        if is_current(path, found):
            parts.append(pq.read_table(path).replace_schema_metadata(None))
        else:
            table = summarize_load(warehouse.lake, entry.load_id, found)
            try:
                write_summary(warehouse.lake, entry.load_id, table, found)
            except OSError as exc:
                log.warning(
                    "cannot store the rate summary of %s: %s", entry.file_name, exc
                )
            parts.append(table)
    if not parts:
        return SCHEMA.empty_table()
    return pa.concat_tables(parts)


def file_rows(warehouse: Warehouse) -> list[dict[str, Any]]:
    """One row per loaded in-network file: its reporting entity, plan and dates."""
    if not warehouse.has_table("tic_file"):
        return []
    return warehouse.rows(
        "SELECT f.load_id, f.reporting_entity_name, f.plan_name, f.plan_id, "
        "f.plan_id_type, f.plan_market_type, f.last_updated_on, f.version "
        "FROM tic_file f JOIN manifest m USING (load_id) "
        "WHERE m.kind = ? ORDER BY f.load_id",
        [KIND],
    )
