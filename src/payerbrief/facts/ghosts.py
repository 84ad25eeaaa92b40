"""Rates that look like ghosts or placeholders, and how each kind is treated.

Stored summaries already count the flags known from one file alone (see
`summaries.py`). What needs the whole code is decided here: a rate far outside
the code's distribution across every loaded payer, or far from Medicare's
amount. Such rates are set apart from the statistics and counted, never
dropped unseen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from payerbrief.facts.sketch import Dist

# How far from the quartiles a rate may lie, in interquartile ranges; the
# range counts as at least half the median, so a code whose rates are nearly
# all one fee-schedule amount does not flag every other rate.
IQR_REACH = 10.0
IQR_FLOOR = 0.5
# Rates above 100 times or below 1% of the matching Medicare amount.
MEDICARE_HIGH = 100.0
MEDICARE_LOW = 0.01

# Each flag a brief reports: its words, and what was done with such rates.
FLAGS: dict[str, tuple[str, str]] = {
    "zero": ("$0 placeholders", "left out of the statistics"),
    "cent": ("one-cent placeholders", "left out of the statistics"),
    "sentinel": (
        "sentinel values (99999, 999999 and the like)",
        "left out of the statistics",
    ),
    "duplicates": (
        "exact duplicates of a listed rate",
        "counted once",
    ),
    "blanket_rows": (
        "one rate for every provider group in its file",
        "counted once per file",
    ),
    "plan_repeats": (
        "rates repeated exactly in another plan's file",
        "counted once",
    ),
    "outlier_low": ("rates far below the code's others or Medicare", "set apart"),
    "outlier_high": ("rates far above the code's others or Medicare", "set apart"),
    "conflict_rows": (
        "rates among several prices for one provider, code, class and place",
        "kept in the statistics",
    ),
}


@dataclass(frozen=True)
class Fences:
    """The range of rates kept in the statistics, and why its ends are there."""

    low: float
    high: float
    basis: dict[str, Any]

    def keeps(self, dist: Dist) -> Dist:
        return dist.within(self.low, self.high)


def fences(pooled: Dist, medicare: list[float]) -> Fences:
    """Fences from the code's rates in dollars across payers, and Medicare amounts."""
    low, high = -math.inf, math.inf
    basis: dict[str, Any] = {}
    if pooled.n >= 4:
        q1, median, q3 = pooled.quantiles((0.25, 0.5, 0.75))
        reach = IQR_REACH * max(q3 - q1, IQR_FLOOR * median)
        low, high = q1 - reach, q3 + reach
        basis["quartiles"] = [round(q1, 2), round(q3, 2)]
    if medicare:
        low = max(low, MEDICARE_LOW * min(medicare))
        high = min(high, MEDICARE_HIGH * max(medicare))
        basis["medicare"] = [min(medicare), max(medicare)]
    return Fences(low, high, basis)


def flag_rows(counts: dict[str, int]) -> list[dict[str, Any]]:
    """The flags with a count, in the order `FLAGS` lists them."""
    rows = []
    for key, (words, treatment) in FLAGS.items():
        if counts.get(key):
            rows.append(
                {
                    "flag": key,
                    "what": words,
                    "rates": counts[key],
                    "treatment": treatment,
                }
            )
    return rows
