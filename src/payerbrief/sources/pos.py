"""Reader for the CMS Place of Service code set, with the fee schedule's setting."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from payerbrief.sources.base import (
    Provenance,
    ReadStats,
    require_file,
    sha256_of,
)
from payerbrief.sources.nucc import code_set_batches

WHAT = "the place of service CSV (place_of_service.csv)"
HEADER = ("pos_code", "pos_type", "pos_name", "pos_description")
HEADER_HINT = "pass a place of service CSV with the columns " + ",".join(HEADER)
PUBLISHER = "Centers for Medicare & Medicaid Services"

# CMS numbers places of service 01 to 99 (Place of Service Code Set); a file
# that went through a spreadsheet may have lost the leading zero.
CODE_PATTERN = re.compile(r"^\d{1,2}$")

# The setting the Physician Fee Schedule pays a place of service at
# (Medicare Claims Processing Manual, chapter 12, section 20.4.2).
FACILITY_TYPES = {"Facility": True, "Non-Facility": False}


class PlaceOfServiceReader:
    """Reads the place of service code list, one row per two-digit code."""

    kind: ClassVar[str] = "pos"
    table: ClassVar[str] = "place_of_service"
    schema: ClassVar[pa.Schema] = pa.schema(
        [
            ("pos_code", pa.string()),
            ("facility", pa.bool_()),
            ("pos_type", pa.string()),
            ("name", pa.string()),
            ("description", pa.string()),
            ("line", pa.int64()),
        ]
    )

    def __init__(
        self,
        path: Path,
        *,
        release: str | None = None,
        as_of: date | None = None,
    ) -> None:
        self.path = Path(path)
        self.stats = ReadStats()
        self.release = release
        self.as_of = as_of

    def provenance(self) -> Provenance:
        # The file carries no version or date: only the caller can name them.
        require_file(self.path, WHAT)
        return Provenance(
            kind=self.kind,
            file_name=self.path.name,
            sha256=sha256_of(self.path),
            publisher=PUBLISHER,
            release=self.release or "unversioned",
            as_of=self.as_of,
        )

    def batches(self) -> Iterator[pa.RecordBatch]:
        self.stats = ReadStats()
        first_line: dict[str, int] = {}
        yield from code_set_batches(
            self.path,
            (WHAT, HEADER, HEADER_HINT),
            self.schema,
            self.stats,
            lambda line, fields, raw: self._row(line, fields, raw, first_line),
        )

    def _row(
        self, line: int, fields: list[str], raw: str, first_line: dict[str, int]
    ) -> dict[str, object] | None:
        code, pos_type, name, description = fields
        reason = _code_problem(code) or _type_problem(pos_type)
        code = code.zfill(2)
        if not reason and code in first_line:
            reason = f"place of service {code} repeats line {first_line[code]}"
        if reason:
            self.stats.reject(line, reason, raw)
            return None
        first_line[code] = line
        return {
            "pos_code": code,
            "facility": FACILITY_TYPES[pos_type],
            "pos_type": pos_type,
            "name": name,
            "description": description,
            "line": line,
        }


def _code_problem(code: str) -> str:
    if CODE_PATTERN.match(code):
        return ""
    return f"place of service code {code!r} is not one or two digits"


def _type_problem(pos_type: str) -> str:
    if pos_type in FACILITY_TYPES:
        return ""
    return f"pos_type {pos_type!r} is neither 'Facility' nor 'Non-Facility'"


def _is_csv(name: str) -> bool:
    return name.lower().endswith(".csv")
