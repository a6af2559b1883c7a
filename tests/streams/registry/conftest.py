"""A schema registry on a fresh catalog database: SQLite file, or PostgreSQL (marked)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from lakebed.streams.registry import SchemaRegistry

BACKENDS = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]


def _engine(url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty catalog database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'catalog.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.url(server.create_database("schemas"))
    yield from _engine(url)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[SchemaRegistry]:
    """A registry on a SQLite file (compatibility rules do not depend on the backend)."""
    for engine in _engine(f"sqlite:///{tmp_path / 'catalog.db'}"):
        yield SchemaRegistry(engine)
