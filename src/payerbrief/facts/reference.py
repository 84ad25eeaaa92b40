"""The reference data a brief draws on, read from the warehouse once.

Fee schedule, GPCIs and code sets are small (tens of thousands of rows), so
they are held in memory by code; building thousands of briefs then costs no
query per code.
"""

from __future__ import annotations

import bisect
import difflib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from payerbrief.codes import BillingCode, parse_code
from payerbrief.errors import UnknownCodeError
from payerbrief.facts.medicare import Gpci
from payerbrief.facts.model import SourceRef
from payerbrief.store.warehouse import ManifestEntry, Warehouse

# Source kinds a brief reads, with the table each loads into.
KIND_TABLES = {
    "pfs-rvu": "pfs_rvu",
    "gpci": "gpci",
    "locality-county": "locality_county",
    "hcpcs": "hcpcs_code",
    "hcpcs-modifier": "hcpcs_modifier",
    "nucc": "nucc_taxonomy",
    "pos": "place_of_service",
    "icd10cm": "icd10cm",
}

# Kinds published in parts (settings, service types) that apply together, with
# the table each loads, copied into the reference's own database for lookups.
SET_KIND_TABLES = {
    "ncci-ptp": ("ncci_ptp",),
    "mue": ("mue",),
    "mcd-article": (
        "mcd_article_code",
        "mcd_article",
        "mcd_icd10_covered",
        "mcd_icd10_covered_group",
        "mcd_icd10_noncovered",
        "mcd_article_contractor",
    ),
    "icd10cm": ("icd10cm",),
    "nucc": ("nucc_taxonomy",),
    "cpt-descriptors": ("cpt_descriptor",),
}

CODE_SET_NAMES = {
    "pfs-rvu": "Medicare Physician Fee Schedule",
    "hcpcs": "HCPCS Level II",
}


@dataclass(frozen=True)
class RateFile:
    """A loaded payer in-network file: its manifest entry, `tic_file` row and payer."""

    entry: ManifestEntry
    row: dict[str, Any]
    family: str
    plan: str


@dataclass
class Reference:
    """Chosen releases of each reference source, and their rows by key."""

    entries: dict[str, ManifestEntry] = field(default_factory=dict)
    pfs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    hcpcs: dict[str, dict[str, Any]] = field(default_factory=dict)
    modifiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    gpcis: list[Gpci] = field(default_factory=list)
    sets: dict[str, list[ManifestEntry]] = field(default_factory=dict)
    db: duckdb.DuckDBPyConnection = field(default_factory=duckdb.connect)
    # Loaded payer in-network files by load id: manifest entry, file row, family.
    rate_files: dict[str, RateFile] = field(default_factory=dict)
    places: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Whether NPPES and the ZIP-locality file place providers in localities.
    rates_located: bool = False
    _known: list[str] | None = None
    _by_shape: dict[str, list[str]] | None = None

    @classmethod
    def load(
        cls, warehouse: Warehouse, releases: Mapping[str, str] | None = None
    ) -> Reference:
        """Read the newest release of each kind, or the release named per kind."""
        releases = releases or {}
        ref = cls()
        for kind in KIND_TABLES:
            entry = warehouse.current(kind, releases.get(kind))
            if entry is not None:
                ref.entries[kind] = entry

        by_code: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in ref._rows(warehouse, "pfs-rvu", "hcpcs, modifier NULLS FIRST"):
            by_code[row["hcpcs"]].append(row)
        ref.pfs = dict(by_code)
        ref.hcpcs = {r["hcpcs"]: r for r in ref._rows(warehouse, "hcpcs", "hcpcs")}
        ref.modifiers = {
            r["modifier"]: r for r in ref._rows(warehouse, "hcpcs-modifier", "modifier")
        }
        ref.gpcis = [
            Gpci.of(r) for r in ref._rows(warehouse, "gpci", "mac, locality_number")
        ]
        for kind, tables in SET_KIND_TABLES.items():
            ref._copy_set(warehouse, kind, tables, releases.get(kind))
        ref.places = {r["pos_code"]: r for r in ref._rows(warehouse, "pos", "pos_code")}
        ref._attach_rates(warehouse)
        ref._attach_taxonomies(warehouse)
        ref._attach_bundles(warehouse)
        return ref

    def _attach_bundles(self, warehouse: Warehouse) -> None:
        """Codes that payer files bundle with, or cover under, each billed code."""
        if not self.rate_files or not warehouse.has_table("tic_item_code"):
            return
        rows = warehouse.db.sql(
            "SELECT DISTINCT r.billing_code AS code, i.billing_code AS related, "
            "i.billing_code_type AS related_type, i.relation, i.description, "
            "r.load_id FROM tic_item_code i JOIN (SELECT DISTINCT load_id, "
            "item_index, billing_code FROM tic_rate) r USING (load_id, item_index)"
        ).to_arrow_table()
        self.db.register("incoming", rows)
        self.db.execute(
            "CREATE TABLE payer_bundle AS SELECT * FROM incoming ORDER BY code"
        )
        self.db.unregister("incoming")

    def _attach_taxonomies(self, warehouse: Warehouse) -> None:
        """Taxonomies per code, when payer files and NPPES are both loaded."""
        from payerbrief.facts.taxonomies import build_code_taxonomy

        nppes = warehouse.entries("nppes")
        if not nppes or not self.rate_files:
            return
        if build_code_taxonomy(warehouse, self.db):
            self.sets["nppes"] = nppes

    def _attach_rates(self, warehouse: Warehouse) -> None:
        """Copy the payer files' rate summaries (computed on first use) to `db`."""
        from payerbrief.facts.summaries import file_rows, load_summaries, locator
        from payerbrief.sources.tic.payers import payer_family

        entries = {e.load_id: e for e in warehouse.entries("tic-in-network")}
        if not entries:
            return
        for row in file_rows(warehouse):
            family = payer_family(row["reporting_entity_name"] or "", warehouse.home)
            entry = entries[row["load_id"]]
            plan = row["plan_name"] or family.plan
            self.rate_files[entry.load_id] = RateFile(entry, row, family.family, plan)
        self.rates_located = locator(warehouse) is not None
        self.db.register("incoming", load_summaries(warehouse))
        self.db.execute(
            "CREATE OR REPLACE TABLE rate_summary AS "
            "SELECT * FROM incoming ORDER BY code, load_id"
        )
        self.db.unregister("incoming")
        # Briefs look rates up code by code: an index answers without a scan.
        self.db.execute("CREATE INDEX rate_summary_code ON rate_summary (code)")

    def _copy_set(
        self,
        warehouse: Warehouse,
        kind: str,
        tables: tuple[str, ...],
        release: str | None,
    ) -> None:
        """Copy the current release of a large table into the reference's database.

        Briefs look such tables up code by code; a sorted in-memory copy answers
        in well under a millisecond and outlives the warehouse connection.
        """
        # Descriptor files of several kinds (long, consumer, ...) all apply.
        if kind == "cpt-descriptors" and release is None:
            entries = warehouse.entries(kind)
        else:
            entries = warehouse.current_set(kind, release)
        if not entries:
            return
        self.sets[kind] = entries
        ids = [e.load_id for e in entries]
        marks = ", ".join("?" for _ in ids)
        for table in tables:
            rows = warehouse.db.sql(
                f'SELECT * FROM "{table}" WHERE load_id IN ({marks})', params=ids
            ).to_arrow_table()
            self.db.register("incoming", rows)
            self.db.execute(
                f'CREATE TABLE "{table}" AS SELECT * FROM incoming ORDER BY 1'
            )
            self.db.unregister("incoming")

    def set_sources(self, kind: str) -> list[SourceRef]:
        return [SourceRef.of(e) for e in self.sets.get(kind, [])]

    def lookup(
        self, sql: str, params: Sequence[object] | Mapping[str, object]
    ) -> list[dict[str, Any]]:
        """Run a parameterised query on the reference's copied tables."""
        cursor = self.db.execute(sql, params)
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _rows(
        self, warehouse: Warehouse, kind: str, order: str
    ) -> list[dict[str, Any]]:
        entry = self.entries.get(kind)
        if entry is None:
            return []
        return warehouse.rows(
            f'SELECT * FROM "{KIND_TABLES[kind]}" WHERE load_id = ? ORDER BY {order}',
            [entry.load_id],
        )

    def source(self, kind: str) -> SourceRef | None:
        entry = self.entries.get(kind)
        return SourceRef.of(entry) if entry else None

    def code_sets(self) -> list[str]:
        """The loaded code sets, named with their release."""
        return [
            f"{name} {self.entries[kind].release}"
            for kind, name in CODE_SET_NAMES.items()
            if kind in self.entries
        ]

    def known_codes(self) -> list[str]:
        if self._known is None:
            self._known = sorted(set(self.pfs) | set(self.hcpcs))
        return self._known

    def _shaped(self, code: str) -> list[str]:
        """Known codes of the same shape as `code` (digits and letters in place)."""
        if self._by_shape is None:
            groups: defaultdict[str, list[str]] = defaultdict(list)
            for known in self.known_codes():
                groups[_shape(known)].append(known)
            self._by_shape = dict(groups)
        return self._by_shape.get(_shape(code), [])

    def resolve(self, text: str) -> BillingCode:
        """Parse `text` and check that a loaded code set has it."""
        code = parse_code(text)
        if code.code in self.pfs or code.code in self.hcpcs:
            return code
        raise UnknownCodeError(code.code, self.code_sets(), self.closest(code.code))

    def closest(self, code: str, n: int = 5) -> list[str]:
        """Known codes that look most like `code`: same shape, nearest in order."""
        shaped = self._shaped(code)
        if shaped:
            nearest = sorted(shaped, key=lambda c: (_distance(c, code), c))
            return sorted(nearest[:n])
        return difflib.get_close_matches(code, self.known_codes(), n=n, cutoff=0.5)

    def neighbours(self, code: str, n: int = 3) -> list[str]:
        """Codes either side of `code` in its code set, sharing its shape."""
        shaped = self._shaped(code)
        at = bisect.bisect_left(shaped, code)
        if at == len(shaped) or shaped[at] != code:
            return []
        # Category I codes share a family by their first four digits (99211 to
        # 99215); other shapes by their first three characters.
        width = 4 if code.isdigit() else 3
        around = shaped[max(0, at - n) : at] + shaped[at + 1 : at + 1 + n]
        return [c for c in around if c[:width] == code[:width]]


def _shape(code: str) -> str:
    return "".join("9" if ch.isdigit() else ch for ch in code)


def _distance(a: str, b: str) -> tuple[int, int]:
    digits_a = "".join(ch for ch in a if ch.isdigit())
    digits_b = "".join(ch for ch in b if ch.isdigit())
    mismatched = sum(x != y for x, y in zip(a, b, strict=False))
    return (mismatched if a[0] != b[0] else 0, abs(int(digits_a) - int(digits_b)))
