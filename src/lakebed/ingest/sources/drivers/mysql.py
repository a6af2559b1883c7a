"""MySQL and MariaDB through connectorx (Arrow, streamed), with pymysql as the fallback.

The result's types come from the protocol's column definitions (read with pymysql on an empty
result): ``TINYINT(1)`` is a boolean, unsigned integers widen to the next signed width
(``BIGINT UNSIGNED`` to ``decimal128(20,0)``), binary-collated text is binary. Dates, datetimes,
timestamps and times are selected as text and parsed by lakebed: connectorx aborts the whole
query on MariaDB's zero date ``'0000-00-00'``, where text lets lakebed quarantine just that
row. ``TIMESTAMP`` columns (instants) are converted to UTC on the server.

connectorx's ``arrow_stream`` mode reads in bounded batches. When connectorx is not installed
or cannot run a query (its SQL parser does not know every MySQL construct) the same SELECT is
read with pymysql's unbuffered cursor instead, as long as no row was handed out yet.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from lakebed.errors import QueryError, StorageError
from lakebed.ingest.sources.drivers.base import (
    CONNECT_TIMEOUT,
    Chunk,
    Column,
    Driver,
    connection_error,
)

_UNSIGNED, _ENUM, _SET = 32, 256, 2048
_BINARY_CHARSET = 63
_log = logging.getLogger(__name__)
# Protocol type codes (pymysql.constants.FIELD_TYPE).
_DECIMALS = {0, 246}
_TINY, _SHORT, _LONG, _FLOAT, _DOUBLE, _TIMESTAMP, _LONGLONG, _INT24 = 1, 2, 3, 4, 5, 7, 8, 9
_DATE, _TIME, _DATETIME, _YEAR, _NEWDATE, _BIT, _JSON = 10, 11, 12, 13, 14, 16, 245
_TEXTS = {15, 253, 254, 249, 250, 251, 252}


def map_field(field: Any, quoted: str) -> Column:
    """The column lakebed reads for one column definition of a pymysql result."""
    code, flags, length = field.type_code, field.flags, field.length
    unsigned = bool(flags & _UNSIGNED)
    name = field.name

    def col(target: pa.DataType, expr: str = quoted, raw: pa.DataType | None = None) -> Column:
        return Column(name, target, expr, raw, sql_type=_type_name(code, unsigned))

    if code in _DECIMALS:
        scale = field.scale
        precision = length - (1 if scale else 0) - (0 if unsigned else 1)
        if not 0 < precision <= 38:
            return col(pa.float64())
        if scale > 10:  # connectorx reads decimals with 10 digits of scale
            return col(pa.decimal128(precision, scale), f"CAST({quoted} AS CHAR)", pa.string())
        return col(pa.decimal128(precision, scale))
    ints = {
        _TINY: (pa.int8(), pa.int16()),
        _SHORT: (pa.int16(), pa.int32()),
        _INT24: (pa.int32(), pa.int32()),
        _LONG: (pa.int32(), pa.int64()),
        _LONGLONG: (pa.int64(), pa.decimal128(20, 0)),
        _YEAR: (pa.int16(), pa.int16()),
    }
    if code == _TINY and length == 1 and not unsigned:
        return col(pa.bool_())
    if code in ints:
        return col(ints[code][unsigned])
    if code == _FLOAT:
        return col(pa.float32())
    if code == _DOUBLE:
        return col(pa.float64())
    if code in (_DATE, _NEWDATE):
        return col(pa.date32(), f"CAST({quoted} AS CHAR)", pa.string())
    if code == _DATETIME:
        return col(pa.timestamp("us"), f"CAST({quoted} AS CHAR)", pa.string())
    if code == _TIMESTAMP:
        utc = f"CAST(CONVERT_TZ({quoted}, @@session.time_zone, '+00:00') AS CHAR)"
        return col(pa.timestamp("us", tz="UTC"), utc, pa.string())
    if code == _TIME:
        return col(pa.time64("us"), f"CAST({quoted} AS CHAR)", pa.string())
    if code == _BIT:
        return col(pa.int64(), f"CAST({quoted} AS UNSIGNED)")
    if code in _TEXTS or code == _JSON:
        if field.charsetnr == _BINARY_CHARSET and not flags & (_ENUM | _SET):
            return col(pa.binary())
        return col(pa.string())
    return col(pa.string(), f"CAST({quoted} AS CHAR)")


def _type_name(code: int, unsigned: bool) -> str:
    from pymysql.constants import FIELD_TYPE

    names = {v: k for k, v in vars(FIELD_TYPE).items() if isinstance(v, int)}
    return names.get(code, str(code)) + (" UNSIGNED" if unsigned else "")


class MySQLDriver(Driver):
    """Reads MySQL or MariaDB with connectorx, or pymysql when connectorx cannot."""

    name = "mysql"
    backslash_escapes = True

    def engine(self) -> sa.Engine:
        url = self.url
        if "+" not in url.drivername:  # SQLAlchemy's default, mysqlclient, is not installed
            url = url.set(drivername=f"{url.get_backend_name()}+pymysql")
        return sa.create_engine(url, poolclass=NullPool)

    def literal(self, value: object) -> str:
        # MariaDB reads no zone offset in a datetime literal; bookmark values are UTC already.
        if isinstance(value, datetime.datetime) and value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        return super().literal(value)

    def _connect(self, unbuffered: bool = False) -> Any:
        import pymysql
        import pymysql.cursors

        query = dict(self.url.query)
        try:
            return pymysql.connect(
                host=self.url.host or "localhost",
                port=self.url.port or 3306,
                user=self.url.username or "",
                password=self.url.password or "",
                database=self.url.database,
                unix_socket=query.get("unix_socket"),
                charset=str(query.get("charset", "utf8mb4")),
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT,
                cursorclass=pymysql.cursors.SSCursor if unbuffered else pymysql.cursors.Cursor,
            )
        except pymysql.err.MySQLError as exc:
            raise connection_error(exc, self) from exc

    def describe(self, from_sql: str) -> list[Column]:
        import pymysql

        conn = self._connect()
        try:
            with conn.cursor() as cur:
                try:
                    cur.execute(f"SELECT * FROM {from_sql} LIMIT 0")
                except pymysql.err.MySQLError as exc:
                    raise QueryError(
                        f"{self.name} cannot read from {from_sql} in {self.uri}: {exc.args[-1]}",
                        fix="check the table name or query against the database's schema",
                    ) from exc
                fields = cur._result.fields if cur._result else []
        finally:
            conn.close()
        return [map_field(f, self.quote(f.name)) for f in fields]

    def stream(self, sql: str, columns: Sequence[Column], batch_rows: int) -> Iterator[Chunk]:
        reader, first = self._connectorx(sql, batch_rows)
        if reader is None:
            yield from self._pymysql(sql, batch_rows)
            return
        try:
            if first is not None:
                yield first
            yield from reader
        except Exception as exc:
            raise StorageError(
                f"reading from {self.where()} ({self.uri}) broke off: {exc}",
                fix="run the load again; rows already read are not committed",
                transient=True,
            ) from exc
        finally:
            reader.close()

    def _connectorx(self, sql: str, batch_rows: int) -> tuple[Any, pa.RecordBatch | None]:
        """A connectorx reader and its first batch, or ``(None, None)`` to use pymysql."""
        try:
            import connectorx
        except ImportError:
            return None, None
        dsn = self.url.set(drivername="mysql").render_as_string(hide_password=False)
        try:
            read_sql: Any = connectorx.read_sql
            reader = read_sql(dsn, sql, return_type="arrow_stream", batch_size=batch_rows)
            try:
                return reader, reader.read_next_batch()
            except StopIteration:
                return reader, None
        except BaseException as exc:  # connectorx panics are BaseExceptions
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            _log.debug("connectorx cannot read %s (%s); reading with pymysql", self.uri, exc)
            return None, None

    def _pymysql(self, sql: str, batch_rows: int) -> Iterator[Chunk]:
        import pymysql

        conn = self._connect(unbuffered=True)
        try:
            with conn.cursor() as cur:
                try:
                    cur.execute(sql)
                except pymysql.err.MySQLError as exc:
                    raise QueryError(
                        f"{self.name} failed to run {sql!r} on {self.uri}: {exc.args[-1]}"
                    ) from exc
                while rows := cur.fetchmany(batch_rows):
                    yield list(rows)
        finally:
            conn.close()
