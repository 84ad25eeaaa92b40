"""The static site: every brief as a page, browsing by family and payer, search."""

from payerbrief.site.build import (
    ReferenceSource,
    SiteResult,
    build_site,
    parse_codes,
    select_codes,
)

__all__ = [
    "ReferenceSource",
    "SiteResult",
    "build_site",
    "parse_codes",
    "select_codes",
]
