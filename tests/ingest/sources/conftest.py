"""The databases the database-source suite runs against: SQLite, PostgreSQL and MariaDB.

``db`` is one fresh, empty database per test on each backend (the servers start once per
session, and only when a test asks for them). Its helpers create tables from portable column
definitions and insert Python values, so every test reads the same data from every backend.
"""

from __future__ import annotations

import datetime as dt
import decimal
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]

# Portable type names -> each backend's spelling of the same SQL type.
_SPELLINGS = {
    "mariadb": {"TIMESTAMP": "DATETIME(6)", "TIMESTAMPTZ": "TIMESTAMP(6) NULL", "BYTES": "BLOB"},
    "postgresql": {"TIMESTAMPTZ": "TIMESTAMPTZ", "BYTES": "BYTEA"},
    "sqlite": {"TIMESTAMPTZ": "TIMESTAMPTZ", "BYTES": "BLOB"},
}


@dataclass
class Database:
    """One empty database: its URL and helpers to put rows in it."""

    backend: str
    url: str
    _connect: Any
    _conns: list[Any] = field(default_factory=list)

    @property
    def conn(self) -> Any:
        if not self._conns:
            self._conns.append(self._connect())
        return self._conns[0]

    def execute(self, sql: str) -> None:
        cur = self.conn.cursor()
        cur.execute(sql)
        cur.close()
        if self.backend == "sqlite":
            self.conn.commit()

    def create(
        self, table: str, columns: Sequence[tuple[str, str]], key: str | None = "id"
    ) -> None:
        """``CREATE TABLE`` with portable types (see ``_SPELLINGS``)."""
        spell = _SPELLINGS[self.backend]
        defs = [f"{name} {spell.get(kind, kind)}" for name, kind in columns]
        if key:
            defs.append(f"PRIMARY KEY ({key})")
        self.execute(f"CREATE TABLE {table} ({', '.join(defs)})")

    def insert(self, table: str, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        mark = "?" if self.backend == "sqlite" else "%s"
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
        if self.backend == "sqlite":
            rows = [tuple(_sqlite_value(v) for v in row) for row in rows]
        cur = self.conn.cursor()
        if self.backend == "postgresql":  # one statement, not one round trip per row
            from psycopg2.extras import execute_values

            execute_values(cur, sql.rsplit(" VALUES ", 1)[0] + " VALUES %s", rows, page_size=5000)
        else:
            cur.executemany(sql, [tuple(r) for r in rows])
        cur.close()
        if self.backend == "sqlite":
            self.conn.commit()

    def close(self) -> None:
        for conn in self._conns:
            conn.close()


def _sqlite_value(value: Any) -> Any:
    """Python values as SQLite stores them by convention (ISO text for dates)."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    return value


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh database on each backend."""
    yield from _database(request, request.param, tmp_path)


def _database(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[Database]:
    if backend == "sqlite":
        path = tmp_path / "source.db"
        database = Database(backend, f"sqlite:///{path}", lambda: sqlite3.connect(path))
    elif backend == "postgresql":
        import psycopg2

        server = request.getfixturevalue("postgres_server")
        name = server.create_database("src")

        def connect_pg() -> Any:
            conn = psycopg2.connect(
                host=server.host, port=server.port, user=server.user, dbname=name
            )
            conn.autocommit = True
            return conn

        database = Database(backend, server.url(name), connect_pg)
    else:
        server = request.getfixturevalue("mariadb_server")
        name = server.create_database("src")
        database = Database(backend, server.url(name), lambda: server.connect(name))
    try:
        yield database
    finally:
        database.close()
