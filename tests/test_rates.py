"""Payer rates in briefs: statistics, flags, Medicare comparison, states, compare."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from tic_factory import write_payer_files

from payerbrief.brief.build import build_brief
from payerbrief.brief.grounding import ungrounded
from payerbrief.cli import main
from payerbrief.facts.model import State
from payerbrief.facts.reference import Reference
from payerbrief.render import render_csv, render_markdown
from payerbrief.render.charts import write_markdown_brief
from payerbrief.sources.tic.innetwork import TicInNetworkReader
from payerbrief.store.warehouse import Warehouse

DATA = Path(__file__).parent / "data"
CAREFIRST = "tic/carefirst/carefirst_examplefile.json.gz"


def _copy(demo_home: Path, to: Path) -> Path:
    shutil.copytree(demo_home, to)
    return to


@pytest.fixture(scope="module")
def payer_home(medicare_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = _copy(medicare_home, tmp_path_factory.mktemp("payers") / "home")
    files = write_payer_files(tmp_path_factory.mktemp("payer-files"))
    with Warehouse(home) as warehouse:
        for path in files.values():
            warehouse.load(TicInNetworkReader(path))
    return home


@pytest.fixture(scope="module")
def payer_ref(payer_home: Path) -> Reference:
    with Warehouse(payer_home) as warehouse:
        return Reference.load(warehouse)


def payer(ref: Reference, code: str, family: str):
    brief = build_brief(ref, ref.resolve(code))
    return brief.section("payers").facts[f"payer:{family}"]


def flags(fact) -> dict[str, int]:
    return {f["flag"]: f["rates"] for f in fact.value["flags"]}


def test_statistics_leave_placeholders_out_and_keep_conflicts(payer_ref) -> None:
    fact = payer(payer_ref, "99213", "Aetna")
    value = fact.value
    assert value["rates"] == 10
    dollars = value["dollars"]
    assert (dollars["n"], dollars["min"], dollars["median"], dollars["max"]) == (
        8,
        100.0,
        117.5,
        140.0,
    )
    assert (dollars["p25"], dollars["p75"]) == (108.75, 126.25)
    assert flags(fact) == {"cent": 1, "sentinel": 1, "conflict_rows": 2}
    assert value["conflicts"] == {"providers": 1, "rates": 2}
    assert value["providers"]["npis"] == 7


def test_percent_of_medicare_uses_the_matching_amount(payer_ref) -> None:
    medicare = payer(payer_ref, "99213", "Aetna").value["by_class"][0]["medicare"]
    assert medicare["bases"][0]["setting"] == "non-facility"
    assert medicare["bases"][0]["amount"] == 88.95
    assert medicare["pct"]["median"] == round(117.5 / 88.95 * 100, 1)
    assert "compared with national amounts" in medicare["area_note"]


def test_26_and_tc_rates_compare_with_their_part(payer_ref) -> None:
    value = payer(payer_ref, "70553", "Aetna").value
    bases = {b["part"]: b["amount"] for b in value["medicare"]["bases"]}
    assert bases == {
        "global": 314.08,
        "professional (26)": 104.8,
        "technical (TC)": 209.28,
    }
    by_modifier = {r["value"]: r["median_pct"] for r in value["splits"]["modifier"]}
    assert by_modifier["26"] == round(85 / 104.80 * 100, 1)


def test_a_rate_for_every_provider_counts_once_and_is_withheld(payer_ref) -> None:
    fact = payer(payer_ref, "99213", "Blue Cross Blue Shield")
    assert fact.state is State.WITHHELD
    assert "1 rate for 99213" in fact.reason
    assert "one rate for every provider group in its file, 5" in fact.reason


def test_fewer_than_three_rates_are_withheld(payer_ref) -> None:
    fact = payer(payer_ref, "99213", "Cigna")
    assert fact.state is State.WITHHELD
    assert fact.reason.startswith("Cigna has 2 rates for 99213")


def test_rates_repeated_in_another_plan_count_once(payer_ref) -> None:
    fact = payer(payer_ref, "99213", "UnitedHealthcare")
    assert fact.value["plans"] == ["Choice Plus", "Options PPO"]
    assert fact.value["rates"] == 10
    assert fact.value["dollars"]["n"] == 5
    assert flags(fact) == {"plan_repeats": 5}
    note = fact.value["by_class"][0]["medicare"]["bases"][0]["note"]
    assert note == "place of service mixed: non-facility amount used"


def test_a_far_outlier_is_set_apart(payer_ref) -> None:
    fact = payer(payer_ref, "31231", "Blue Cross Blue Shield")
    assert flags(fact) == {"outlier_high": 1}
    assert fact.value["dollars"]["max"] == 180.0


def test_percentage_and_per_diem_rates_stay_apart(payer_ref) -> None:
    percent = payer(payer_ref, "31231", "Aetna")
    assert percent.state is State.PRESENT
    assert percent.value["dollars"] is None
    assert percent.value["percent"]["median"] == 85.0
    knee = payer(payer_ref, "27447", "Aetna").value
    assert knee["per_diem"]["median"] == 2600.0
    classes = {c["billing_class"]: c for c in knee["by_class"]}
    assert classes["institutional"]["dollars"]["median"] == 16000.0
    assert classes["institutional"]["medicare"]["not_compared"][0]["rates"] == 3
    assert classes["professional"]["medicare"]["bases"][0]["setting"] == "facility"


def test_exact_duplicates_count_once(payer_ref) -> None:
    fact = payer(payer_ref, "27447", "Cigna")
    assert flags(fact) == {"duplicates": 1}
    assert fact.value["dollars"]["n"] == 4


def test_rates_without_a_medicare_amount_show_no_percent(payer_ref) -> None:
    brief = build_brief(payer_ref, payer_ref.resolve("E0601"))
    fact = brief.section("payers").facts["payer:Aetna"]
    assert fact.value["dollars"]["median"] == 55.0
    assert fact.value["medicare"]["pct"] is None
    text = render_markdown(brief)
    assert "3 rates are not compared with Medicare: E0601 is not in the loaded" in text


def test_a_tracking_code_is_not_applicable(payer_ref) -> None:
    fact = payer(payer_ref, "3372F", "Aetna")
    assert fact.state is State.NOT_APPLICABLE
    assert "the 3 Aetna rates listed for it are placeholders" in fact.reason
    assert payer(payer_ref, "3372F", "Cigna").state is State.NOT_APPLICABLE


def test_payer_tables_reach_the_csv(payer_ref) -> None:
    brief = build_brief(payer_ref, payer_ref.resolve("99213"))
    text = render_csv(brief)
    assert 'payers,"Negotiated rates in dollars, by payer",1,Median,117.50' in text
    assert "Rates flagged as ghosts or placeholders" in text


@pytest.mark.parametrize("code", ["99213", "31231", "27447", "70553", "3372F", "E0601"])
def test_payer_briefs_are_grounded(payer_ref, code: str) -> None:
    assert ungrounded(build_brief(payer_ref, payer_ref.resolve(code))) == []


def test_providers_are_placed_in_their_locality(
    payer_home: Path, tmp_path: Path
) -> None:
    from payerbrief.ingest import ingest
    from payerbrief.sources.nppes import NppesReader

    home = _copy(payer_home, tmp_path / "home")
    with Warehouse(home) as warehouse:
        ingest(warehouse, "zip-locality", [DATA / "zip-locality" / "ZIP5_OCT2025.txt"])
        for path in sorted((DATA / "nppes").glob("*.csv")):
            warehouse.load(NppesReader(path))
        ref = Reference.load(warehouse)
    medicare = payer(ref, "99213", "Aetna").value["by_class"][0]["medicare"]
    areas = {b["area"]: b["rates"] for b in medicare["bases"]}
    assert areas == {"national": 7, "Baltimore/Surr. Cntys, MD (12302-01)": 1}
    assert medicare["area_note"] == ""


def test_carefirst_brief_states_its_rates(
    demo_home: Path, tmp_path: Path, shared_data
) -> None:
    home = _copy(demo_home, tmp_path / "home")
    with Warehouse(home) as warehouse:
        warehouse.load(TicInNetworkReader(shared_data / CAREFIRST))
        ref = Reference.load(warehouse)
    brief = build_brief(ref, ref.resolve("31231"))
    text = render_markdown(brief)
    assert "Blue Cross Blue Shield (CareFirst) lists 71 rates for 31231." in text
    assert "71 professional dollar rates are counted." in text
    assert (
        "That median is 116.0% of Medicare's national facility amount, $62.43" in text
    )
    assert ungrounded(brief) == []
    path = write_markdown_brief(brief, tmp_path / "briefs")
    assert "![Negotiated rates for 31231" in path.read_text()
    assert (tmp_path / "briefs" / "31231-rates.png").read_bytes()[:4] == b"\x89PNG"
    assert b"<svg" in (tmp_path / "briefs" / "31231-rates.svg").read_bytes()


def test_compare_prints_a_table(payer_home: Path) -> None:
    result = CliRunner().invoke(main, ["--home", str(payer_home), "compare", "99213"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Negotiated dollar rates for 99213 by payer"
    assert lines[3].split()[:3] == ["Aetna", "8", "$100.00"]
    by_plan = CliRunner().invoke(
        main, ["--home", str(payer_home), "compare", "99213", "--by", "plan"]
    )
    assert "Choice Plus" in by_plan.output and "Options PPO" in by_plan.output


def test_compare_names_the_valid_dimensions(payer_home: Path) -> None:
    result = CliRunner().invoke(
        main, ["--home", str(payer_home), "compare", "99213", "--by", "zip"]
    )
    assert result.exit_code == 2
    assert result.output == (
        "Error: unknown dimension 'zip'\n"
        "Hint: choose one of: payer, plan, billing-class, place-of-service\n"
    )


def test_modifiers_seen_in_payer_files_join_the_modifiers_table(payer_ref) -> None:
    brief = build_brief(payer_ref, payer_ref.resolve("70553"))
    rows = {m["modifier"]: m for m in brief.section("coding").facts["modifiers"].value}
    assert rows["26"]["indicator"] == "fee schedule: PC/TC 1; payer files: 3 rates"
    # TC: three Aetna rates and two Cigna ones.
    assert rows["TC"]["indicator"] == "fee schedule: PC/TC 1; payer files: 5 rates"
