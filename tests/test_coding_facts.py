"""The coding section from NCCI edits and MUEs loaded in CMS's layouts."""

from payerbrief.brief.build import build_brief
from payerbrief.brief.grounding import ungrounded
from payerbrief.facts.model import State
from payerbrief.facts.reference import Reference
from payerbrief.render import render_markdown


def coding(reference: Reference, code: str):
    brief = build_brief(reference, reference.resolve(code))
    assert ungrounded(brief) == []
    return brief, brief.section("coding").facts


def test_ncci_partners_in_force_on_the_release_date(
    coding_reference: Reference,
) -> None:
    _, facts = coding(coding_reference, "27447")
    edits = facts["ncci_edits"].value
    assert edits["as_of"] == "2025-10-01"
    partners = edits["as_column1"]["partners"]
    assert [(p["code"], p["modifier_indicator"]) for p in partners] == [
        ("20610", "1"),
        ("27370", "0"),
        ("99213", "1"),
    ]
    assert edits["as_column2"]["count"] == 0


def test_edits_deleted_before_the_release_do_not_apply(
    coding_reference: Reference,
) -> None:
    # 0001A/99213 was deleted 2023-12-31; only 27447/99213 is in force.
    _, facts = coding(coding_reference, "99213")
    partners = facts["ncci_edits"].value["as_column2"]["partners"]
    assert [p["code"] for p in partners] == ["27447"]


def test_indicator_1_edits_add_the_distinct_service_modifiers(
    coding_reference: Reference,
) -> None:
    brief, facts = coding(coding_reference, "27447")
    modifiers = [m["modifier"] for m in facts["modifiers"].value]
    assert modifiers[-5:] == ["XE", "XS", "XP", "XU", "59"]
    text = render_markdown(brief)
    assert (
        "| XS | Separate structure, a service that is distinct because it was "
        "performed on a separate organ/structure | an NCCI edit with modifier "
        "indicator 1 pairs the codes and the services were done on separate organs "
        "or structures | NCCI modifier indicator 1 |"
    ) in text
    assert "| 27370 | column 2 | 0 | practitioner |" in text


def test_only_indicator_0_edits_add_no_modifier(coding_reference: Reference) -> None:
    _, facts = coding(coding_reference, "70553")
    assert [p["code"] for p in facts["ncci_edits"].value["as_column1"]["partners"]] == [
        "70551"
    ]
    assert "59" not in [m["modifier"] for m in facts["modifiers"].value]


def test_mue_from_the_practitioner_table(coding_reference: Reference) -> None:
    brief, facts = coding(coding_reference, "99213")
    assert facts["mue"].state is State.PRESENT
    (row,) = facts["mue"].value
    assert row["service_type"] == "practitioner"
    assert row["adjudication_indicator"] == "2"
    assert "Medically Unlikely Edit for practitioner services: " in render_markdown(
        brief
    )


def test_a_code_no_edit_names_says_so(coding_reference: Reference) -> None:
    _, facts = coding(coding_reference, "31231")
    assert facts["ncci_edits"].state is State.NOT_AVAILABLE
    assert facts["ncci_edits"].reason == (
        "No NCCI edit in force on 2025-10-01 (2025Q4 v31.3) pairs 31231 with "
        "another code"
    )
    assert facts["mue"].reason == (
        "The loaded MUE tables (2025Q4) publish no MUE for 31231"
    )


def test_without_edit_files_the_facts_are_not_available(reference: Reference) -> None:
    _, facts = coding(reference, "27447")
    assert facts["ncci_edits"].reason == (
        "No NCCI procedure-to-procedure edit file loaded"
    )
    assert facts["mue"].reason == "No Medically Unlikely Edit file loaded"


def test_icd10_pairings_from_the_newest_article_version(
    coding_reference: Reference,
) -> None:
    brief, facts = coding(coding_reference, "70553")
    pairings = facts["icd10_pairings"].value
    (article,) = pairings["articles"]
    assert (article["id"], article["version"]) == ("A90001", 2)
    assert [g["group"] for g in article["groups"]] == [1, 2]
    assert pairings["covered_count"] == 6
    assert pairings["noncovered_count"] == 2
    covered = {r["code"] for r in pairings["covered"]}
    noncovered = {r["code"] for r in pairings["noncovered"]}
    assert not covered & noncovered
    # Descriptions come from the CDC's ICD-10-CM where it has the code.
    first = pairings["covered"][0]
    assert (first["code"], first["description_source"]) == ("C71.9", "ICD-10-CM (CDC)")
    text = render_markdown(brief)
    assert "| C79.31 | Secondary malignant neoplasm of brain | 1 |" in text
    assert "lists 70553 and names 6 diagnosis codes that support medical" in text


def test_a_code_no_article_lists(coding_reference: Reference) -> None:
    _, facts = coding(coding_reference, "99213")
    assert facts["icd10_pairings"].state is State.NOT_AVAILABLE
    assert facts["icd10_pairings"].reason.startswith(
        "No loaded Medicare coverage article ("
    )


def test_bundles_from_payer_files_both_ways(
    medicare_home, shared_data, tmp_path
) -> None:
    import shutil

    from payerbrief.sources.tic.innetwork import TicInNetworkReader
    from payerbrief.store.warehouse import Warehouse

    home = tmp_path / "home"
    shutil.copytree(medicare_home, home)
    bundle = (
        shared_data
        / "tic/cms-examples/v2.2.0/examples/in-network-rates"
        / "in-network-rates-bundle-single-plan-sample.json"
    )
    with Warehouse(home) as warehouse:
        warehouse.load(TicInNetworkReader(bundle))
        ref = Reference.load(warehouse)
    _, facts = coding(ref, "27447")
    (row,) = facts["bundled_codes"].value
    assert (row["code"], row["direction"]) == ("81.54", "contained in")
    assert facts["bundled_codes"].sources[0].kind == "tic-in-network"
    _, facts = coding(ref, "99213")
    assert facts["bundled_codes"].reason == (
        "No loaded payer file bundles other codes with 99213"
    )


def test_the_csv_carries_every_icd10_pairing(coding_reference: Reference) -> None:
    from payerbrief.render import render_csv

    brief = build_brief(coding_reference, coding_reference.resolve("70553"))
    lines = [
        line
        for line in render_csv(brief).splitlines()
        if "All ICD-10-CM pairings" in line and ",ICD-10-CM code," in line
    ]
    pairings = brief.section("coding").facts["icd10_pairings"].value
    assert len(lines) == len(pairings["covered"]) + len(pairings["noncovered"])
