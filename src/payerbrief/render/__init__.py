"""Renderers: a brief as Markdown, HTML, JSON or CSV."""

from payerbrief.render.csv import render_csv
from payerbrief.render.html import render_html
from payerbrief.render.json import render_json
from payerbrief.render.markdown import render_markdown

FORMATS = {
    "md": render_markdown,
    "html": render_html,
    "json": render_json,
    "csv": render_csv,
}

__all__ = ["FORMATS", "render_csv", "render_html", "render_json", "render_markdown"]
