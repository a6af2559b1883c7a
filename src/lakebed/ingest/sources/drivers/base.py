"""What a database driver does for :class:`~lakebed.ingest.sources.database.DatabaseSource`.

A driver knows one backend's native, Arrow-friendly client. It says what a SELECT returns
(:meth:`Driver.describe`: each column's target Arrow type and the SQL that fetches it in a form
the client reads without loss) and streams the rows (:meth:`Driver.stream`), either as Arrow
record batches or as chunks of Python row tuples. Turning either into the target types, with bad
values sent to the quarantine, is shared (:mod:`.convert`), so every backend gives the same Arrow
types for the same SQL types.
"""

from __future__ import annotations

import datetime
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from lakebed.errors import ConfigError, LakebedError, NotFoundError, StorageError

#: Seconds to wait for a server to answer a connection attempt.
CONNECT_TIMEOUT = 10

#: What :meth:`Driver.stream` yields: Arrow batches, or lists of row tuples in column order.
Chunk: TypeAlias = pa.RecordBatch | list[tuple[Any, ...]]


@dataclass(frozen=True)
class Column:
    """One result column: its name, the Arrow type lakebed gives it, and how to select it.

    ``expr`` is the SQL that fetches the column from the wrapped result (usually its quoted
    name; a cast to text where the client would lose or choke on the native value, such as
    MariaDB's zero dates). ``raw`` is the Arrow type row tuples are first built as when it
    differs from ``type`` (text that is parsed into dates afterwards, for one).
    """

    name: str
    type: pa.DataType
    expr: str
    raw: pa.DataType | None = None
    #: The backend's own name for the type, for messages.
    sql_type: str = ""


class Driver(ABC):
    """Reads one backend through its native client; one connection per :meth:`stream` call."""

    #: Short name shown in messages: ``"postgresql"``, ``"mysql"``, ...
    name: str = ""
    #: True when string literals treat backslash as an escape (MySQL, MariaDB).
    backslash_escapes: bool = False

    def __init__(self, url: sa.URL, uri: str) -> None:
        self.url = url
        self.uri = uri
        self.dialect: sa.Dialect = url.get_dialect()()

    def quote(self, name: str) -> str:
        """``name`` quoted as an identifier when the backend needs it."""
        return str(self.dialect.identifier_preparer.quote(name))

    @abstractmethod
    def describe(self, from_sql: str) -> list[Column]:
        """The columns of ``SELECT * FROM <from_sql>``, without reading its rows."""

    @abstractmethod
    def stream(self, sql: str, columns: Sequence[Column], batch_rows: int) -> Iterator[Chunk]:
        """The rows of ``sql`` (which selects ``columns`` in order), about ``batch_rows`` at a
        time, over a connection of the call's own (callers read from several threads)."""

    def engine(self) -> sa.Engine:
        """A SQLAlchemy engine for questions about the schema (tables, keys, min and max)."""
        return sa.create_engine(self.url, poolclass=NullPool)

    def literal(self, value: object) -> str:
        """``value`` as a SQL literal of this backend."""
        return render_literal(value, backslash_escapes=self.backslash_escapes)

    def where(self) -> str:
        """Where the server is, for messages: ``host:port`` or a file."""
        return f"{self.url.host or 'localhost'}:{self.url.port or _default_port(self.url)}"


def _default_port(url: sa.URL) -> int | str:
    return {"postgresql": 5432, "mysql": 3306, "mariadb": 3306}.get(url.get_backend_name(), "?")


_AUTH_WORDS = ("password authentication failed", "access denied", "authentication failed")
_NO_DB_WORDS = ("unknown database", "does not exist")


def connection_error(exc: BaseException, driver: Driver) -> LakebedError:
    """The :class:`LakebedError` for a failed connection attempt, naming the server and fix."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = str(exc).lower()
    where = driver.where()
    if any(word in lowered for word in _AUTH_WORDS):
        return ConfigError(
            f"the {driver.name} server at {where} refused the login in {driver.uri}: {text}",
            fix="check the user name and password in the database URL",
        )
    if "database" in lowered and any(word in lowered for word in _NO_DB_WORDS):
        return NotFoundError(
            f"the database in {driver.uri} does not exist on {where}: {text}",
            fix="check the database name at the end of the URL, or create it",
        )
    return StorageError(
        f"cannot connect to the {driver.name} server at {where} ({driver.uri}): {text}",
        fix=f"check that the server is running and reachable at {where}, "
        "and that host and port in the URL are right",
        transient=True,
    )


def render_literal(value: object, *, backslash_escapes: bool = False) -> str:
    """``value`` (an int, date, datetime or str) as a SQL literal.

    Datetimes print as ``'YYYY-MM-DD HH:MM:SS[.ffffff][+00:00]'``, the form every backend (and
    SQLite's own ``CURRENT_TIMESTAMP`` text) compares correctly."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime.datetime):
        return f"'{value.isoformat(sep=' ')}'"
    if isinstance(value, datetime.date):
        return f"'{value.isoformat()}'"
    text = str(value)
    if backslash_escapes:
        text = text.replace("\\", "\\\\")
    return "'" + text.replace("'", "''") + "'"
