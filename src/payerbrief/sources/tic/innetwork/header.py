"""The top-level fields of an in-network file: who reports, for which plan, when.

They may come before or after the `in_network` array (nothing in the schema
fixes the order), so they are collected from the scanner's key and value
events wherever they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import msgspec

# Top-level string fields of v1.0.0 to v2.2.0; `issuer_name` and
# `plan_sponsor_name` are new in 2.x.
FIELDS = (
    "reporting_entity_name",
    "reporting_entity_type",
    "plan_name",
    "plan_id_type",
    "plan_id",
    "plan_market_type",
    "issuer_name",
    "plan_sponsor_name",
    "last_updated_on",
    "version",
)
# What provenance needs; a skim of the file may stop once it has them.
PROVENANCE_FIELDS = frozenset({"reporting_entity_name", "last_updated_on"})

_VALUE = msgspec.json.Decoder(float_hook=str)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_date(text: str | None) -> date | None:
    """A `YYYY-MM-DD` date (the schemas' format), or None when it is not one."""
    found = _DATE.fullmatch(text.strip()) if text else None
    if found is None:
        return None
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


@dataclass
class Header:
    """The top-level fields seen so far, as written (numbers kept as their text)."""

    values: dict[str, str | None] = field(default_factory=dict)
    key: str = ""

    def on_key(self, text: memoryview) -> None:
        try:
            self.key = msgspec.json.decode(text, type=str)
        except msgspec.DecodeError:
            self.key = ""

    def on_value(self, text: memoryview) -> None:
        if self.key not in FIELDS:
            return
        try:
            value: Any = _VALUE.decode(text)
        except msgspec.DecodeError:
            value = None
        if isinstance(value, bool) or not isinstance(value, str | int):
            value = None
        self.values[self.key] = None if value is None else str(value)

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    @property
    def has_provenance(self) -> bool:
        return self.values.keys() >= PROVENANCE_FIELDS

    @property
    def last_updated(self) -> date | None:
        return parse_date(self.get("last_updated_on"))
