"""A brief as Markdown: the publication as text."""

from __future__ import annotations

from payerbrief.brief.model import Brief, Table


def _cell(text: str) -> str:
    # Cells come from source files: a pipe or line break would split the table.
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(table: Table) -> list[str]:
    lines = [f"**{table.caption}**", ""]
    lines.append("| " + " | ".join(table.columns) + " |")
    lines.append("|" + "|".join("---" for _ in table.columns) + "|")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return lines + [""]


def render_markdown(brief: Brief) -> str:
    lines = [f"# {brief.title}", ""]
    for number, section in enumerate(brief.sections, start=1):
        lines += [f"## {number}. {section.title}", ""]
        for paragraph in section.prose:
            lines += [paragraph, ""]
        for table in section.tables:
            lines += _table(table)
    if brief.notices:
        lines += ["---", ""]
        lines += [f"> {line}" for n in brief.notices for line in n.splitlines()]
        lines.append("")
    return "\n".join(lines)
