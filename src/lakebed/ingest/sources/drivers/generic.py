"""Any other database SQLAlchemy can reach, through its DBAPI driver (the slow, general path).

There is no Arrow-native client to lean on, so rows arrive as Python tuples over a
server-side cursor where the dialect offers one. DBAPI type codes differ by driver, so column
types are inferred from the first rows' values (the fast backends read declared types).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from lakebed.errors import QueryError
from lakebed.ingest.sources.drivers.base import Chunk, Column, Driver, connection_error

_SAMPLE_ROWS = 1000


def infer_type(values: Sequence[Any]) -> pa.DataType:
    """The Arrow type for a column from its sampled (Python) values; text when all are NULL."""
    present = [v for v in values if v is not None]
    if not present:
        return pa.string()
    first = present[0]
    if isinstance(first, bool):
        return pa.bool_()
    if isinstance(first, int):
        return pa.int64()
    if isinstance(first, float):
        return pa.float64()
    if isinstance(first, decimal.Decimal):
        inferred = pa.array(present).type
        return inferred if pa.types.is_decimal128(inferred) else pa.float64()
    if isinstance(first, dt.datetime):
        return pa.timestamp("us", tz="UTC" if first.tzinfo else None)
    if isinstance(first, dt.date):
        return pa.date32()
    if isinstance(first, dt.time):
        return pa.time64("us")
    if isinstance(first, bytes | bytearray | memoryview):
        return pa.binary()
    return pa.string()


class GenericDriver(Driver):
    """Reads through SQLAlchemy and the dialect's DBAPI driver."""

    name = "sqlalchemy"

    def _engine(self) -> sa.Engine:
        return sa.create_engine(self.url, poolclass=NullPool)

    def _connect(self, engine: sa.Engine) -> sa.Connection:
        try:
            return engine.connect()
        except sa.exc.DBAPIError as exc:
            raise connection_error(exc.orig or exc, self) from exc

    def describe(self, from_sql: str) -> list[Column]:
        engine = self._engine()
        try:
            with self._connect(engine) as conn:
                try:
                    result = conn.exec_driver_sql(f"SELECT * FROM {from_sql}")
                    names = list(result.keys())
                    rows = result.fetchmany(_SAMPLE_ROWS)
                    result.close()
                except sa.exc.DBAPIError as exc:
                    raise QueryError(
                        f"cannot read from {from_sql} in {self.uri}: {exc.orig}",
                        fix="check the table name or query against the database's schema",
                    ) from exc
        finally:
            engine.dispose()
        samples = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        return [
            Column(name, infer_type(values), self.quote(name))
            for name, values in zip(names, samples, strict=True)
        ]

    def stream(self, sql: str, columns: Sequence[Column], batch_rows: int) -> Iterator[Chunk]:
        engine = self._engine()
        try:
            with self._connect(engine) as conn:
                try:
                    result = conn.execution_options(stream_results=True).exec_driver_sql(sql)
                except sa.exc.DBAPIError as exc:
                    raise QueryError(f"failed to run {sql!r} on {self.uri}: {exc.orig}") from exc
                while rows := result.fetchmany(batch_rows):
                    yield [tuple(row) for row in rows]
        finally:
            engine.dispose()
