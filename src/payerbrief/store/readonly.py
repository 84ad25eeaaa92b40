"""The warehouse opened for reading only, by the web app and site build workers.

DuckDB lets several processes open a catalog read-only at once (but none while
a command writes to it), and a read-only open creates no table or view.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from payerbrief.errors import WarehouseError
from payerbrief.store.warehouse import Warehouse


class NoWarehouseError(WarehouseError):
    def __init__(self, home: Path) -> None:
        self.home = home
        self.hint = "run `payerbrief demo` or `payerbrief ingest` first, or pass --home"
        super().__init__(f"no warehouse in {home}")


class ReadOnlyWarehouse(Warehouse):
    """The warehouse opened for reading: no manifest table or views are made."""

    def __init__(self, home: Path) -> None:
        self.home = home.resolve()
        self.lake = self.home / "lake"
        catalog = self.home / "catalog.duckdb"
        if not catalog.is_file():
            raise NoWarehouseError(self.home)
        try:
            self.db = duckdb.connect(str(catalog), read_only=True)
        except duckdb.Error as exc:
            error = WarehouseError(f"cannot open {catalog} read-only: {exc}")
            error.hint = "wait for the command writing to the warehouse to finish"
            raise error from exc
