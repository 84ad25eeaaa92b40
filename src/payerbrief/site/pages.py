"""The site's pages other than briefs: index, families, payers, sources, not found.

The static site writes these to files and the web app renders them on request;
both call these functions, so the two publish the same pages.
"""

from __future__ import annotations

from collections.abc import Sequence

from payerbrief.render.html import Links, render_template
from payerbrief.site.catalog import Catalog
from payerbrief.store.warehouse import ManifestEntry


def index_page(catalog: Catalog, sources: Sequence[ManifestEntry], links: Links) -> str:
    return render_template(
        "index.html.j2", catalog=catalog, sources=sources, links=links
    )


def families_page(catalog: Catalog, links: Links) -> str:
    return render_template("families.html.j2", catalog=catalog, links=links)


def family_page(catalog: Catalog, family_slug: str, links: Links) -> str | None:
    group = catalog.family(family_slug)
    if group is None:
        return None
    family, entries = group
    return render_template(
        "family.html.j2", family=family, entries=entries, links=links
    )


def payers_page(catalog: Catalog, links: Links) -> str:
    return render_template("payers.html.j2", catalog=catalog, links=links)


def payer_page(catalog: Catalog, payer_slug: str, links: Links) -> str | None:
    payer = catalog.payer(payer_slug)
    if payer is None:
        return None
    groups = [
        (family, [e for e in entries if payer.name in e.payers])
        for family, entries in catalog.families
    ]
    return render_template(
        "payer.html.j2",
        payer=payer,
        catalog=catalog,
        groups=[(f, e) for f, e in groups if e],
        links=links,
    )


def sources_page(entries: Sequence[ManifestEntry], used: set[str], links: Links) -> str:
    return render_template("sources.html.j2", entries=entries, used=used, links=links)


def not_found_page(
    links: Links,
    message: str,
    *,
    heading: str = "Page not found",
    hint: str = "",
    suggestions: Sequence[str] = (),
) -> str:
    return render_template(
        "not_found.html.j2",
        links=links,
        heading=heading,
        message=message,
        hint=hint,
        suggestions=list(suggestions),
    )
