"""What the web app reads once at startup, from the warehouse opened read-only.

The app never writes: it opens the DuckDB catalog with `read_only=True`, reads
the reference data, the manifest and the place-of-service codes, and closes
it, so `payerbrief ingest` can run while the app serves (the app shows the
data it started with until it is restarted).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cached_property
from importlib.metadata import version
from pathlib import Path

from payerbrief.facts.reference import Reference
from payerbrief.site.catalog import Catalog
from payerbrief.site.search import index_script
from payerbrief.store.readonly import ReadOnlyWarehouse
from payerbrief.store.warehouse import ManifestEntry, Warehouse


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    facility: bool


@dataclass
class AppState:
    home: Path
    ref: Reference
    manifest: list[ManifestEntry]
    places: dict[str, Place] = field(default_factory=dict)

    @cached_property
    def catalog(self) -> Catalog:
        """Every known code, for browsing and search (built on first use)."""
        return Catalog.build(self.ref, self.ref.known_codes())

    @cached_property
    def search_script(self) -> str:
        return index_script(self.catalog)

    @cached_property
    def used(self) -> set[str]:
        return {e.load_id for e in self.ref.entries.values()}

    @property
    def loaded_at(self) -> datetime | None:
        return max((e.loaded_at for e in self.manifest), default=None)

    @cached_property
    def etag(self) -> str:
        """One validator for every response: the data and the code that renders it."""
        stamp = self.loaded_at.isoformat() if self.loaded_at else "empty"
        ids = ",".join(sorted(e.load_id for e in self.manifest))
        key = f"{version('payerbrief')}|{stamp}|{ids}"
        return 'W/"' + hashlib.sha256(key.encode()).hexdigest()[:20] + '"'

    @cached_property
    def last_modified(self) -> str | None:
        if self.loaded_at is None:
            return None
        # The manifest records local wall-clock time without a zone.
        return format_datetime(self.loaded_at.astimezone(UTC), usegmt=True)


def _places(warehouse: Warehouse, ref: Reference) -> dict[str, Place]:
    entry = ref.entries.get("pos")
    if entry is None:
        return {}
    rows = warehouse.rows(
        "SELECT pos_code, name, facility FROM place_of_service WHERE load_id = ?",
        [entry.load_id],
    )
    return {r["pos_code"]: Place(r["pos_code"], r["name"], r["facility"]) for r in rows}


def load_state(home: Path) -> AppState:
    with ReadOnlyWarehouse(home) as warehouse:
        ref = Reference.load(warehouse)
        manifest = warehouse.entries()
        places = _places(warehouse, ref)
    return AppState(home.resolve(), ref, manifest, places)
