"""Payer families from the reporting entity names real files carry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from payerbrief.errors import SourceFileError
from payerbrief.sources.tic.payers import PayerFamily, bundled_rules, payer_family

BCBS = "Blue Cross Blue Shield"
UHC = "UnitedHealthcare"


@pytest.mark.parametrize(
    ("name", "family", "plan"),
    [
        # The CareFirst file and the CMS examples.
        ("CareFirst BlueCross BlueShield", BCBS, "CareFirst"),
        ("medicare", "medicare", "medicare"),
        ("cms", "cms", "cms"),
        # Anthem's index, and the plans it lists.
        ("Anthem Inc", BCBS, "Anthem"),
        ("Anthem Blue Cross and Blue Shield", BCBS, "Anthem"),
        ("Elevance Health, Inc.", BCBS, "Elevance Health"),
        ("Empire BlueCross BlueShield", BCBS, "Empire BlueCross BlueShield"),
        ("Highmark Blue Shield of Northeastern New York", BCBS, "Highmark"),
        ("HighMark BlueCross BlueShield of Western New York", BCBS, "Highmark"),
        # Other licensees keep their own name as the plan.
        (
            "Blue Cross and Blue Shield of Alabama",
            BCBS,
            "Blue Cross and Blue Shield of Alabama",
        ),
        ("BCBS of Arizona", BCBS, "BCBS of Arizona"),
        ("Regence BlueShield of Idaho", BCBS, "Regence"),
        ("Premera Blue Cross", BCBS, "Premera"),
        ("Florida Blue", BCBS, "Florida Blue"),
        ("Excellus BlueCross BlueShield", BCBS, "Excellus"),
        ("Horizon Blue Cross Blue Shield of New Jersey", BCBS, "Horizon"),
        ("Independence Blue Cross", BCBS, "Independence Blue Cross"),
        ("Wellmark Blue Cross and Blue Shield", BCBS, "Wellmark"),
        ("Health Care Service Corporation", BCBS, "Health Care Service Corporation"),
        # The other national payers.
        ("Aetna Life Insurance Company", "Aetna", "Aetna Life Insurance Company"),
        ("Meritain Health", "Aetna", "Meritain Health"),
        (
            "Cigna Health and Life Insurance Company",
            "Cigna",
            "Cigna Health and Life Insurance Company",
        ),
        (
            "Connecticut General Life Insurance Company",
            "Cigna",
            "Connecticut General Life Insurance Company",
        ),
        (
            "UnitedHealthcare Insurance Company",
            UHC,
            "UnitedHealthcare Insurance Company",
        ),
        ("United HealthCare Services, Inc.", UHC, "United HealthCare Services, Inc."),
        ("UMR", UHC, "UMR"),
        ("UMR, Inc.", UHC, "UMR"),
        ("Optum Behavioral Health", UHC, "Optum"),
        ("Oxford Health Plans", UHC, "Oxford Health Plans"),
        # Names the rules must not take for one of those.
        (
            "Horizon Health Services",
            "Horizon Health Services",
            "Horizon Health Services",
        ),
        ("Optima Health", "Optima Health", "Optima Health"),
        (
            "Kaiser Foundation Health Plan",
            "Kaiser Foundation Health Plan",
            "Kaiser Foundation Health Plan",
        ),
        ("Humana Inc.", "Humana Inc.", "Humana Inc."),
    ],
)
def test_payer_family(name: str, family: str, plan: str) -> None:
    assert payer_family(name) == PayerFamily(family, plan)


def test_names_from_the_real_files(shared_data: Path) -> None:
    examples = shared_data / "tic/cms-examples"
    names = {
        json.loads(path.read_text())["reporting_entity_name"]
        for path in examples.glob("v*/examples/*/*.json")
        if "reporting_entity_name" in json.loads(path.read_text())
    }
    assert names == {"medicare", "cms", "Comprehensive Health Insurance"}
    assert {payer_family(n).family for n in names} == names


def test_whitespace_is_collapsed() -> None:
    assert payer_family("  CareFirst\tBlueCross\n BlueShield ") == (BCBS, "CareFirst")
    assert payer_family("Some   Local  Plan") == ("Some Local Plan", "Some Local Plan")
    assert payer_family("   ") == ("unknown", "unknown")


def test_bundled_rules_name_the_four_families_and_parse() -> None:
    rules = bundled_rules()
    assert {r.family for r in rules} == {BCBS, "Aetna", "Cigna", UHC}
    assert rules[0].source == "payer_families.csv:2"


def test_user_rules_in_the_home_win(tmp_path: Path) -> None:
    (tmp_path / "payer_families.csv").write_text(
        "pattern,family,plan,note\n"
        "^kaiser,Kaiser Permanente,,regional HMO\n"
        "\\bumr\\b,UMR,UMR,kept apart in this warehouse\n"
    )
    assert payer_family("Kaiser Foundation Health Plan", tmp_path) == (
        "Kaiser Permanente",
        "Kaiser Foundation Health Plan",
    )
    assert payer_family("UMR", tmp_path) == ("UMR", "UMR")
    assert payer_family("UMR") == (UHC, "UMR")
    assert payer_family("CareFirst BlueCross BlueShield", tmp_path) == (
        BCBS,
        "CareFirst",
    )


def test_home_without_rules_uses_bundled(tmp_path: Path) -> None:
    assert payer_family("UMR", tmp_path) == (UHC, "UMR")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "pattern,family,plan,note\nunited (health,UHC,,\n",
            "payer_families.csv, line 2: the pattern 'united (health' is not a "
            "regular expression (missing ), unterminated subpattern at position 7)",
        ),
        (
            "name,payer\nx,y\n",
            "payer_families.csv, line 1: the header is ['name', 'payer'], not "
            "['pattern', 'family', 'plan', 'note']",
        ),
        (
            "pattern,family,plan,note\nacme\n",
            "payer_families.csv, line 2: a rule needs a pattern and a family",
        ),
    ],
)
def test_bad_user_rules(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "payer_families.csv"
    path.write_text(text)
    with pytest.raises(SourceFileError) as caught:
        payer_family("UMR", tmp_path)
    assert str(caught.value).split("\nHint: ")[0] == f"{tmp_path}/{message}"
