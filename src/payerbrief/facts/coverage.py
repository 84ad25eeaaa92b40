"""ICD-10-CM pairings from Medicare coverage articles.

An article lists the billing codes it applies to (`article_x_hcpc_code`) and,
in numbered groups, the diagnosis codes that support medical necessity
(`article_x_icd10_covered`), each group introduced by a paragraph saying which
billing codes it goes with. Codes and groups are numbered independently, so a
brief shows every covered group of every article that lists the code, with
its paragraph, and keeps non-covered diagnoses apart. Only the newest version
of each article counts.
"""

from __future__ import annotations

from typing import Any

from payerbrief.codes import BillingCode
from payerbrief.facts.model import Fact, not_available, present
from payerbrief.facts.reference import Reference

TOP_CODES = 10

_ARTICLES = """
WITH newest AS (
    SELECT article_id, max(article_version) AS article_version
    FROM mcd_article_code WHERE code = $code GROUP BY article_id
)
SELECT a.article_id, a.article_version, a.display_id, a.title, a.status,
       a.effective_date
FROM newest JOIN mcd_article a USING (article_id, article_version)
ORDER BY a.article_id
"""

_DIAGNOSES = """
WITH newest AS (
    SELECT article_id, max(article_version) AS article_version
    FROM mcd_article_code WHERE code = $code GROUP BY article_id
)
SELECT d.article_id, d.icd10_group, d.icd10_code,
       coalesce(i.description, d.description) AS description,
       i.description IS NOT NULL AS cdc_description
FROM newest JOIN {table} d USING (article_id, article_version)
LEFT JOIN {icd10} i ON i.code = d.icd10_code
ORDER BY d.article_id, d.icd10_group, d.icd10_code
"""

_GROUPS = """
WITH newest AS (
    SELECT article_id, max(article_version) AS article_version
    FROM mcd_article_code WHERE code = $code GROUP BY article_id
)
SELECT g.article_id, g.icd10_group, g.paragraph
FROM newest JOIN mcd_icd10_covered_group g USING (article_id, article_version)
ORDER BY g.article_id, g.icd10_group
"""

_CONTRACTORS = """
WITH newest AS (
    SELECT article_id, max(article_version) AS article_version
    FROM mcd_article_code WHERE code = $code GROUP BY article_id
)
SELECT c.article_id, string_agg(DISTINCT coalesce(c.contractor_name,
       'contractor ' || c.contractor_id), ', ') AS contractors
FROM newest JOIN mcd_article_contractor c USING (article_id, article_version)
GROUP BY c.article_id
"""


def icd10_pairings(ref: Reference, code: BillingCode) -> Fact:
    sources = ref.set_sources("mcd-article")
    if not sources:
        return not_available("No Medicare coverage article file loaded")
    params = {"code": code.code}
    articles = ref.lookup(_ARTICLES, params)
    if not articles:
        return not_available(
            f"No loaded Medicare coverage article ({sources[0].release}) lists "
            f"{code.code}",
            *sources,
        )
    icd10 = (
        "icd10cm"
        if ref.set_sources("icd10cm")
        else "(SELECT NULL AS code, NULL AS description)"
    )
    covered = ref.lookup(
        _DIAGNOSES.format(table="mcd_icd10_covered", icd10=icd10), params
    )
    noncovered = ref.lookup(
        _DIAGNOSES.format(table="mcd_icd10_noncovered", icd10=icd10), params
    )
    groups = ref.lookup(_GROUPS, params)
    contractors = {
        r["article_id"]: r["contractors"] for r in ref.lookup(_CONTRACTORS, params)
    }
    used = [*sources, *ref.set_sources("icd10cm")]
    return present(
        {
            "articles": [_article(a, groups, covered, contractors) for a in articles],
            "covered_count": len({r["icd10_code"] for r in covered}),
            "noncovered_count": len({r["icd10_code"] for r in noncovered}),
            "top_codes": _top_codes(covered),
            "covered": [_plain(r) for r in covered],
            "noncovered": [_plain(r) for r in noncovered],
        },
        *used,
    )


def _article(
    article: dict[str, Any],
    groups: list[dict[str, Any]],
    covered: list[dict[str, Any]],
    contractors: dict[int, str],
) -> dict[str, Any]:
    article_id = article["article_id"]
    return {
        "id": article["display_id"],
        "version": article["article_version"],
        "title": article["title"],
        "status": article["status"],
        "contractors": contractors.get(article_id),
        "groups": [
            {
                "group": g["icd10_group"],
                "paragraph": g["paragraph"],
                "codes": sum(
                    1
                    for r in covered
                    if r["article_id"] == article_id
                    and r["icd10_group"] == g["icd10_group"]
                ),
            }
            for g in groups
            if g["article_id"] == article_id
        ],
    }


def _top_codes(covered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Diagnoses listed by the most articles (then in code order)."""
    counts: dict[str, dict[str, Any]] = {}
    for row in covered:
        entry = counts.setdefault(
            row["icd10_code"],
            {
                "code": row["icd10_code"],
                "description": row["description"],
                "articles": set(),
            },
        )
        entry["articles"].add(row["article_id"])
    ranked = sorted(counts.values(), key=lambda e: (-len(e["articles"]), e["code"]))
    return [
        {
            "code": e["code"],
            "description": e["description"],
            "articles": len(e["articles"]),
        }
        for e in ranked[:TOP_CODES]
    ]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "article_id": row["article_id"],
        "group": row["icd10_group"],
        "code": row["icd10_code"],
        "description": row["description"],
        "description_source": "ICD-10-CM (CDC)"
        if row["cdc_description"]
        else "article",
    }
