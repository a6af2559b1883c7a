"""SQLite through the standard library's :mod:`sqlite3`, typed by the declared column types.

SQLite stores any value in any column, so the declared type is the only schema there is: it is
read from a temporary view over the SELECT (``PRAGMA table_info``), mapped to Arrow the way the
other backends map the same SQL type (``INT`` is 32-bit, ``BIGINT``/``INTEGER`` 64-bit,
``NUMERIC(10,2)`` a decimal, ``DATE``/``TIMESTAMP`` stored as ISO text), and each value that does
not fit is a bad record. A column with no declared type (an expression) takes the type of its
first non-NULL value. The file is opened read-only, so a wrong path never creates a database.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from lakebed.errors import NotFoundError, QueryError
from lakebed.ingest.sources.drivers.base import Chunk, Column, Driver

_views = itertools.count()
_DECIMAL = re.compile(r"(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)")
_INTS = {
    "TINYINT": pa.int8(),
    "SMALLINT": pa.int16(),
    "INT2": pa.int16(),
    "MEDIUMINT": pa.int32(),
    "INT": pa.int32(),
    "INT4": pa.int32(),
}


def arrow_type(declared: str) -> pa.DataType:
    """The Arrow type for a declared SQLite column type (affinity rules as the fallback)."""
    decl = declared.strip().upper()
    base = decl.split("(")[0].strip()
    if base in _INTS:
        return _INTS[base]
    if base in ("BOOL", "BOOLEAN"):
        return pa.bool_()
    if base == "DATE":
        return pa.date32()
    if "TIMESTAMP" in base or base == "DATETIME":
        zoned = "TZ" in base or "WITH TIME ZONE" in decl
        return pa.timestamp("us", tz="UTC" if zoned else None)
    if base == "TIME":
        return pa.time64("us")
    match = _DECIMAL.match(decl)
    if match and int(match.group(1)) <= 38:
        return pa.decimal128(int(match.group(1)), int(match.group(2) or 0))
    if "INT" in base:
        return pa.int64()
    if any(word in base for word in ("CHAR", "CLOB", "TEXT", "JSON", "UUID")):
        return pa.string()
    if "BLOB" in base or "BINARY" in base or "BYTEA" in base:
        return pa.binary()
    if base in ("FLOAT4", "REAL4"):
        return pa.float32()
    return pa.float64()  # REAL, FLOAT, DOUBLE, NUMERIC without precision: numeric affinity


def _type_of_value(value: object) -> pa.DataType:
    if isinstance(value, bool | int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    if isinstance(value, bytes):
        return pa.binary()
    return pa.string()


class SQLiteDriver(Driver):
    """Reads a SQLite file with :mod:`sqlite3`."""

    name = "sqlite"

    def where(self) -> str:
        return str(self.url.database or ":memory:")

    def engine(self) -> sa.Engine:
        # Through the same read-only connection: SQLAlchemy would create a missing file.
        return sa.create_engine("sqlite://", creator=self._connect, poolclass=NullPool)

    def _connect(self) -> sqlite3.Connection:
        database = self.url.database or ":memory:"
        if database == ":memory:":
            return sqlite3.connect(database, check_same_thread=False)
        path = Path(database)
        if not path.is_file():
            raise NotFoundError(
                f"the SQLite database {path} does not exist",
                fix="check the path after sqlite:/// (four slashes for an absolute path)",
            )
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)

    def describe(self, from_sql: str) -> list[Column]:
        conn = self._connect()
        view = f"lakebed_describe_{next(_views)}"
        try:
            conn.execute(f"CREATE TEMP VIEW {view} AS SELECT * FROM {from_sql}")
            info = conn.execute(f"PRAGMA temp.table_info({view})").fetchall()
            columns = []
            for _, name, declared, *_ in info:
                quoted = self.quote(name)
                if declared:
                    target = arrow_type(declared)
                else:
                    row = conn.execute(
                        f"SELECT {quoted} FROM {view} WHERE {quoted} IS NOT NULL LIMIT 1"
                    ).fetchone()
                    target = _type_of_value(row[0]) if row else pa.string()
                    declared = "(expression)"
                columns.append(self._column(name, quoted, target, declared))
            return columns
        except sqlite3.Error as exc:
            raise QueryError(
                f"SQLite cannot read from {from_sql} in {self.uri}: {exc}",
                fix="check the table name or query against the database's schema",
            ) from exc
        finally:
            conn.close()

    @staticmethod
    def _column(name: str, quoted: str, target: pa.DataType, declared: str) -> Column:
        if pa.types.is_decimal(target):
            # Exact decimal text (SQLite prints REALs with 15 significant digits).
            return Column(name, target, f"CAST({quoted} AS TEXT)", pa.string(), declared)
        if pa.types.is_temporal(target):
            return Column(name, target, quoted, pa.string(), declared)
        if pa.types.is_boolean(target):
            return Column(name, target, quoted, pa.int64(), declared)
        return Column(name, target, quoted, None, declared)

    def stream(self, sql: str, columns: Sequence[Column], batch_rows: int) -> Iterator[Chunk]:
        conn = self._connect()
        try:
            cursor = conn.execute(sql)
            while rows := cursor.fetchmany(batch_rows):
                yield rows
        except sqlite3.Error as exc:
            raise QueryError(f"SQLite failed to run {sql!r} on {self.uri}: {exc}") from exc
        finally:
            conn.close()
