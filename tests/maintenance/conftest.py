"""Fixtures for the maintenance suite: a lake in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

import lakebed
from lakebed import Lake


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    opened = lakebed.open(tmp_path / "lake", env={})
    opened.create_database("db")
    return opened
