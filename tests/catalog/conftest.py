"""Fixtures for the catalog suite: every behaviour test runs on SQLite and on PostgreSQL.

``catalog_url`` is a fresh, empty catalog database per test: a SQLite file in ``tmp_path``, or a
new database on the session's real PostgreSQL server (tests marked ``postgres``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.servers.postgres import PostgresServer

from lakebed.catalog import Catalog

BACKENDS = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty catalog database on the backend under test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog' / 'catalog.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.url(server.create_database("catalog"))


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    return (tmp_path / "warehouse").as_uri()


@pytest.fixture
def open_catalog(catalog_url: str, warehouse: str) -> Iterator[Callable[[], Catalog]]:
    """Open (another) Catalog on the test's database; all are closed at the end."""
    opened: list[Catalog] = []

    def make() -> Catalog:
        catalog = Catalog(catalog_url, warehouse)
        opened.append(catalog)
        return catalog

    yield make
    for catalog in opened:
        catalog.close()


@pytest.fixture
def catalog(open_catalog: Callable[[], Catalog]) -> Catalog:
    """A catalog with one empty database, ``db``."""
    cat = open_catalog()
    cat.create_database("db")
    return cat
