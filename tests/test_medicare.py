"""Medicare amounts from the real 2025 fee schedule, checked against hand arithmetic."""

import pytest

from payerbrief.codes import parse_code
from payerbrief.facts.medicare import Gpci, Rvus, amount
from payerbrief.facts.model import State
from payerbrief.facts.payment import medicare_localities, medicare_national
from payerbrief.facts.reference import Reference


def national(reference: Reference, code: str) -> dict[str | None, dict]:
    fact = medicare_national(reference, parse_code(code))
    assert fact.state is State.PRESENT
    return {row["modifier"]: row for row in fact.value}


@pytest.mark.parametrize(
    ("code", "modifier", "non_facility", "facility"),
    [
        # 99213: (1.30 + 1.35 + 0.10) x 32.3465 = 88.95; (1.30 + 0.57 + 0.10) = 63.72
        ("99213", None, 88.95, 63.72),
        # 31231: 5.69 x 32.3465 = 184.05; 1.93 x 32.3465 = 62.43
        ("31231", None, 184.05, 62.43),
        # 70553 global: 9.71 x 32.3465 = 314.08 outside a facility; NA in one
        ("70553", None, 314.08, None),
        # 70553-26: 3.24 x 32.3465 = 104.80 in both settings
        ("70553", "26", 104.80, 104.80),
        # 70553-TC: 6.47 x 32.3465 = 209.28 outside a facility
        ("70553", "TC", 209.28, None),
        # 27447: 38.88 x 32.3465 = 1257.63 in a facility; NA outside one
        ("27447", None, None, 1257.63),
    ],
)
def test_national_amounts(
    reference: Reference,
    code: str,
    modifier: str | None,
    non_facility: float | None,
    facility: float | None,
) -> None:
    row = national(reference, code)[modifier]
    assert (row["non_facility"], row["facility"]) == (non_facility, facility)


def test_a_locality_amount(reference: Reference) -> None:
    # Alaska (MAC 02102, locality 01): GPCIs 1.5, 1.081, 0.592.
    # 99213 outside a facility: (1.30 x 1.5 + 1.35 x 1.081 + 0.10 x 0.592)
    # x 32.3465 = 3.46855 x 32.3465 = 112.196... = $112.20
    fact = medicare_localities(reference, parse_code("99213"))
    alaska = next(r for r in fact.value["rows"] if r["state"] == "AK")
    assert alaska["locality"] == "02102-01"
    assert alaska["non_facility"] == 112.20
    assert fact.value["count"] == 109


def test_amounts_round_half_up_to_the_cent() -> None:
    rvus = Rvus(None, 0.5, 0.0, 0.0, 0.0, False, False, 1.01)
    # 0.5 x 1.01 = 0.505 exactly in decimal: a float would round it down.
    assert str(amount(rvus, facility=False)) == "0.51"
    gpci = Gpci("1", "01", "XX", "test", 2.0, 1.0, 1.0)
    assert str(amount(rvus, facility=False, gpci=gpci)) == "1.01"


@pytest.mark.parametrize(
    ("code", "state", "reason_part"),
    [
        ("3372F", State.NOT_APPLICABLE, "CPT Category II tracking code"),
        ("99417", State.NOT_APPLICABLE, "status I, Medicare uses another code for it"),
        ("0042T", State.NOT_AVAILABLE, "each Medicare contractor prices 0042T"),
        ("00100", State.NOT_AVAILABLE, "anesthesia service"),
        ("E0601", State.NOT_AVAILABLE, "not in the loaded Medicare Physician Fee"),
    ],
)
def test_codes_without_a_national_amount_say_why(
    reference: Reference, code: str, state: State, reason_part: str
) -> None:
    fact = medicare_national(reference, parse_code(code))
    assert fact.state is state
    assert reason_part in fact.reason
