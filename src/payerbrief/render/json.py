"""A brief as JSON: every fact with its state and sources, for machines."""

from __future__ import annotations

import json

from payerbrief.brief.model import Brief


def render_json(brief: Brief) -> str:
    return json.dumps(brief.to_dict(), indent=2, ensure_ascii=False) + "\n"
