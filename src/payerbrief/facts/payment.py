"""Medicare and payer payment facts for one code."""

from __future__ import annotations

from typing import Any

from payerbrief.codes import BillingCode
from payerbrief.facts import indicators
from payerbrief.facts.medicare import Gpci, Rvus, amount, priced
from payerbrief.facts.model import (
    Fact,
    FactSet,
    SourceRef,
    not_applicable,
    not_available,
    present,
)
from payerbrief.facts.rates import PAYERS, rate_facts
from payerbrief.facts.reference import Reference

__all__ = ["PAYERS", "medicare_localities", "medicare_national", "payment_facts"]

UNPAID = {
    "B": "its payment is bundled into other services",
    "E": "it is excluded from the fee schedule by regulation",
    "G": "Medicare uses another code for it",
    "I": "Medicare uses another code for it",
    "M": "it is a measurement code with no payment",
    "N": "Medicare does not cover it",
    "P": "it gets no separate payment",
    "X": "it is excluded from the fee schedule by statute",
    "D": "the code is deleted",
    "F": "the code is deleted",
    "H": "the code is deleted",
}


def payment_facts(ref: Reference, code: BillingCode) -> FactSet:
    facts = FactSet()
    national = medicare_national(ref, code)
    facts["medicare_national"] = national
    facts["medicare_localities"] = medicare_localities(ref, code)
    for name, fact in rate_facts(ref, code, national).items():
        facts[name] = fact
    return facts


def base_row(ref: Reference, code: str) -> dict[str, Any] | None:
    rows = ref.pfs.get(code, [])
    return next((r for r in rows if not r["modifier"]), rows[0] if rows else None)


def _unpaid_reason(ref: Reference, code: BillingCode) -> tuple[Fact | None, SourceRef]:
    """A non-present fact when the fee schedule says it pays nothing for `code`."""
    pfs = ref.source("pfs-rvu")
    assert pfs is not None
    row = base_row(ref, code.code)
    assert row is not None
    status = row["status"]
    if code.is_tracking_code:
        reason = (
            f"{code.code} is a CPT Category II tracking code: Medicare pays nothing "
            f"for it (fee-schedule status {status}: "
            f"{indicators.in_words(indicators.STATUS, status)})"
        )
        return not_applicable(reason, pfs), pfs
    if status in UNPAID:
        reason = (
            f"Medicare pays nothing for {code.code} under the fee schedule: status "
            f"{status}, {UNPAID[status]}"
        )
        return not_applicable(reason, pfs), pfs
    if status == "J":
        reason = (
            f"{code.code} is an anesthesia service, paid from base units and time; "
            "no anesthesia base-unit file is loaded"
        )
        return not_available(reason, pfs), pfs
    if status == "C":
        reason = (
            f"each Medicare contractor prices {code.code} itself (status C); "
            "the fee schedule gives no national amount"
        )
        return not_available(reason, pfs), pfs
    return None, pfs


def _rvu_rows(ref: Reference, code: str) -> list[Rvus]:
    return [Rvus.of(r) for r in ref.pfs.get(code, [])]


def _pfs_missing(ref: Reference, code: BillingCode) -> Fact:
    entry = ref.entries.get("pfs-rvu")
    if entry is None:
        return not_available("No Medicare Physician Fee Schedule file loaded")
    return not_available(
        f"{code.code} is not in the loaded Medicare Physician Fee Schedule "
        f"({entry.release}); Medicare may pay it under another fee schedule, "
        "and none other is loaded",
        SourceRef.of(entry),
    )


def medicare_national(ref: Reference, code: BillingCode) -> Fact:
    if code.code not in ref.pfs:
        return _pfs_missing(ref, code)
    unpaid, pfs = _unpaid_reason(ref, code)
    if unpaid is not None:
        return unpaid
    rows = [r for r in _rvu_rows(ref, code.code) if priced(r)]
    if not rows:
        return not_available(
            f"the fee schedule ({pfs.release}) lists {code.code} with no RVUs", pfs
        )
    return present([_national_row(r) for r in rows], pfs)


def _national_row(rvus: Rvus) -> dict[str, Any]:
    return {
        "part": rvus.part,
        "modifier": rvus.modifier,
        "work_rvu": rvus.work,
        "non_facility_pe_rvu": rvus.nonfac_pe,
        "facility_pe_rvu": rvus.fac_pe,
        "mp_rvu": rvus.mp,
        "conversion_factor": rvus.conv_factor,
        "non_facility": None if rvus.nonfac_na else float(amount(rvus, facility=False)),
        "facility": None if rvus.fac_na else float(amount(rvus, facility=True)),
        "non_facility_na": rvus.nonfac_na,
        "facility_na": rvus.fac_na,
    }


def medicare_localities(ref: Reference, code: BillingCode) -> Fact:
    national = medicare_national(ref, code)
    if not national.present:
        return national
    gpci = ref.source("gpci")
    if gpci is None:
        return not_available("No Medicare GPCI file loaded")
    rows = [r for r in _rvu_rows(ref, code.code) if priced(r)]
    global_row = next((r for r in rows if not r.modifier), rows[0])
    localities = [_locality_row(global_row, g) for g in ref.gpcis]
    return present(
        {
            "part": global_row.part,
            "count": len(localities),
            "rows": localities,
        },
        *national.sources,
        gpci,
    )


def _locality_row(rvus: Rvus, gpci: Gpci) -> dict[str, Any]:
    return {
        "locality": gpci.key,
        "state": gpci.state,
        "name": gpci.name,
        "non_facility": None
        if rvus.nonfac_na
        else float(amount(rvus, facility=False, gpci=gpci)),
        "facility": None
        if rvus.fac_na
        else float(amount(rvus, facility=True, gpci=gpci)),
    }
