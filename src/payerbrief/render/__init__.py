"""Renderers: a brief as Markdown or JSON."""

from payerbrief.render.json import render_json
from payerbrief.render.markdown import render_markdown

FORMATS = {"md": render_markdown, "json": render_json}

__all__ = ["FORMATS", "render_json", "render_markdown"]
