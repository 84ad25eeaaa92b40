"""Billing code systems: how a code is written and where it sits in its code set.

CPT category boundaries follow the AMA's published section ranges; HCPCS Level
II letter groups follow CMS's HCPCS Level II code set overview. Only the names
of ranges are written here, never a descriptor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from payerbrief.errors import MalformedCodeError

_PATTERNS = (
    (re.compile(r"^\d{5}$"), "CPT", "Category I"),
    (re.compile(r"^\d{4}F$"), "CPT", "Category II"),
    (re.compile(r"^\d{4}T$"), "CPT", "Category III"),
    (re.compile(r"^\d{4}U$"), "CPT", "Proprietary Laboratory Analyses"),
    (re.compile(r"^\d{4}M$"), "CPT", "Multianalyte Assays with Algorithmic Analyses"),
    (re.compile(r"^[A-V]\d{4}$"), "HCPCS", "Level II"),
)

# CPT Category I sections by code range (AMA CPT code set structure).
_CPT_SECTIONS = (
    (0, 1999, "Anesthesia"),
    (10004, 69990, "Surgery"),
    (70010, 79999, "Radiology"),
    (80047, 89398, "Pathology and Laboratory"),
    (90281, 99199, "Medicine"),
    (99202, 99499, "Evaluation and Management"),
    (99500, 99607, "Medicine"),
)

# HCPCS Level II code groups by first letter (CMS HCPCS Level II overview).
_HCPCS_GROUPS = {
    "A": "transportation, medical and surgical supplies, miscellaneous",
    "B": "enteral and parenteral therapy",
    "C": "outpatient prospective payment system, temporary",
    "D": "dental procedures",
    "E": "durable medical equipment",
    "G": "procedures and professional services, temporary",
    "H": "alcohol and drug abuse treatment and behavioral health services",
    "J": "drugs administered other than by oral method",
    "K": "durable medical equipment, temporary",
    "L": "orthotic and prosthetic procedures and devices",
    "M": "other medical services and quality measures",
    "P": "pathology and laboratory services",
    "Q": "miscellaneous services, temporary",
    "R": "diagnostic radiology services",
    "S": "temporary national codes, not used by Medicare",
    "T": "national codes established for state Medicaid agencies",
    "U": "coronavirus diagnostic panel",
    "V": "vision, hearing and speech-language pathology services",
}


@dataclass(frozen=True)
class BillingCode:
    code: str
    system: str
    level: str

    @property
    def category(self) -> str:
        """The code's place in its code set, as a noun phrase."""
        if self.system == "HCPCS":
            group = _HCPCS_GROUPS.get(self.code[0], "an unassigned letter group")
            return f"HCPCS Level II, {self.code[0]} codes: {group}"
        if self.level == "Category I":
            section = self.section or "unassigned"
            return f"the {section} section of CPT Category I"
        if self.level == "Category II":
            return "CPT Category II, the performance measurement tracking codes"
        if self.level == "Category III":
            return "CPT Category III, the emerging technology codes"
        return f"CPT {self.level}"

    @property
    def section(self) -> str | None:
        if self.level != "Category I":
            return None
        number = int(self.code)
        for low, high, name in _CPT_SECTIONS:
            if low <= number <= high:
                return name
        return None

    @property
    def is_tracking_code(self) -> bool:
        return self.level == "Category II"


def parse_code(text: str) -> BillingCode:
    """Classify `text` as a billing code, or raise `MalformedCodeError`."""
    code = text.strip().upper()
    for pattern, system, level in _PATTERNS:
        if pattern.match(code):
            return BillingCode(code, system, level)
    raise MalformedCodeError(text)
