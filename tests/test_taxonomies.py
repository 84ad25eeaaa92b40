"""Provider taxonomies: payer files' NPIs, NPPES taxonomies, NUCC names."""

import csv
import shutil
from pathlib import Path

import pytest
from tic_factory import write_payer_files

from payerbrief.brief.build import build_brief
from payerbrief.brief.grounding import ungrounded
from payerbrief.facts.model import State
from payerbrief.facts.reference import Reference
from payerbrief.render import render_markdown
from payerbrief.sources.nppes import NppesReader
from payerbrief.sources.tic.innetwork import TicInNetworkReader
from payerbrief.store.warehouse import Warehouse

NPPES_SAMPLE = Path(__file__).parent / "data" / "nppes"
# The Aetna file of the factory names NPIs 1000000103 to 1000000803 and
# 1000000111; give them taxonomies (NUCC 25.1 codes). 1000000103 and 1000000111
# pass the NPI check digit; 1000000203 and 1000000303 fail it, so NPPES's
# taxonomy for them is not trusted.
TAXONOMIES = {
    1000000103: "207Q00000X",  # Family Medicine
    1000000203: "207Q00000X",
    1000000303: "207R00000X",  # Internal Medicine
    1000000111: "207Y00000X",  # Otolaryngology
}


def write_nppes(folder: Path) -> Path:
    """An NPPES file in CMS's layout (the header of the sample), for the NPIs."""
    sample = sorted(NPPES_SAMPLE.glob("npidata_pfile_20050523-*.csv"))[0]
    with sample.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    where = {name: i for i, name in enumerate(header)}
    path = folder / "npidata_pfile_20050523-20251109.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(header)
        for npi, taxonomy in TAXONOMIES.items():
            row = [""] * len(header)
            row[where["NPI"]] = str(npi)
            row[where["Entity Type Code"]] = "1"
            row[where["Healthcare Provider Taxonomy Code_1"]] = taxonomy
            row[where["Healthcare Provider Primary Taxonomy Switch_1"]] = "Y"
            row[where["Provider Business Practice Location Address State Name"]] = "MD"
            row[where["Provider Business Practice Location Address Postal Code"]] = (
                "212011234"
            )
            writer.writerow(row)
    return path


@pytest.fixture(scope="module")
def taxonomy_ref(medicare_home: Path, tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("taxonomy") / "home"
    shutil.copytree(medicare_home, home)
    files = tmp_path_factory.mktemp("taxonomy-files")
    with Warehouse(home) as warehouse:
        warehouse.load(TicInNetworkReader(write_payer_files(files)["aetna"]))
        warehouse.load(NppesReader(write_nppes(files)))
        return Reference.load(warehouse)


def test_taxonomies_of_the_providers_with_rates(taxonomy_ref: Reference) -> None:
    brief = build_brief(taxonomy_ref, taxonomy_ref.resolve("99213"))
    fact = brief.section("coding").facts["provider_taxonomies"]
    assert fact.state is State.PRESENT
    shares = {t["taxonomy"]: t for t in fact.value["taxonomies"]}
    assert shares["207Q00000X"]["name"] == "Family Medicine Physician"
    assert shares["207Q00000X"]["providers"] == 1
    assert "207R00000X" not in shares
    assert shares["not in NPPES"]["providers"] == 7
    assert ungrounded(brief) == []
    assert "| 207Q00000X | Family Medicine Physician | 1 |" in render_markdown(brief)


def test_without_nppes_taxonomies_are_not_available(reference: Reference) -> None:
    brief = build_brief(reference, reference.resolve("31231"))
    fact = brief.section("coding").facts["provider_taxonomies"]
    assert fact.state is State.NOT_AVAILABLE
    assert fact.reason == "No NPPES file loaded to give the providers' taxonomies"


def test_a_licensed_cpt_descriptor_is_used_and_named(
    medicare_home: Path, tmp_path: Path
) -> None:
    from payerbrief.ingest import ingest

    home = tmp_path / "home"
    shutil.copytree(medicare_home, home)
    with Warehouse(home) as warehouse:
        ingest(
            warehouse, "cpt-descriptors", [NPPES_SAMPLE.parent / "cpt" / "LONGULT.txt"]
        )
        ref = Reference.load(warehouse)
    brief = build_brief(ref, ref.resolve("3372F"))
    fact = brief.section("summary").facts["descriptor"]
    assert fact.value["text"] == "Test descriptor for 3372F"
    assert fact.value["kind"].endswith(
        "long descriptors (user-supplied licence) descriptor"
    )
    assert fact.sources[0].kind == "cpt-descriptors"
    # HCPCS Level II codes keep the HCPCS descriptor.
    hcpcs = (
        build_brief(ref, ref.resolve("E0601")).section("summary").facts["descriptor"]
    )
    assert hcpcs.value["kind"] == "HCPCS Level II long descriptor"
