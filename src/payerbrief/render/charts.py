"""The payer rate chart: box plots per payer, Medicare amounts as reference lines.

Drawn offline by matplotlib (the `charts` extra) with the Agg backend, to SVG
for HTML pages and PNG beside a Markdown brief. Every number drawn is a fact of
the brief's payer section: the boxes are each payer's p25, median and p75 of
its dollar rates in one billing class, the whiskers p10 and p90, and the
lines the national Medicare amounts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from payerbrief.brief.model import Brief
from payerbrief.errors import PayerbriefError
from payerbrief.render.markdown import render_markdown

SETTINGS = (("non_facility", "non-facility", "--"), ("facility", "facility", ":"))


@dataclass(frozen=True)
class Box:
    label: str
    stats: dict[str, Any]


@dataclass(frozen=True)
class Line:
    label: str
    amount: float
    style: str


@dataclass(frozen=True)
class RateChart:
    code: str
    title: str
    boxes: tuple[Box, ...]
    lines: tuple[Line, ...]

    @property
    def alt(self) -> str:
        return (
            f"Negotiated rates for {self.code} by payer (p10, p25, median, p75, p90) "
            "with national Medicare amounts; the figures are in the tables"
        )


def rate_chart(brief: Brief) -> RateChart | None:
    """The chart's facts, or None when no payer has published dollar statistics."""
    facts = brief.section("payers").facts
    boxes = []
    for name, fact in facts.items():
        if not name.startswith("payer:") or not fact.present:
            continue
        for c in fact.value["by_class"]:
            if not c["dollars"]["withheld"]:
                label = f"{name.removeprefix('payer:')}\n{c['billing_class']}"
                boxes.append(Box(label, c["dollars"]))
    if not boxes:
        return None
    lines = []
    national = facts["medicare_national"]
    for row in national.value if national.present else []:
        for key, words, style in SETTINGS:
            if row[key] is not None:
                label = f"Medicare {row['part']}, {words}: ${row[key]:,.2f}"
                lines.append(Line(label, row[key], style))
    title = f"Negotiated rates for {brief.code}, in dollars"
    return RateChart(brief.code, title, tuple(boxes), tuple(lines))


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise PayerbriefError(
            "drawing rate charts needs matplotlib\n"
            "Hint: pip install 'payerbrief[charts]'"
        ) from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def draw(chart: RateChart, fmt: str) -> bytes:
    """The chart as SVG or PNG bytes."""
    plt = _pyplot()
    stats = [
        {
            "label": b.label,
            "whislo": b.stats["p10"],
            "q1": b.stats["p25"],
            "med": b.stats["median"],
            "q3": b.stats["p75"],
            "whishi": b.stats["p90"],
            "fliers": [],
        }
        for b in chart.boxes
    ]
    figure, axes = plt.subplots(figsize=(1.8 * len(stats) + 3.5, 4.2), dpi=100)
    axes.bxp(stats, showfliers=False)
    for line in chart.lines:
        axes.axhline(line.amount, linestyle=line.style, color="0.35", label=line.label)
    axes.set_title(chart.title)
    axes.set_ylabel("dollars (whiskers p10 to p90)")
    if chart.lines:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    figure.tight_layout()
    buffer = io.BytesIO()
    # No date and a fixed id salt: the same facts draw the same bytes.
    metadata = {"Date": None} if fmt == "svg" else {}
    plt.rcParams["svg.hashsalt"] = "payerbrief"
    figure.savefig(buffer, format=fmt, metadata=metadata, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def chart_file_name(code: str, fmt: str = "png") -> str:
    return f"{code}-rates.{fmt}"


def write_rates_chart(brief: Brief, folder: Path) -> list[Path]:
    """Write `CODE-rates.png` and `CODE-rates.svg` into `folder`, if there is a chart."""
    chart = rate_chart(brief)
    if chart is None:
        return []
    paths = []
    for fmt in ("png", "svg"):
        path = folder / chart_file_name(brief.code, fmt)
        path.write_bytes(draw(chart, fmt))
        paths.append(path)
    return paths


def chart_markdown(brief: Brief) -> str | None:
    """The Markdown image line linking the PNG beside the brief."""
    chart = rate_chart(brief)
    if chart is None:
        return None
    return f"![{chart.alt}]({chart_file_name(brief.code)})"


def render_markdown_with_chart(brief: Brief) -> str:
    """The Markdown brief with the chart linked at the end of the payer section."""
    text = render_markdown(brief)
    image = chart_markdown(brief)
    if image is None:
        return text
    number = [s.key for s in brief.sections].index("payers") + 2
    heading = f"\n## {number}. "
    at = text.find(heading)
    if at < 0:
        return text + "\n" + image + "\n"
    return text[:at] + "\n" + image + "\n" + text[at:]


def write_markdown_brief(brief: Brief, folder: Path) -> Path:
    """Write `CODE.md` with its chart beside it (`CODE-rates.png`, `.svg`)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{brief.code}.md"
    written = write_rates_chart(brief, folder)
    text = render_markdown_with_chart(brief) if written else render_markdown(brief)
    path.write_text(text, encoding="utf-8")
    return path
