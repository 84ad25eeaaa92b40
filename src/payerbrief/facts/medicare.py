"""Medicare Physician Fee Schedule amounts, as CMS defines them.

Payment = [(work RVU x work GPCI) + (PE RVU x PE GPCI) + (MP RVU x MP GPCI)]
x conversion factor (42 CFR 414.22 and the PFS final rule's payment formula).
The national amount uses GPCIs of 1.0. The facility amount uses the facility
practice-expense RVU, the non-facility amount the non-facility one. Amounts are
rounded to the cent, half up, as CMS's look-up tool shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

CENT = Decimal("0.01")


@cache
def _d(value: float) -> Decimal:
    # Through str, so 0.57 stays 0.57 rather than its binary neighbour.
    return Decimal(str(value))


@dataclass(frozen=True)
class Rvus:
    """One row of the RVU file: a code, or its 26 or TC part."""

    modifier: str | None
    work: float
    nonfac_pe: float
    fac_pe: float
    mp: float
    nonfac_na: bool
    fac_na: bool
    conv_factor: float

    @classmethod
    def of(cls, row: dict[str, Any]) -> Rvus:
        return cls(
            row["modifier"],
            row["work_rvu"],
            row["nonfac_pe_rvu"],
            row["fac_pe_rvu"],
            row["mp_rvu"],
            bool(row["nonfac_na"]),
            bool(row["fac_na"]),
            row["conv_factor"],
        )

    @property
    def part(self) -> str:
        return {"26": "professional (26)", "TC": "technical (TC)"}.get(
            self.modifier or "", "global"
        )


@dataclass(frozen=True)
class Gpci:
    mac: str
    locality_number: str
    state: str
    name: str
    work: float
    pe: float
    mp: float

    @property
    def key(self) -> str:
        return f"{self.mac}-{self.locality_number}"

    @classmethod
    def of(cls, row: dict[str, Any]) -> Gpci:
        return cls(
            row["mac"],
            row["locality_number"],
            row["state"],
            row["locality_name"],
            row["pw_gpci"],
            row["pe_gpci"],
            row["mp_gpci"],
        )


NATIONAL = Gpci("", "", "", "national", 1.0, 1.0, 1.0)


def amount(rvus: Rvus, *, facility: bool, gpci: Gpci = NATIONAL) -> Decimal:
    """The fee-schedule amount in dollars for one setting and locality."""
    pe = rvus.fac_pe if facility else rvus.nonfac_pe
    total = (
        _d(rvus.work) * _d(gpci.work) + _d(pe) * _d(gpci.pe) + _d(rvus.mp) * _d(gpci.mp)
    )
    return (total * _d(rvus.conv_factor)).quantize(CENT, rounding=ROUND_HALF_UP)


def priced(rvus: Rvus) -> bool:
    """Whether the row carries RVUs at all (status I and M rows carry zeros)."""
    return (rvus.work + rvus.nonfac_pe + rvus.fac_pe + rvus.mp) > 0
