"""A fact is one value with its state and its source.

The four states are the only ones a reader of a brief ever sees: a value
(present), a value that cannot exist (not applicable), a value that could exist
but is in no loaded file (not available), and a value too thinly supported to
publish (withheld). A non-present fact carries the plain-words reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from payerbrief.store.warehouse import ManifestEntry


class State(StrEnum):
    PRESENT = "present"
    NOT_APPLICABLE = "not applicable"
    NOT_AVAILABLE = "not available"
    WITHHELD = "withheld"


@dataclass(frozen=True)
class SourceRef:
    """The loaded file a fact came from, as the brief cites it."""

    load_id: str
    kind: str
    file_name: str
    publisher: str
    release: str
    as_of: date | None
    sha256: str

    @classmethod
    def of(cls, entry: ManifestEntry) -> SourceRef:
        return cls(
            entry.load_id,
            entry.kind,
            entry.file_name,
            entry.publisher,
            entry.release,
            entry.as_of,
            entry.sha256,
        )

    @property
    def label(self) -> str:
        dated = f", {self.as_of.isoformat()}" if self.as_of else ""
        return f"{self.publisher}, {self.file_name} ({self.release}{dated})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "load_id": self.load_id,
            "kind": self.kind,
            "file_name": self.file_name,
            "publisher": self.publisher,
            "release": self.release,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Fact:
    """One value of a brief. `value` is JSON-shaped: str, number, bool, list, dict."""

    state: State
    value: Any = None
    sources: tuple[SourceRef, ...] = ()
    reason: str = ""

    @property
    def present(self) -> bool:
        return self.state is State.PRESENT

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"state": self.state.value}
        if self.present:
            data["value"] = self.value
        else:
            data["reason"] = self.reason
        data["sources"] = [s.load_id for s in self.sources]
        return data


def present(value: Any, *sources: SourceRef) -> Fact:
    return Fact(State.PRESENT, value, tuple(sources))


def not_applicable(reason: str, *sources: SourceRef) -> Fact:
    return Fact(State.NOT_APPLICABLE, None, tuple(sources), reason)


def not_available(reason: str, *sources: SourceRef) -> Fact:
    return Fact(State.NOT_AVAILABLE, None, tuple(sources), reason)


def withheld(reason: str, *sources: SourceRef) -> Fact:
    return Fact(State.WITHHELD, None, tuple(sources), reason)


@dataclass
class FactSet:
    """The facts of one section, in the order they were added."""

    facts: dict[str, Fact] = field(default_factory=dict)

    def __setitem__(self, name: str, fact: Fact) -> None:
        self.facts[name] = fact

    def __getitem__(self, name: str) -> Fact:
        return self.facts[name]

    def __contains__(self, name: object) -> bool:
        return name in self.facts

    def items(self) -> list[tuple[str, Fact]]:
        return list(self.facts.items())
