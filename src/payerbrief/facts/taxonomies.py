"""Provider taxonomies of the providers that hold rates for a code.

Payer files name provider groups by NPI; NPPES gives each NPI its primary
NUCC taxonomy; NUCC names it. Each NPI's current NPPES row comes from the
newest monthly file with the weekly updates after it applied on top
(`current_providers_sql`); NPIs that fail their check digit are not trusted.
"""

from __future__ import annotations

import duckdb

from payerbrief.codes import BillingCode
from payerbrief.facts.model import Fact, not_available, present
from payerbrief.facts.reference import Reference
from payerbrief.sources.nppes import current_providers_sql
from payerbrief.store.warehouse import Warehouse

TOP = 10

# One row per code and taxonomy: distinct NPIs and rates, over every loaded
# in-network file. Rates count once per provider group they name.
_BUILD = """
WITH nppes AS (
    SELECT npi, primary_taxonomy FROM ({current}) WHERE npi_valid
),
rates AS (
    SELECT load_id, billing_code AS code, unnest(provider_refs) AS ref
    FROM tic_rate
),
groups AS (
    SELECT load_id, provider_group_id AS ref, unnest(npi) AS npi
    FROM tic_provider_group WHERE npi IS NOT NULL
),
linked AS (
    SELECT r.code, CAST(g.npi AS VARCHAR) AS npi
    FROM rates r JOIN groups g USING (load_id, ref)
)
SELECT l.code, coalesce(p.primary_taxonomy, 'not in NPPES') AS taxonomy,
       count(DISTINCT l.npi) AS providers, count(*) AS rates
FROM linked l LEFT JOIN nppes p USING (npi)
GROUP BY ALL
"""


def build_code_taxonomy(warehouse: Warehouse, db: duckdb.DuckDBPyConnection) -> bool:
    """Fill `code_taxonomy` in the reference's database; False when it cannot be."""
    needed = ("nppes_provider", "tic_rate", "tic_provider_group")
    if not all(warehouse.has_table(t) for t in needed):
        return False
    query = _BUILD.format(current=current_providers_sql())
    rows = warehouse.db.sql(query).to_arrow_table()
    db.register("incoming", rows)
    db.execute("CREATE TABLE code_taxonomy AS SELECT * FROM incoming ORDER BY code")
    db.unregister("incoming")
    return True


def provider_taxonomies(ref: Reference, code: BillingCode) -> Fact:
    nppes = ref.set_sources("nppes")
    payer_files = [f.entry for f in ref.rate_files.values()]
    if not payer_files:
        return not_available(
            f"No payer in-network file loaded names providers for {code.code}"
        )
    if not nppes:
        return not_available("No NPPES file loaded to give the providers' taxonomies")
    rows = ref.lookup(
        "SELECT c.taxonomy, c.providers, c.rates, t.classification, "
        "t.specialization, t.display_name FROM code_taxonomy c "
        "LEFT JOIN nucc_taxonomy t ON t.code = c.taxonomy "
        "WHERE c.code = ? ORDER BY c.providers DESC, c.rates DESC, c.taxonomy",
        [code.code],
    )
    if not rows:
        return not_available(
            f"The loaded payer files name no NPIs for {code.code} (provider "
            "references that were not fetched name none)",
            *nppes,
        )
    providers = sum(r["providers"] for r in rows)
    rates = sum(r["rates"] for r in rows)
    return present(
        {
            "providers": providers,
            "rates": rates,
            "taxonomies": [
                {
                    "taxonomy": r["taxonomy"],
                    "name": r["display_name"] or r["classification"],
                    "providers": r["providers"],
                    "rates": r["rates"],
                    "provider_share": round(100 * r["providers"] / providers, 1),
                    "rate_share": round(100 * r["rates"] / rates, 1),
                }
                for r in rows[:TOP]
            ],
        },
        *nppes,
        *ref.set_sources("nucc"),
    )
