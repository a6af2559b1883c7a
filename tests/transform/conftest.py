from __future__ import annotations

from pathlib import Path

import pytest

import lakebed
from lakebed import Lake
from lakebed.transform.sample import sample_table


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = lakebed.open(str(tmp_path / "lake"))
    lake.create_table("raw.people", sample_table())
    return lake
