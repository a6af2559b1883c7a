"""PostgreSQL through ADBC (``adbc_driver_postgresql``): rows arrive as Arrow over ``COPY``.

ADBC already gives most PostgreSQL types their Arrow type. What it hands over as an opaque or
extension type is settled here: ``numeric(p,s)`` becomes ``decimal128(p,s)`` (``float64``
when the precision is not declared or passes 38 digits), ``json``/``jsonb`` text, and ``uuid``,
enums and any other type PostgreSQL prints are selected as ``::text``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from lakebed.errors import MissingDependencyError, QueryError
from lakebed.ingest.sources.drivers.base import (
    CONNECT_TIMEOUT,
    Chunk,
    Column,
    Driver,
    connection_error,
)

_NATIVE = (
    pa.types.is_integer,
    pa.types.is_floating,
    pa.types.is_boolean,
    pa.types.is_date,
    pa.types.is_timestamp,
    pa.types.is_time,
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_binary,
    pa.types.is_large_binary,
)


def _is_plain(arrow: pa.DataType) -> bool:
    if isinstance(arrow, pa.ExtensionType):
        return False
    if pa.types.is_list(arrow) or pa.types.is_large_list(arrow):
        return _is_plain(arrow.value_type)
    return any(check(arrow) for check in _NATIVE)


def _numeric(typmod: int) -> pa.DataType:
    """``numeric``'s Arrow type from its type modifier (-1 when it has no precision)."""
    if typmod < 4:
        return pa.float64()
    precision, scale = (typmod - 4) >> 16, (typmod - 4) & 0xFFFF
    return pa.decimal128(precision, scale) if 0 < precision <= 38 else pa.float64()


def map_field(field: pa.Field, quoted: str) -> Column:
    """The column lakebed reads for one field of ADBC's result schema."""
    meta = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
    pg_type = meta.get("POSTGRESQL:type", str(field.type))
    if pg_type == "numeric":
        target = _numeric(int(meta.get("POSTGRESQL:typmod", "-1")))
        return Column(field.name, target, quoted, sql_type=pg_type)
    if pg_type in ("json", "jsonb"):
        return Column(field.name, pa.string(), quoted, sql_type=pg_type)
    if _is_plain(field.type):
        arrow = field.type
        if pa.types.is_timestamp(arrow) and arrow.tz is not None:
            arrow = pa.timestamp("us", tz="UTC")
        return Column(field.name, arrow, quoted, sql_type=pg_type)
    return Column(field.name, pa.string(), f"CAST({quoted} AS text)", sql_type=pg_type)


class PostgresDriver(Driver):
    """Reads PostgreSQL with the ADBC driver, one connection per stream."""

    name = "postgresql"

    def _url(self) -> sa.URL:
        """The URL with a connect timeout (libpq waits for the OS's, minutes, by default)."""
        if "connect_timeout" in self.url.query:
            return self.url
        return self.url.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT)})

    def engine(self) -> sa.Engine:
        return sa.create_engine(self._url(), poolclass=NullPool)

    def _connect(self) -> Any:
        try:
            import adbc_driver_postgresql.dbapi as adbc
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise MissingDependencyError("adbc-driver-postgresql") from exc
        dsn = self._url().set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            return adbc.connect(dsn, autocommit=True)
        except Exception as exc:
            raise connection_error(exc, self) from exc

    def describe(self, from_sql: str) -> list[Column]:
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                try:
                    schema = cur.adbc_execute_schema(f"SELECT * FROM {from_sql}")
                except Exception as exc:
                    raise QueryError(
                        f"PostgreSQL cannot read from {from_sql} in {self.uri}: {_first(exc)}",
                        fix="check the table name or query against the database's schema",
                    ) from exc
        finally:
            conn.close()
        return [map_field(f, self.quote(f.name)) for f in schema]

    def stream(self, sql: str, columns: Sequence[Column], batch_rows: int) -> Iterator[Chunk]:
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                try:
                    cur.execute(sql)
                    reader = cur.fetch_record_batch()
                except Exception as exc:
                    raise QueryError(
                        f"PostgreSQL failed to run {sql!r} on {self.uri}: {_first(exc)}"
                    ) from exc
                for batch in reader:
                    for start in range(0, batch.num_rows, batch_rows):
                        yield batch.slice(start, batch_rows)
        finally:
            conn.close()


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
