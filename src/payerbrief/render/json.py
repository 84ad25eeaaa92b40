"""A brief as JSON: every fact with its state and sources, for machines."""

from __future__ import annotations

import msgspec

from payerbrief.brief.model import Brief


def render_json(brief: Brief) -> str:
    # msgspec encodes in C; `format` adds the indentation people read it with.
    encoded = msgspec.json.encode(brief.to_dict())
    return msgspec.json.format(encoded, indent=2).decode("utf-8") + "\n"
