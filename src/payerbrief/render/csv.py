"""The numbers behind every table of a brief, as one CSV in long form.

One row per table cell, with the columns `section,table,row,column,value`:
`section` is the section's key, `table` the table's caption, `row` counts the
table's rows from 1 and every cell of a row (its label included) shares it, so
grouping by (section, table, row) rebuilds each table. Money is written as
plain dollars ("1234.50"), without the `$` and thousands separators the
publication prints; "NA" marks a setting the fee schedule does not price.
Besides the brief's own tables, the CSV carries the Medicare amounts of every
locality, the figures behind the locality range the brief states.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from payerbrief.brief.model import Brief, Section, Table

COLUMNS = ("section", "table", "row", "column", "value")

_MONEY = re.compile(r"^\$(\d{1,3}(?:,\d{3})*|\d+)\.(\d{2})$")


def plain(cell: str) -> str:
    """A money cell as plain dollars; any other cell as it is."""
    match = _MONEY.match(cell)
    if match is None:
        return cell
    return f"{match.group(1).replace(',', '')}.{match.group(2)}"


def _amount(value: float | None) -> str:
    return "NA" if value is None else f"{value:.2f}"


def locality_table(section: Section) -> Table | None:
    """Every locality's Medicare amount, from the payer section's facts."""
    if "medicare_localities" not in section.facts:
        return None
    fact = section.facts["medicare_localities"]
    if not fact.present:
        return None
    return Table(
        f"Medicare amounts by locality ({fact.value['part']})",
        ("Locality", "State", "Name", "Non-facility", "Facility"),
        tuple(
            (
                str(r["locality"]),
                str(r["state"]),
                str(r["name"]),
                _amount(r["non_facility"]),
                _amount(r["facility"]),
            )
            for r in fact.value["rows"]
        ),
    )


def pairings_table(section: Section) -> Table | None:
    """Every ICD-10-CM pairing of the coding section (the page shows the top ones)."""
    fact = section.facts.facts.get("icd10_pairings")
    if fact is None or not fact.present:
        return None
    rows = [
        (
            str(r["article_id"]),
            str(r["group"]),
            r["code"],
            r["description"] or "",
            "covered",
        )
        for r in fact.value["covered"]
    ] + [
        (
            str(r["article_id"]),
            str(r["group"]),
            r["code"],
            r["description"] or "",
            "not covered",
        )
        for r in fact.value["noncovered"]
    ]
    columns = ("Article", "Group", "ICD-10-CM code", "Description", "Coverage")
    return Table("All ICD-10-CM pairings", columns, tuple(rows))


def tables(brief: Brief) -> Iterator[tuple[str, Table]]:
    """The brief's tables with their section's key, then the full lists the
    pages abridge: every ICD-10-CM pairing and every locality's amounts."""
    for section in brief.sections:
        for table in section.tables:
            yield section.key, table
        if section.key == "coding":
            pairings = pairings_table(section)
            if pairings is not None:
                yield section.key, pairings
        if section.key == "payers":
            extra = locality_table(section)
            if extra is not None:
                yield section.key, extra


def render_csv(brief: Brief) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for key, table in tables(brief):
        for number, row in enumerate(table.rows, start=1):
            for column, cell in zip(table.columns, row, strict=True):
                writer.writerow((key, table.caption, number, column, plain(cell)))
    return buffer.getvalue()
