"""Search by code or words: the same rules in Python (API) and JavaScript (site).

A query matches a code exactly (best), as a prefix of the code, or when every
word of the query occurs in the code's title or descriptor; matches are ordered
by that rank, then by code. `assets/search.js` implements the same rules over
the index `index_script` writes, so the site and the API answer alike.
"""

from __future__ import annotations

import bisect
import re

import msgspec

from payerbrief.site.catalog import Catalog, Entry

_WORD = re.compile(r"[a-z0-9]+")

GLOBAL_NAME = "PAYERBRIEF_INDEX"


def search(catalog: Catalog, text: str, limit: int) -> tuple[int, list[Entry]]:
    """The number of matches, and the best `limit` of them."""
    query = text.strip().lower()
    words = _WORD.findall(query)
    if not words:
        return 0, []
    # Codes that start with the query (the exact code first), by bisection.
    keys = catalog.sorted_keys
    at = bisect.bisect_left(keys, query)
    prefixed = []
    while at < len(keys) and keys[at].startswith(query):
        prefixed.append(catalog.sorted_entries[at])
        at += 1
    # Then codes whose title or descriptor holds every word, in code order.
    haystacks = catalog.haystacks
    hits = [i for i, haystack in enumerate(haystacks) if words[0] in haystack]
    for word in words[1:]:
        hits = [i for i in hits if word in haystacks[i]]
    seen = {e.code for e in prefixed}
    worded = [catalog.entries[i] for i in hits if catalog.entries[i].code not in seen]
    worded.sort(key=lambda e: e.code)
    found = prefixed + worded
    return len(found), found[:limit]


def index_script(catalog: Catalog) -> str:
    """The search index as a script assigning a global, so file:// pages can load it."""
    data = {
        "families": {f.slug: f.name for f, _ in catalog.families},
        "codes": [[e.code, e.title, e.text, e.family.slug] for e in catalog.entries],
    }
    return f"window.{GLOBAL_NAME} = {msgspec.json.encode(data).decode('utf-8')};\n"
