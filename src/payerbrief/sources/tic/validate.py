"""Check a Transparency in Coverage file against the CMS schema of its version.

The file kind (in-network rates, allowed amounts, table of contents, provider
reference) is told by its big array, and the schema by its `version`; the
schemas shipped in `data/tic-schemas/` are used, and a version not shipped
falls back to the nearest shipped one of the same major version, which the
report says. The check streams: the top-level values are checked against
the top-level schema with the big arrays taken out, and each element of a
big array against the array's item schema, so memory holds one element at a
time. The array rules themselves (`minItems`, `uniqueItems`) are checked from
counts and digests.

The `jsonschema` package decides and words every violation. When the
`jsonschema_rs` package is installed it screens each element first, and
`jsonschema` looks only at elements that fail the screen: on the CareFirst
file this is the difference between minutes and seconds. The schemas
declare draft-07, so their `dependentRequired` (a later draft's keyword) is
not enforced, as any draft-07 validator would do.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.protocols import Validator

from payerbrief.sources.tic.jsonitems import (
    BIG_ARRAYS,
    TicFileError,
    TopLevelWalk,
    json_path,
    read_top_level,
)

try:
    import jsonschema_rs
except ImportError:  # pragma: no cover - the screen is an optional speed-up
    jsonschema_rs = None  # type: ignore[assignment]

WHAT = "a Transparency in Coverage JSON file"
SHIPPED = ("1.0.0", "1.6.2", "2.2.0")
SCHEMA_KINDS = {
    "in_network": "in-network-rates",
    "provider_references": "in-network-rates",
    "reporting_structure": "table-of-contents",
    "out_of_network": "allowed-amounts",
    "provider_groups": "provider-reference",
}
KEPT = 1000
MESSAGE_CHARS = 300
_REQUIRED = re.compile(r"^'(?P<name>.*)' is a required property$")
_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Violation:
    """One schema rule a file breaks, where it breaks it and in which element."""

    path: str
    message: str
    keyword: str
    item: str | None = None
    offset: int | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class ValidationReport:
    """The outcome of `validate_file`: the violations and the counts behind them.

    `violations` keeps the first `KEPT`; `violation_count` counts them all.
    """

    path: Path
    file_kind: str
    declared_version: str | None
    schema_version: str
    notes: list[str] = field(default_factory=list)
    items: dict[str, int] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    violation_count: int = 0
    failed_items: int = 0
    keywords: Counter[str] = field(default_factory=Counter)
    places: Counter[str] = field(default_factory=Counter)

    @property
    def valid(self) -> bool:
        return self.violation_count == 0

    def add(self, violation: Violation, keep: int) -> None:
        self.violation_count += 1
        self.keywords[violation.keyword] += 1
        self.places[_INDEX.sub("[]", violation.path)] += 1
        if len(self.violations) < keep:
            self.violations.append(violation)

    def summary(self) -> str:
        """The report in a few lines of plain text, as the CLI prints it."""
        declared = self.declared_version or "none"
        lines = [
            f"{self.path}: {self.file_kind} file, version {declared}, "
            f"checked against the CMS schema {self.schema_version}",
            *(f"  note: {note}" for note in self.notes),
        ]
        for array, count in self.items.items():
            lines.append(f"  {array}: {count} elements checked")
        if self.valid:
            lines.append("  no violations")
            return "\n".join(lines)
        lines.append(
            f"  {self.violation_count} violations, {self.failed_items} elements "
            "with at least one"
        )
        rules = ", ".join(f"{k} {n}" for k, n in self.keywords.most_common())
        lines.append(f"  by rule: {rules}")
        for place, count in self.places.most_common(10):
            lines.append(f"  {count} at {place}")
        return "\n".join(lines)


# Schemas


def choose_version(declared: Any, kind: str) -> tuple[str, str | None]:
    """The shipped schema version to check a file of `declared` version with.

    Returns the version and, when it is not the declared one, a note saying
    so. Within the declared major version the choice is, in order: the
    nearest patch of the same minor version; the oldest newer minor version,
    since minor versions add optional fields and values (1.2.0 files may use
    the "CSTM-00" service code that 1.0.0 lacks); the newest older one. With
    no shipped schema of that major, the newest shipped is used.
    """
    shipped = [v for v in SHIPPED if _has_schema(v, kind)]
    if declared is None:
        return shipped[0], (
            f"the file names no version; checked against {shipped[0]}, the "
            "first schema (table-of-contents 1.0.0 had no version field)"
        )
    text = str(declared).strip()
    if text in shipped:
        return text, None
    wanted = _version_tuple(text)
    if wanted is None:
        return shipped[-1], (
            f"version {text!r} is not a version number; checked against "
            f"{shipped[-1]}, the newest shipped schema"
        )
    numbered = [(_version_tuple(v) or (0, 0, 0), v) for v in shipped]
    exact = [v for n, v in numbered if n == wanted]
    if exact:
        return exact[0], None
    same = [(n, v) for n, v in numbered if n[0] == wanted[0]]
    if not same:
        return shipped[-1], (
            f"no {wanted[0]}.x {kind} schema is shipped; checked against "
            f"{shipped[-1]}, the newest"
        )
    chosen = min(same, key=lambda nv: _preference(nv[0], wanted))[1]
    return chosen, (
        f"version {text} is not shipped; checked against {chosen}, the nearest "
        f"shipped {wanted[0]}.x schema"
    )


def _preference(
    have: tuple[int, int, int], wanted: tuple[int, int, int]
) -> tuple[int, int]:
    """Sort key for `choose_version`: same minor, then newer minors, then older."""
    if have[1] == wanted[1]:
        return 0, abs(have[2] - wanted[2])
    if have[1] > wanted[1]:
        return 1, have[1] - wanted[1]
    return 2, wanted[1] - have[1]


def _version_tuple(text: str) -> tuple[int, int, int] | None:
    parts = text.lstrip("vV").split(".")
    if not parts or not all(p.isdigit() for p in parts) or len(parts) > 3:
        return None
    numbers = [int(p) for p in parts] + [0] * (3 - len(parts))
    return numbers[0], numbers[1], numbers[2]


def _schema_file(version: str, kind: str) -> Any:
    return files("payerbrief") / "data" / "tic-schemas" / version / f"{kind}.json"


def _has_schema(version: str, kind: str) -> bool:
    return bool(_schema_file(version, kind).is_file())


@dataclass
class _ItemCheck:
    """The checks of one big array: its element schema and its own array rules."""

    slow: Validator
    fast: Any
    rules: dict[str, Any]


@dataclass
class _SchemaSet:
    top: Validator
    arrays: dict[str, _ItemCheck]


@lru_cache(maxsize=16)
def schema_set(version: str, kind: str) -> _SchemaSet:
    """The validators for one shipped schema, split into top level and arrays."""
    schema = json.loads(_schema_file(version, kind).read_text(encoding="utf-8"))
    top = copy.deepcopy(schema)
    arrays: dict[str, _ItemCheck] = {}
    for name, prop in schema.get("properties", {}).items():
        if name not in BIG_ARRAYS:
            continue
        top["properties"][name] = {"type": "array"}
        item_schema = {
            "$schema": schema.get("$schema"),
            **prop.get("items", {}),
            "definitions": schema.get("definitions", {}),
        }
        rules = {
            k: prop[k] for k in ("minItems", "maxItems", "uniqueItems") if k in prop
        }
        arrays[name] = _ItemCheck(_validator(item_schema), _screen(item_schema), rules)
    return _SchemaSet(_validator(top), arrays)


def _validator(schema: dict[str, Any]) -> Validator:
    kind = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft7Validator
    )
    checker: Any = kind.FORMAT_CHECKER
    return kind(schema, format_checker=checker)


def _screen(schema: dict[str, Any]) -> Any:
    """A fast validator that only says valid or not, when jsonschema_rs is there."""
    if jsonschema_rs is None:
        return None
    return jsonschema_rs.validator_for(schema, validate_formats=True)


# Checking a file


def detect_kind(path: Path) -> tuple[str, dict[str, Any]]:
    """The schema kind of a file and its top-level values read so far."""
    top = read_top_level(path, WHAT)
    if top.arrays:
        return SCHEMA_KINDS[top.arrays[0]], top.values
    for name, kind in SCHEMA_KINDS.items():
        if name in top.values:
            return kind, top.values
    raise TicFileError(
        path,
        "none of in_network, provider_references, reporting_structure, "
        "out_of_network or provider_groups is at the top level",
        hint="pass a Transparency in Coverage machine-readable file",
    )


def validate_file(path: Path, *, keep: int = KEPT) -> ValidationReport:
    """Check a TiC file against the CMS schema of its version, streaming."""
    path = Path(path)
    kind, head = detect_kind(path)
    if "version" not in head:
        # A version placed after the big arrays needs a full scan to be seen.
        head = read_top_level(path, WHAT, whole=True).values
    version, note = choose_version(head.get("version"), kind)
    report = ValidationReport(path, kind, head.get("version"), version)
    if note:
        report.notes.append(note)
    checks = schema_set(version, kind)
    top: dict[str, Any] = {}
    seen: dict[str, dict[int, int]] = {}
    screened_only = 0
    walk = TopLevelWalk(path, WHAT)
    for event, name, value in walk:
        if event == "value":
            top[name] = value
        elif event == "end":
            top[name] = []
            report.items[name] = value
        else:
            array = name.split("[", 1)[0]
            check = checks.arrays.get(array)
            if check is None:
                continue
            errors, screened = _check_item(check, value)
            screened_only += screened
            _record(report, errors, name, walk.offset, keep)
            if check.rules.get("uniqueItems"):
                _unique(
                    report, seen.setdefault(array, {}), name, value, walk.offset, keep
                )
    _record(report, checks.top.iter_errors(top), None, None, keep)
    _array_rules(report, checks, keep)
    if screened_only:
        report.notes.append(
            f"jsonschema_rs flagged {screened_only} elements that jsonschema "
            "found valid (format checks differ); jsonschema's verdict is reported"
        )
    return report


def _check_item(check: _ItemCheck, element: Any) -> tuple[list[Any], int]:
    if check.fast is not None and check.fast.is_valid(element):
        return [], 0
    errors = list(check.slow.iter_errors(element))
    return errors, int(check.fast is not None and not errors)


def _record(
    report: ValidationReport,
    errors: Iterable[Any],
    item: str | None,
    offset: int | None,
    keep: int,
) -> None:
    found = False
    for error in errors:
        found = True
        report.add(_violation(error, item, offset), keep)
    if found and item is not None:
        report.failed_items += 1


def _violation(error: Any, item: str | None, offset: int | None) -> Violation:
    path = json_path(item or "", error.absolute_path).lstrip(".")
    if error.validator == "required" and (match := _REQUIRED.match(error.message)):
        # Point at the missing field, not at the object that lacks it.
        path = f"{path}.{match['name']}" if path else match["name"]
    message = error.message
    if len(message) > MESSAGE_CHARS:
        message = message[: MESSAGE_CHARS - 1] + "…"
    return Violation(path or "(top level)", message, str(error.validator), item, offset)


def _unique(
    report: ValidationReport,
    seen: dict[int, int],
    name: str,
    element: Any,
    offset: int,
    keep: int,
) -> None:
    """Record an element equal to an earlier one, by a digest of its canonical JSON."""
    text = json.dumps(element, sort_keys=True, separators=(",", ":"))
    digest = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest())
    index = int(name.rsplit("[", 1)[1].rstrip("]"))
    first = seen.setdefault(digest, index)
    if first != index:
        array = name.split("[", 1)[0]
        message = f"repeats {array}[{first}]; the schema asks for unique items"
        report.add(Violation(name, message, "uniqueItems", name, offset), keep)
        report.failed_items += 1


def _array_rules(report: ValidationReport, checks: _SchemaSet, keep: int) -> None:
    """minItems and maxItems of the big arrays, from the counts of their elements."""
    for array, check in checks.arrays.items():
        if array not in report.items:
            continue
        count = report.items[array]
        least = check.rules.get("minItems")
        most = check.rules.get("maxItems")
        if least is not None and count < least:
            message = f"has {count} elements, fewer than the {least} required"
            report.add(Violation(array, message, "minItems"), keep)
        if most is not None and count > most:
            message = f"has {count} elements, more than the {most} allowed"
            report.add(Violation(array, message, "maxItems"), keep)
