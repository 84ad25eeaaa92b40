"""The reference data a brief draws on, read from the warehouse once.

Fee schedule, GPCIs and code sets are small (tens of thousands of rows), so
they are held in memory by code; building thousands of briefs then costs no
query per code.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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

CODE_SET_NAMES = {
    "pfs-rvu": "Medicare Physician Fee Schedule",
    "hcpcs": "HCPCS Level II",
}


@dataclass
class Reference:
    """Chosen releases of each reference source, and their rows by key."""

    entries: dict[str, ManifestEntry] = field(default_factory=dict)
    pfs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    hcpcs: dict[str, dict[str, Any]] = field(default_factory=dict)
    modifiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    gpcis: list[Gpci] = field(default_factory=list)

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
        return ref

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
        return sorted(set(self.pfs) | set(self.hcpcs))

    def resolve(self, text: str) -> BillingCode:
        """Parse `text` and check that a loaded code set has it."""
        code = parse_code(text)
        if code.code in self.pfs or code.code in self.hcpcs:
            return code
        raise UnknownCodeError(code.code, self.code_sets(), self.closest(code.code))

    def closest(self, code: str, n: int = 5) -> list[str]:
        """Known codes that look most like `code`: same shape, nearest in order."""
        shaped = [c for c in self.known_codes() if _shape(c) == _shape(code)]
        if shaped:
            nearest = sorted(shaped, key=lambda c: (_distance(c, code), c))
            return sorted(nearest[:n])
        return difflib.get_close_matches(code, self.known_codes(), n=n, cutoff=0.5)

    def neighbours(self, code: str, n: int = 3) -> list[str]:
        """Codes either side of `code` in its code set, sharing its shape."""
        shaped = [c for c in self.known_codes() if _shape(c) == _shape(code)]
        if code not in shaped:
            return []
        at = shaped.index(code)
        family = code[:3]
        around = shaped[max(0, at - n) : at] + shaped[at + 1 : at + 1 + n]
        return [c for c in around if c[:3] == family]


def _shape(code: str) -> str:
    return "".join("9" if ch.isdigit() else ch for ch in code)


def _distance(a: str, b: str) -> tuple[int, int]:
    digits_a = "".join(ch for ch in a if ch.isdigit())
    digits_b = "".join(ch for ch in b if ch.isdigit())
    mismatched = sum(x != y for x, y in zip(a, b, strict=False))
    return (mismatched if a[0] != b[0] else 0, abs(int(digits_a) - int(digits_b)))
