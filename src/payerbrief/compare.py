"""Compare the negotiated rates of one code across payers, plans, classes or places.

The function behind `payerbrief compare`: one row per value of the chosen
dimension, with the same statistics and Medicare percent the brief shows.
"""

from __future__ import annotations

from payerbrief.brief.model import Table
from payerbrief.codes import BillingCode
from payerbrief.errors import PayerbriefError
from payerbrief.facts.payment import medicare_national
from payerbrief.facts.rates import breakdown
from payerbrief.facts.reference import Reference

# Dimension names on the command line, and their keys in the rate facts.
DIMENSIONS = {
    "payer": "payer",
    "plan": "plan",
    "billing-class": "billing_class",
    "place-of-service": "place_of_service",
}
COLUMNS = ("Rates", "Min", "P25", "Median", "P75", "Max", "Median % of Medicare")


class UnknownDimensionError(PayerbriefError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"unknown dimension {name!r}\nHint: choose one of: {', '.join(DIMENSIONS)}"
        )


def _money(value: float) -> str:
    return f"${value:,.2f}"


def compare(ref: Reference, code: BillingCode, by: str) -> Table:
    """The code's dollar rates, one row per value of dimension `by`."""
    if by not in DIMENSIONS:
        raise UnknownDimensionError(by)
    rows = breakdown(ref, code, medicare_national(ref, code), DIMENSIONS[by])
    cells = []
    for row in rows:
        if row["withheld"]:
            stats: tuple[str, ...] = ("withheld",) * 5
        else:
            stats = tuple(
                _money(row[k]) for k in ("min", "p25", "median", "p75", "max")
            )
        pct = row.get("median_pct")
        cells.append(
            (row["value"], str(row["n"]), *stats, "" if pct is None else f"{pct}%")
        )
    caption = f"Negotiated dollar rates for {code.code} by {by.replace('-', ' ')}"
    return Table(caption, (by.replace("-", " ").capitalize(), *COLUMNS), tuple(cells))


def format_table(table: Table) -> str:
    """A table as aligned text for a terminal: text left, numbers right."""
    if not table.rows:
        return (
            f"{table.caption}\nNo loaded payer file has dollar rates for this code.\n"
        )
    widths = [
        max(len(c), *(len(r[i]) for r in table.rows))
        for i, c in enumerate(table.columns)
    ]

    def line(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    lines = [table.caption, line(table.columns)]
    lines.append("  ".join("-" * w for w in widths))
    lines += [line(r) for r in table.rows]
    return "\n".join(lines) + "\n"
