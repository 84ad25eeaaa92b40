"""The warehouse: Parquet files plus a DuckDB catalog, with a manifest of every load."""

from payerbrief.store.warehouse import (
    LoadResult,
    ManifestEntry,
    Warehouse,
    default_home,
)

__all__ = ["LoadResult", "ManifestEntry", "Warehouse", "default_home"]
