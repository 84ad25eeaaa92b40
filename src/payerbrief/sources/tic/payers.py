"""Map the reporting entity named in a payer file to its payer family and plan.

Briefs compare payers (Aetna, Blue Cross Blue Shield, Cigna,
UnitedHealthcare), but files name companies: "CareFirst BlueCross
BlueShield", "UMR", "Aetna Life Insurance Company". The rules live in the
bundled `data/payer_families.csv`: a case-insensitive regular expression
searched in the name, the family, and the plan to report (empty means the
name itself). The first rule that matches wins. A `payer_families.csv` in
the warehouse home, in the same columns, is read first, so its rules win
over the bundled ones. A name no rule matches is its own family.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

from payerbrief.errors import SourceFileError

FILE_NAME = "payer_families.csv"
HEADER = ["pattern", "family", "plan", "note"]
HINT = (
    "write payer_families.csv with the columns pattern,family,plan,note: a "
    "regular expression, the payer family, and the plan (empty for the name "
    "as written)"
)


class PayerFamily(NamedTuple):
    family: str
    plan: str


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    family: str
    plan: str
    source: str


def clean_name(name: str) -> str:
    """The name with its whitespace collapsed, as briefs show it."""
    return " ".join(name.split())


def parse_rules(text: str, source: Path | str) -> list[Rule]:
    """Rules from CSV text; a bad header or pattern stops with its line."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(rows, [])
    if [h.strip().lower() for h in header[:3]] != HEADER[:3]:
        raise SourceFileError(
            source, f"the header is {header!r}, not {HEADER!r}", line=1, hint=HINT
        )
    rules = []
    for line, row in enumerate(rows, start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise SourceFileError(
                source, "a rule needs a pattern and a family", line=line, hint=HINT
            )
        try:
            pattern = re.compile(row[0].strip(), re.IGNORECASE)
        except re.error as exc:
            raise SourceFileError(
                source,
                f"the pattern {row[0]!r} is not a regular expression ({exc})",
                line=line,
                hint="escape special characters such as ( ) . | with a backslash",
            ) from exc
        plan = row[2].strip() if len(row) > 2 else ""
        rules.append(Rule(pattern, row[1].strip(), plan, f"{source}:{line}"))
    return rules


@lru_cache(maxsize=1)
def bundled_rules() -> tuple[Rule, ...]:
    resource = files("payerbrief") / "data" / FILE_NAME
    return tuple(parse_rules(resource.read_text(encoding="utf-8"), FILE_NAME))


@lru_cache(maxsize=8)
def _user_rules(path: Path, modified: int) -> tuple[Rule, ...]:
    return tuple(parse_rules(path.read_text(encoding="utf-8"), path))


def rules(home: Path | None = None) -> list[Rule]:
    """The rules in force: those in `home`/payer_families.csv first, then the bundled."""
    own: tuple[Rule, ...] = ()
    if home is not None:
        path = Path(home) / FILE_NAME
        if path.is_file():
            own = _user_rules(path, path.stat().st_mtime_ns)
    return [*own, *bundled_rules()]


def payer_family(reporting_entity_name: str, home: Path | None = None) -> PayerFamily:
    """The payer family and plan of a reporting entity name.

    `home` is the warehouse home whose own `payer_families.csv`, if any,
    takes precedence over the bundled rules.
    """
    name = clean_name(reporting_entity_name)
    if not name:
        return PayerFamily("unknown", "unknown")
    for rule in rules(home):
        if rule.pattern.search(name):
            return PayerFamily(rule.family, rule.plan or name)
    return PayerFamily(name, name)
