from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public files shared by the project, in ../shared/data."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"
