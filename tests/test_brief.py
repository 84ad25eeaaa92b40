"""Briefs: every section, every fact with a state and its sources, grounded prose."""

import json

import pytest

from payerbrief.brief.build import SECTIONS, build_brief
from payerbrief.brief.grounding import ungrounded
from payerbrief.demo import DEMO_CODES
from payerbrief.facts.model import State
from payerbrief.facts.reference import Reference
from payerbrief.render import render_json, render_markdown


def brief_of(reference: Reference, code: str):
    return build_brief(reference, reference.resolve(code))


@pytest.mark.parametrize("code", list(DEMO_CODES))
def test_every_brief_has_its_sections_and_states(
    reference: Reference, code: str
) -> None:
    brief = brief_of(reference, code)
    assert [s.key for s in brief.sections] == [key for key, _ in SECTIONS]
    for section in brief.sections:
        assert section.state in State
        assert section.prose, f"{code} {section.key} has no prose"
        for name, fact in section.facts.items():
            assert fact.state in State
            if fact.present:
                assert fact.value is not None, name
            else:
                assert fact.reason, f"{code} {section.key}.{name} gives no reason"
    assert ungrounded(brief) == []


def test_a_category_ii_code_reads_as_a_tracking_code(reference: Reference) -> None:
    brief = brief_of(reference, "3372F")
    payers = brief.section("payers")
    assert payers.facts["medicare_national"].state is State.NOT_APPLICABLE
    coding = brief.section("coding")
    assert coding.facts["modifiers"].state is State.NOT_APPLICABLE
    text = render_markdown(brief)
    assert "3372F is a CPT code in CPT Category II, the performance measurement" in text
    assert "Medicare status I: not valid for Medicare purposes" in text
    assert "Medicare: not applicable. 3372F is a CPT Category II tracking code" in text
    assert "input" not in text.lower()


def test_an_office_visit_brief_shows_the_medicare_amounts(
    reference: Reference,
) -> None:
    text = render_markdown(brief_of(reference, "99213"))
    assert (
        "Medicare's national fee-schedule amount for 99213 is $88.95 outside a "
        "facility and $63.72 in a facility, at a conversion factor of 32.3465 (RVU25D)."
    ) in text
    assert "| global | $88.95 | $63.72 |" in text
    assert "No Aetna, Blue Cross Blue Shield, Cigna or UnitedHealthcare" in text
    assert "CPT codes and descriptions only are copyright 2024 American Medical" in text


def test_a_surgery_brief_lists_its_modifiers(reference: Reference) -> None:
    brief = brief_of(reference, "27447")
    modifiers = [
        m["modifier"] for m in brief.section("coding").facts["modifiers"].value
    ]
    assert modifiers == ["50", "51", "80", "82", "AS", "62"]
    assert brief.section("coding").facts["global_period"].value["days"] == "090"
    text = render_markdown(brief)
    assert "| AS | Physician assistant, nurse practitioner, or clinical nurse" in text


def test_a_26_tc_code_shows_each_part(reference: Reference) -> None:
    brief = brief_of(reference, "71046")
    rows = brief.section("payers").facts["medicare_national"].value
    assert [r["part"] for r in rows] == [
        "global",
        "professional (26)",
        "technical (TC)",
    ]
    coding = brief.section("coding").facts["modifiers"].value
    assert [m["modifier"] for m in coding] == ["26", "TC"]


def test_a_hcpcs_code_uses_the_hcpcs_descriptor(reference: Reference) -> None:
    brief = brief_of(reference, "E0601")
    descriptor = brief.section("summary").facts["descriptor"]
    assert descriptor.value["kind"] == "HCPCS Level II long descriptor"
    assert brief.section("billing").facts["betos"].value == "D1E"
    assert brief.section("payers").facts["medicare_national"].state is (
        State.NOT_AVAILABLE
    )


def test_the_release_can_be_chosen(demo_home) -> None:
    from payerbrief.store.warehouse import Warehouse

    with Warehouse(demo_home) as warehouse:
        january = Reference.load(warehouse, {"pfs-rvu": "RVU25A"})
    brief = build_brief(january, january.resolve("99213"))
    releases = {s.release for s in brief.sources if s.kind == "pfs-rvu"}
    assert releases == {"RVU25A"}


def test_the_json_brief_carries_facts_and_sources(reference: Reference) -> None:
    data = json.loads(render_json(brief_of(reference, "70553")))
    assert data["code"] == "70553"
    sections = {s["key"]: s for s in data["sections"]}
    national = sections["payers"]["facts"]["medicare_national"]
    assert national["state"] == "present"
    assert national["value"][1]["non_facility"] == 104.80
    load_ids = {s["load_id"] for s in data["sources"]}
    assert set(national["sources"]) <= load_ids
    assert all(len(s["sha256"]) == 64 for s in data["sources"])


def test_the_checker_rejects_a_number_that_is_not_a_fact(
    reference: Reference,
) -> None:
    brief = brief_of(reference, "99213")
    assert ungrounded(brief, ["Most practices are paid $88.95 for it."]) == []
    assert ungrounded(brief, ["It is billed 40,000 times a year."]) == ["40000"]


def test_briefs_across_the_code_sets_are_grounded(reference: Reference) -> None:
    # Every 30th known code: all code shapes, statuses and indicator mixes.
    codes = reference.known_codes()[::30]
    stray = {}
    for code in codes:
        brief = brief_of(reference, code)
        if problems := ungrounded(brief):
            stray[code] = problems
    assert len(codes) > 500
    assert stray == {}


def test_places_of_service_come_from_the_payer_files(reference: Reference) -> None:
    brief = brief_of(reference, "31231")
    places = brief.section("billing").facts["payer_places_of_service"]
    assert places.value == [
        {
            "place_of_service": "24",
            "label": "24 Ambulatory Surgical Center (facility)",
            "setting": "facility",
            "rates": 71,
        }
    ]
    assert places.sources[0].kind == "tic-in-network"
    assert ungrounded(brief) == []
