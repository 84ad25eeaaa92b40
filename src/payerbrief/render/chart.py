"""The Medicare amounts chart: bar geometry computed here, drawn by a template.

The chart shows the national fee-schedule amount of each part (global, 26, TC)
outside and in a facility, and the range across localities of the global part.
Only geometry and labels are computed here; the HTML template draws the SVG,
so every label (locality names come from the GPCI file) passes through Jinja's
autoescaping like any other text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from payerbrief.brief.model import Section

SETTINGS = (("non_facility", "non-facility"), ("facility", "facility"))

# Layout in SVG user units: label column, plot area, value column.
LABEL_WIDTH = 190
PLOT_WIDTH = 300
VALUE_WIDTH = 190
ROW_HEIGHT = 24
TOP = 8
AXIS_HEIGHT = 28


@dataclass(frozen=True)
class Bar:
    """One national amount: a part in a setting."""

    label: str
    setting: str
    text: str
    y: float
    width: float


@dataclass(frozen=True)
class Span:
    """The range of one setting's amount across localities."""

    label: str
    setting: str
    text: str
    y: float
    x1: float
    x2: float


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    code: str
    title: str
    description: str
    width: int
    height: int
    plot_left: int
    plot_width: int
    axis_y: float
    bars: tuple[Bar, ...]
    spans: tuple[Span, ...]
    ticks: tuple[Tick, ...]
    # The chart's text alternative, a table: label, non-facility, facility.
    rows: tuple[tuple[str, str, str], ...]


def money(value: float | None) -> str:
    return "NA" if value is None else f"${value:,.2f}"


def _nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)


def _place(row: dict[str, Any]) -> str:
    return f"{str(row['name']).title()}, {row['state']}"


def medicare_chart(code: str, payers: Section) -> Chart | None:
    """The chart of a brief's payer section, or None when Medicare has no amount."""
    national = payers.facts["medicare_national"]
    if not national.present:
        return None
    localities = payers.facts["medicare_localities"]
    parts: list[dict[str, Any]] = national.value
    spans: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
    if localities.present:
        rows = localities.value["rows"]
        for key, words in SETTINGS:
            priced = [r for r in rows if r[key] is not None]
            if priced:
                low = min(priced, key=lambda r: r[key])
                high = max(priced, key=lambda r: r[key])
                spans.append((key, words, low, high))

    values = [r[k] for r in parts for k, _ in SETTINGS if r[k] is not None]
    values += [high[key] for key, _, _, high in spans]
    top = _nice_max(max(values, default=0.0))

    def x(value: float) -> float:
        return round(LABEL_WIDTH + PLOT_WIDTH * value / top, 1)

    bars: list[Bar] = []
    table: list[tuple[str, str, str]] = []
    y = float(TOP)
    for row in parts:
        for key, words in SETTINGS:
            value = row[key]
            width = 0.0 if value is None else x(value) - LABEL_WIDTH
            bars.append(Bar(f"{row['part']}, {words}", key, money(value), y, width))
            y += ROW_HEIGHT
        table.append(
            (
                f"National, {row['part']}",
                money(row["non_facility"]),
                money(row["facility"]),
            )
        )

    drawn: list[Span] = []
    count = localities.value["count"] if localities.present else 0
    part = localities.value["part"] if localities.present else ""
    for key, words, low, high in spans:
        text = f"{money(low[key])} to {money(high[key])}"
        label = f"{count} localities, {words}"
        drawn.append(Span(label, key, text, y, x(low[key]), x(high[key])))
        y += ROW_HEIGHT
    if spans:
        by_key = {key: (low, high) for key, _, low, high in spans}
        for which, index in (("Lowest", 0), ("Highest", 1)):
            cells = []
            for key, _ in SETTINGS:
                if key in by_key:
                    row = by_key[key][index]
                    cells.append(f"{money(row[key])} ({_place(row)})")
                else:
                    cells.append("NA")
            table.append((f"{which} of {count} localities, {part}", cells[0], cells[1]))

    ticks = tuple(Tick(x(top * i / 4), money(top * i / 4)) for i in range(5))
    description = (
        f"National Medicare fee-schedule amounts for {code} by part, outside and in "
        "a facility"
        + (f", and the range across {count} localities" if spans else "")
        + ". The same figures are in the table below."
    )
    return Chart(
        code=code,
        title=f"Medicare amounts for {code}, in dollars",
        description=description,
        width=LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH,
        height=int(y) + AXIS_HEIGHT,
        plot_left=LABEL_WIDTH,
        plot_width=PLOT_WIDTH,
        axis_y=y + 4,
        bars=tuple(bars),
        spans=tuple(drawn),
        ticks=ticks,
        rows=tuple(table),
    )
