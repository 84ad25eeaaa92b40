"""The document model of a brief: sections of facts, prose and tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from payerbrief.facts.model import Fact, FactSet, SourceRef, State


@dataclass(frozen=True)
class Table:
    """A table whose every cell was taken from a fact of the section."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "caption": self.caption,
            "columns": list(self.columns),
            "rows": [list(r) for r in self.rows],
        }


@dataclass
class Section:
    key: str
    title: str
    facts: FactSet = field(default_factory=FactSet)
    prose: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    @property
    def state(self) -> State:
        """Present when any fact is; otherwise the state of the first fact."""
        states = [f.state for _, f in self.facts.items()]
        if State.PRESENT in states:
            return State.PRESENT
        return states[0] if states else State.NOT_AVAILABLE

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "state": self.state.value,
            "facts": {name: fact.to_dict() for name, fact in self.facts.items()},
            "prose": self.prose,
            "tables": [t.to_dict() for t in self.tables],
        }


@dataclass
class Brief:
    code: str
    system: str
    title: str
    sections: list[Section]
    sources: list[SourceRef]
    notices: list[str]

    def section(self, key: str) -> Section:
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)

    def facts(self) -> list[tuple[str, Fact]]:
        return [
            (f"{s.key}.{name}", fact)
            for s in self.sections
            for name, fact in s.facts.items()
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "code_system": self.system,
            "title": self.title,
            "sections": [s.to_dict() for s in self.sections],
            "sources": [s.to_dict() for s in self.sources],
            "notices": self.notices,
        }
