"""Shared fixtures: the real public files in ../shared/data, and a demo warehouse."""

from pathlib import Path

import pytest

from payerbrief.demo import load_demo_data
from payerbrief.facts.reference import Reference
from payerbrief.store.warehouse import Warehouse

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse loaded once with the bundled demo data, for read-only tests."""
    home = tmp_path_factory.mktemp("demo-home")
    with Warehouse(home) as warehouse:
        load_demo_data(warehouse)
    return home


@pytest.fixture(scope="session")
def medicare_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled reference data without the CareFirst payer file."""
    home = tmp_path_factory.mktemp("medicare-home")
    with Warehouse(home) as warehouse:
        load_demo_data(warehouse, payers=False)
    return home


@pytest.fixture(scope="session")
def reference(demo_home: Path) -> Reference:
    with Warehouse(demo_home) as warehouse:
        return Reference.load(warehouse)


DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def coding_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo warehouse plus NCCI, MUE and coverage files in CMS's layouts."""
    from payerbrief.ingest import ingest

    home = tmp_path_factory.mktemp("coding-home")
    with Warehouse(home) as warehouse:
        load_demo_data(warehouse)
        ingest(warehouse, "ncci-ptp", sorted((DATA / "ncci").glob("*.TXT")))
        ingest(warehouse, "mue", sorted((DATA / "mue").glob("*.csv")))
        ingest(warehouse, "mcd-article", [DATA / "mcd"])
    return home


@pytest.fixture(scope="session")
def coding_reference(coding_home: Path) -> Reference:
    with Warehouse(coding_home) as warehouse:
        return Reference.load(warehouse)
