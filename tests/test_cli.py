"""The `payerbrief` command: help everywhere, exit codes, messages pinned."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from payerbrief.cli import main

COMMANDS = [
    "demo",
    "ingest",
    "brief",
    "sources",
    "validate",
    "compare",
    "site",
    "serve",
]


def run(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--home", str(home), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_help_everywhere(tmp_path: Path, command: list[str]) -> None:
    code, out, _ = run(tmp_path, *command, "--help")
    assert code == 0
    assert out.startswith("Usage: main")


def test_the_readme_documents_every_command() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for command in COMMANDS:
        assert f"payerbrief {command}" in readme


def test_brief_prints_markdown_and_json(demo_home: Path) -> None:
    code, out, _ = run(demo_home, "brief", "99213")
    assert code == 0
    assert out.startswith("# 99213: Office o/p est low 20 min\n")
    code, out, _ = run(demo_home, "brief", "99213", "--format", "json")
    assert code == 0
    assert json.loads(out)["code"] == "99213"


def test_brief_takes_a_release(demo_home: Path) -> None:
    code, out, _ = run(demo_home, "brief", "99213", "--release", "pfs-rvu=RVU25A")
    assert code == 0
    assert "| pfs-rvu | PPRRVU25_JAN1.csv |" in out


def test_an_unknown_code_names_the_code_sets_and_the_closest_codes(
    demo_home: Path,
) -> None:
    code, _, err = run(demo_home, "brief", "99999")
    assert code == 1
    assert err == (
        "Error: code 99999 is in none of the loaded code sets (Medicare Physician "
        "Fee Schedule RVU25D, HCPCS Level II 2020)\n"
        "Hint: closest codes: 99601, 99602, 99605, 99606, 99607\n"
    )


@pytest.mark.parametrize("text", ["9921", "3372G", "ZZ123", "99213-26"])
def test_a_malformed_code_says_what_codes_look_like(demo_home: Path, text: str) -> None:
    code, _, err = run(demo_home, "brief", text)
    assert code == 2
    assert err == (
        f"Error: {text!r} is not a billing code\n"
        "Hint: a CPT Category I code is five digits (99213); Category II is four "
        "digits and F (3372F); Category III is four digits and T (0042T); a HCPCS "
        "Level II code is a letter A-V and four digits (G0439)\n"
    )


def test_an_unknown_release_names_the_loaded_ones(demo_home: Path) -> None:
    code, _, err = run(demo_home, "brief", "99213", "--release", "pfs-rvu=RVU24D")
    assert code == 1
    assert err == (
        "Error: no pfs-rvu release 'RVU24D' is loaded\n"
        "Hint: loaded releases: RVU25D, RVU25A\n"
    )


def test_a_bad_release_option_is_bad_usage(demo_home: Path) -> None:
    code, _, err = run(demo_home, "brief", "99213", "--release", "RVU25A")
    assert code == 2
    assert err == (
        "Error: --release takes KIND=RELEASE, not 'RVU25A'\n"
        "Hint: for example --release pfs-rvu=RVU25A\n"
    )


def test_an_empty_warehouse_says_how_to_fill_it(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "brief", "99213")
    assert code == 1
    assert err == (
        "Error: code 99213 is in none of the loaded code sets (none)\n"
        "Hint: load a code set first: run `payerbrief demo` or `payerbrief ingest`\n"
    )


def test_ingest_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "GPCI2025.csv"
    code, _, err = run(tmp_path, "ingest", "gpci", str(missing))
    assert code == 1
    assert err == (
        f"Error: {missing}: file not found\n"
        "Hint: pass the path of the GPCI CSV (GPCI*.csv)\n"
    )


def test_ingest_an_unknown_kind(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "ingest", "ncci", "x.txt")
    assert code == 2
    assert err == (
        "Error: unknown source kind 'ncci'\n"
        "Hint: choose one of: cpt-descriptors, gpci, hcpcs, icd10cm, "
        "locality-county, mcd-article, mue, ncci-ptp, nppes, nucc, pfs-rvu, pos, "
        "tic, tic-allowed-amounts, tic-toc, zip-locality\n"
    )


def test_ingest_twice_adds_nothing(tmp_path: Path, shared_data: Path) -> None:
    gpci = shared_data / "cms-pfs-2025" / "GPCI2025.csv"
    code, out, _ = run(tmp_path, "ingest", "gpci", str(gpci))
    assert (code, out) == (0, "gpci             GPCI2025.csv: 109 rows (CY2025)\n")
    code, out, _ = run(tmp_path, "ingest", "gpci", str(gpci))
    assert code == 0
    assert out == (
        "gpci             GPCI2025.csv: already loaded (CY2025), nothing added\n"
    )


def test_ingest_with_rejected_rows_fails_but_keeps_the_rest(
    tmp_path: Path, shared_data: Path
) -> None:
    lines = (shared_data / "cms-pfs-2025/GPCI2025.csv").read_text().splitlines()
    lines[5] = "10112,AL,0,ALABAMA,1"
    broken = tmp_path / "GPCI2025.csv"
    broken.write_text("\n".join(lines) + "\n")
    code, out, err = run(tmp_path / "home", "ingest", "gpci", str(broken))
    assert code == 1
    assert out == "gpci             GPCI2025.csv: 108 rows (CY2025), 1 rejected\n"
    assert err.startswith("  line 6: expected 7 columns, found 5\n")
    assert err.endswith(
        "Error: 1 rows rejected; the other rows are loaded\n"
        "Hint: fix or replace the file and ingest it again\n"
    )
    code, out, _ = run(tmp_path / "home", "sources")
    assert "GPCI2025.csv" in out


def test_sources_lists_releases_and_dates(demo_home: Path) -> None:
    code, out, _ = run(demo_home, "sources")
    assert code == 0
    assert (
        "pfs-rvu             RVU25D     2025-09-11    19,090        0  PPRRVU2025_Oct.csv"
        in out
    )
    assert (
        "pfs-rvu             RVU25A     2024-12-23    18,865        0  PPRRVU25_JAN1.csv"
        in out
    )
    code, out, _ = run(demo_home, "sources", "--json")
    kinds = {e["kind"] for e in json.loads(out)}
    assert kinds == {
        "pfs-rvu",
        "gpci",
        "locality-county",
        "hcpcs",
        "hcpcs-modifier",
        "nucc",
        "pos",
        "icd10cm",
        "tic-in-network",
    }
    assert "Blue Cross Blue Shield (CareFirst)" in run(demo_home, "sources")[1]


def test_demo_writes_the_briefs_and_says_where(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    code, out, _ = run(tmp_path / "home", "demo", "--out", str(out_dir))
    assert code == 0
    assert f"Wrote 12 briefs (Markdown and JSON) to {out_dir}/briefs" in out
    for name in ("3372F", "99213", "27447", "70553", "31231", "11045", "G0439"):
        assert (out_dir / "briefs" / f"{name}.md").exists()
        assert (out_dir / "briefs" / f"{name}.json").exists()
    assert (
        "[99213: Office o/p est low 20 min](briefs/99213.md)"
        in (out_dir / "index.md").read_text()
    )
    # The demo's warehouse is the home warehouse: other commands use it next.
    code, out, _ = run(tmp_path / "home", "brief", "3372F")
    assert code == 0
    code, out, _ = run(tmp_path / "home", "demo", "--out", str(out_dir))
    assert "already loaded" in out


def test_validate_a_conforming_file(tmp_path: Path, shared_data: Path) -> None:
    example = (
        shared_data
        / "tic/cms-examples/v2.2.0/examples/in-network-rates"
        / "in-network-rates-fee-for-service-single-plan-sample.json"
    )
    code, out, _ = run(tmp_path, "validate", str(example))
    assert code == 0
    assert out.endswith("  no violations\n")


def test_validate_lists_each_violation_with_its_path(
    tmp_path: Path, shared_data: Path
) -> None:
    example = (
        shared_data
        / "tic/cms-examples/v1.6.2/examples/in-network-rates"
        / "in-network-rates-multiple-plans-sample.json"
    )
    code, out, err = run(tmp_path, "validate", str(example))
    assert code == 1
    assert (
        "  in_network[0].negotiated_rates[1].negotiated_prices[1].billing_class: "
        "'both' is not one of ['professional', 'institutional']\n"
    ) in out
    assert err == (
        f"Error: {example} does not conform to the CMS schema 1.0.0\n"
        "Hint: ingest keeps the valid items; `ingest tic --strict` refuses it\n"
    )


def test_ingest_tic_loads_a_payer_file(tmp_path: Path, shared_data: Path) -> None:
    carefirst = shared_data / "tic/carefirst/carefirst_examplefile.json.gz"
    code, out, _ = run(tmp_path, "ingest", "tic", str(carefirst))
    assert (code, out) == (
        0,
        "tic-in-network   carefirst_examplefile.json.gz: 122,310 rows (2020-08-27)\n",
    )
    code, out, _ = run(tmp_path, "sources")
    assert "Blue Cross Blue Shield (CareFirst)" in out
    assert "1,773   122,310        0  carefirst_examplefile.json.gz" in out


def test_ingest_tic_strict_refuses_a_file_that_breaks_its_schema(
    tmp_path: Path, shared_data: Path
) -> None:
    example = (
        shared_data
        / "tic/cms-examples/v1.6.2/examples/in-network-rates"
        / "in-network-rates-multiple-plans-sample.json"
    )
    code, out, err = run(tmp_path, "ingest", "tic", "--strict", str(example))
    assert code == 1
    assert out == ""
    assert err.startswith(
        f"Error: {example} breaks the CMS schema 1.0.0 in 1 places; --strict "
        "refuses it\nHint: run `payerbrief validate` to list them"
    )


def test_ingest_tic_keeps_the_valid_items_of_a_truncated_file(
    tmp_path: Path, shared_data: Path
) -> None:
    import gzip

    text = gzip.decompress(
        (shared_data / "tic/carefirst/carefirst_examplefile.json.gz").read_bytes()
    )
    cut = tmp_path / "cut.json"
    cut.write_bytes(text[: len(text) // 2])
    code, out, err = run(tmp_path / "home", "ingest", "tic", str(cut))
    assert code == 1
    assert ", incomplete: " in out
    assert "files failed; everything valid is loaded" in err
    code, out, _ = run(tmp_path / "home", "sources", "--json")
    (entry,) = [e for e in json.loads(out) if e["kind"] == "tic-in-network"]
    assert not entry["complete"]
    assert 0 < entry["rows_loaded"] < 122_310
    assert entry["rows_read"] == entry["rows_loaded"] + entry["rows_rejected"]


def test_tic_options_only_apply_to_payer_files(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "ingest", "gpci", "--plan", "PPO", "GPCI2025.csv")
    assert code == 2
    assert err == ("Error: --plan only apply to payer files\nHint: use `ingest tic`\n")
