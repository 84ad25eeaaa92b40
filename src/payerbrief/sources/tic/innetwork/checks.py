"""The rules a part of an in-network file must pass, and how a failure is worded.

Every reason starts with the kind of problem, before a colon, so the warehouse
manifest can count reasons by kind; then it names the part as a JSON path with
its item's byte offset in the decompressed text, then the detail.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

# `billing_code_type` of 1.x (v1.0.0 to v1.6.2) and 2.x (`billing_code_types`
# in v2.2.0): the same seventeen values.
BILLING_CODE_TYPES = frozenset(
    {
        "CPT",
        "HCPCS",
        "ICD",
        "MS-DRG",
        "R-DRG",
        "S-DRG",
        "APS-DRG",
        "AP-DRG",
        "APR-DRG",
        "APC",
        "NDC",
        "HIPPS",
        "LOCAL",
        "EAPG",
        "CDT",
        "RC",
        "CSTM-ALL",
    }
)

# A negotiated rate above this many dollars (or percent) is a placeholder or a
# typing error, not a price: the largest real bundled rates (transplants) are
# around a million dollars. 2.x requires `negotiated_rate` > 0
# (`exclusiveMinimum: 0`), and 1.x files with zero or negative rates are
# placeholders too.
IMPLAUSIBLE_RATE = 10_000_000.0


class FloatText(float):
    """A float that remembers how it was written, for ids read by the `json` module."""

    text: str

    def __new__(cls, text: str) -> FloatText:
        value = super().__new__(cls, text)
        value.text = text
        return value


def id_text(value: Any) -> str | None:
    """A provider group id's exact text, or None when it is no number.

    The schemas say number (1.x) or integer (2.x); an id written as a JSON
    string is accepted as that text, since it names the same group.
    """
    if value.__class__ is str:
        return value
    if isinstance(value, FloatText):
        return value.text
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def plain(value: Any) -> Any:
    """`json` output with every `FloatText` turned back into a plain float."""
    if isinstance(value, FloatText):
        return float(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def loads_loose(text: bytes) -> Any:
    """Parse with the standard library, which accepts `NaN` and `Infinity`."""
    return json.loads(text, parse_float=FloatText)


def decode_problem(exc: Exception) -> tuple[str, str]:
    """(kind, detail) for an error from msgspec or `json`."""
    message = str(exc)
    if isinstance(exc, UnicodeDecodeError) or "UTF-8" in message:
        return "invalid UTF-8", message
    if isinstance(exc, msgspec.ValidationError):
        if message.startswith("Object missing required field"):
            return "missing required field", message
        if message.startswith("Expected"):
            return "wrong type", message
        return "invalid value", message
    return "invalid JSON", message


def rate_problem(value: float) -> str | None:
    """Why a negotiated rate cannot be loaded, or None when it can."""
    if value != value or value in (float("inf"), float("-inf")):
        return "negotiated_rate is not a finite number"
    if value <= 0:
        return "negotiated_rate is not positive"
    if value > IMPLAUSIBLE_RATE:
        return "negotiated_rate is implausibly large"
    return None


def reason(kind: str, where: str, offset: int, detail: str) -> str:
    """A reject reason: kind, the part's JSON path and byte offset, the detail."""
    return f"{kind}: {where} at byte {offset}: {detail}"
