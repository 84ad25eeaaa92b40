"""Broken facts: what `payerbrief site --strict` refuses to publish.

A brief has a broken fact when its prose holds a number that the grounding
checker finds in no fact, when a fact is in none of the four states, or when a
fact that is not present gives no reason for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from payerbrief.brief.grounding import fact_numbers, numbers_in
from payerbrief.brief.model import Brief
from payerbrief.errors import PayerbriefError
from payerbrief.facts.model import State


@dataclass(frozen=True)
class Problem:
    code: str
    fact: str
    problem: str

    def __str__(self) -> str:
        return f"{self.code} {self.fact}: {self.problem}"


def broken_facts(brief: Brief) -> list[Problem]:
    problems = []
    for name, fact in brief.facts():
        if not isinstance(fact.state, State):
            problems.append(Problem(brief.code, name, f"unknown state {fact.state!r}"))
        elif fact.state is not State.PRESENT and not fact.reason.strip():
            problems.append(
                Problem(brief.code, name, f"{fact.state.value} with no reason given")
            )
    # The grounding checker's own rules, applied one section at a time so the
    # message names the section whose prose holds the stray number.
    allowed = fact_numbers(brief)
    for section in brief.sections:
        stray = {n for p in section.prose for n in numbers_in(p)} - allowed
        if stray:
            numbers = ", ".join(str(n) for n in sorted(stray))
            problems.append(
                Problem(
                    brief.code,
                    f"{section.key} prose",
                    f"numbers that are no fact: {numbers}",
                )
            )
    return problems


class BrokenFactsError(PayerbriefError):
    """A strict site build found briefs with broken facts."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        codes = sorted({p.code for p in self.problems})
        shown = "\n".join(f"  {p}" for p in self.problems[:20])
        more = len(self.problems) - 20
        if more > 0:
            shown += f"\n  ... and {more} more"
        self.hint = "fix the facts or templates named above, or build without --strict"
        super().__init__(
            f"{len(codes)} briefs have broken facts, so the strict build stops:\n{shown}"
        )
