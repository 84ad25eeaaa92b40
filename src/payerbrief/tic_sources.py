"""What `payerbrief sources` says of each loaded payer file."""

from __future__ import annotations

from dataclasses import dataclass

from payerbrief.sources.tic.payers import payer_family
from payerbrief.store.warehouse import Warehouse

_FILES = """
SELECT m.load_id, m.file_name, m.rows_loaded, m.rows_rejected,
       f.reporting_entity_name, f.plan_name, f.version, f.last_updated_on,
       (SELECT count(DISTINCT r.billing_code) FROM tic_rate r
        WHERE r.load_id = m.load_id) AS codes
FROM manifest m JOIN tic_file f USING (load_id)
WHERE m.kind = 'tic-in-network'
ORDER BY f.reporting_entity_name, m.file_name
"""


@dataclass(frozen=True)
class PayerFile:
    file_name: str
    payer: str
    plan: str
    version: str
    last_updated_on: str
    codes: int
    rates: int
    rejected: int


def payer_files(warehouse: Warehouse) -> list[PayerFile]:
    """Each loaded in-network file with its payer family, plan and counts."""
    if not warehouse.has_table("tic_file"):
        return []
    files = []
    for row in warehouse.rows(_FILES):
        family = payer_family(row["reporting_entity_name"] or "", warehouse.home)
        payer = family.family
        if family.plan and family.plan != family.family:
            payer = f"{family.family} ({family.plan})"
        files.append(
            PayerFile(
                row["file_name"],
                payer,
                row["plan_name"] or "-",
                row["version"] or "-",
                row["last_updated_on"] or "-",
                row["codes"],
                row["rows_loaded"],
                row["rows_rejected"],
            )
        )
    return files
