"""A schema registry on a SQLite file for the codec tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from lakebed.streams.registry import SchemaRegistry


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[SchemaRegistry]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield SchemaRegistry(engine)
    engine.dispose()
