"""A database table or SELECT as an ingestion source: :class:`DatabaseSource`.

Rows are read with each backend's Arrow-native client (see :mod:`.drivers`) and arrive with the
same Arrow types whatever the backend. A load can be *incremental* on a strictly increasing
column (an id, an ``updated_at``): the plan reads rows past the bookmark up to the column's
maximum at planning time, and that maximum is the new bookmark. A large read is split into
key ranges (``id > 1000 AND id <= 2000``) that several threads read at once.

Where NULL keys go: rows whose *partition* column is NULL are read with the first range
(``id <= 1000 OR id IS NULL``), so a split read covers every row. Rows whose *incremental*
column is NULL can never pass a bookmark, so incremental loads leave them out and the plan says
how many there are (a note in the run summary); load them with a non-incremental load.

Bookmark values are compared in SQL as literals: dates as ``'YYYY-MM-DD'``, timestamps as
``'YYYY-MM-DD HH:MM:SS[.ffffff]'`` (UTC with ``+00:00`` for zoned columns). SQLite compares the
text it stores, so an incremental SQLite timestamp column must hold that form (SQLite's own
``CURRENT_TIMESTAMP`` does). A MySQL ``TIMESTAMP`` bookmark is in the server's session time
zone, like the values ``MAX()`` returns.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import threading
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from lakebed.errors import ConfigError, NotFoundError, QueryError
from lakebed.formats.base import BadRecord, OnBadRecord
from lakebed.ingest.sources.base import Part, Plan, Source, State
from lakebed.ingest.sources.drivers import Column, Driver, driver_for
from lakebed.ingest.sources.drivers.base import connection_error
from lakebed.ingest.sources.drivers.checks import check_query, parse_url
from lakebed.ingest.sources.drivers.convert import convert, row_json, schema_of
from lakebed.ingest.sources.drivers.ranges import (
    Kind,
    Range,
    boundaries,
    from_state,
    kind_of,
    normalise,
    ranges,
    to_state,
)


class DatabaseSource(Source):
    """Rows of a table or SELECT in a PostgreSQL, MySQL/MariaDB or SQLite database (or any
    other SQLAlchemy can reach, more slowly), optionally incremental on a growing column.

    ``url`` is a SQLAlchemy URL; give exactly one of ``table`` (``name`` or ``schema.name``)
    and ``query`` (one SELECT). ``partition_column`` splits large reads into key ranges of
    about ``part_rows`` rows (default: the incremental column, else an integer primary key);
    ``parallelism`` is how many the runner should read at once; ``batch_rows`` is the size of
    the record batches read. ``key_columns`` (the table's primary key) is known once
    :meth:`plan` has run.
    """

    kind = "database"

    def __init__(
        self,
        url: str,
        *,
        table: str | None = None,
        query: str | None = None,
        incremental: str | None = None,
        partition_column: str | None = None,
        parallelism: int = 2,
        batch_rows: int = 100_000,
        part_rows: int = 1_000_000,
    ) -> None:
        if (table is None) == (query is None):
            raise ConfigError(
                "a database source needs exactly one of table and query",
                fix="pass table='name' to load a table or query='SELECT ...' for a query",
            )
        for name, value in (("parallelism", parallelism), ("batch_rows", batch_rows)):
            if value < 1:
                raise ConfigError(f"{name} must be at least 1, not {value}")
        if part_rows < 1:
            raise ConfigError(f"part_rows must be at least 1, not {part_rows}")
        self._url = parse_url(url)
        self._uri = self._url.render_as_string(hide_password=True)
        self.driver: Driver = driver_for(self._url, self._uri)
        self.table = table
        self.query = None if query is None else check_query(query, self._url.get_backend_name())
        self.incremental = incremental
        self.partition_column = partition_column
        self.parallelism = parallelism
        self.batch_rows = batch_rows
        self.part_rows = part_rows
        self.key_columns: tuple[str, ...] = ()
        self._engine: sa.Engine | None = None
        self._columns: list[Column] | None = None
        self._lock = threading.Lock()
        if table is not None:
            schema, _, name = table.rpartition(".")
            self._schema, self._name = schema or None, name
            self._from = ".".join(
                self.driver.quote(p) for p in (*([schema] if schema else []), name)
            )
        else:
            self._schema, self._name = None, ""
            self._from = f"({self.query}) AS lakebed_q"

    # -- identity -------------------------------------------------------------------------------
    @property
    def uri(self) -> str:
        """The URL with its password hidden."""
        return self._uri

    @property
    def bookmark_key(self) -> str:
        base = self._url._replace(password=None).render_as_string(hide_password=False)
        if self.table is not None:
            return f"{base}#table={self.table}"
        digest = hashlib.sha256(" ".join(str(self.query).split()).encode()).hexdigest()[:16]
        return f"{base}#query={digest}"

    # -- schema ---------------------------------------------------------------------------------
    def _connect(self) -> sa.Connection:
        if self._engine is None:
            self._engine = self.driver.engine()
        try:
            return self._engine.connect()
        except sa.exc.DBAPIError as exc:
            raise connection_error(exc.orig or exc, self.driver) from exc

    def _prepare(self) -> list[Column]:
        """Check the table and columns asked for, and learn the result's columns (once)."""
        with self._lock:
            if self._columns is not None:
                return self._columns
            if self.table is not None:
                with self._connect() as conn:
                    self.key_columns = self._check_table(sa.inspect(conn))
            columns = self.driver.describe(self._from)
            names = [c.name for c in columns]
            for what, name in (
                ("incremental", self.incremental),
                ("partition", self.partition_column),
            ):
                if name is not None and name not in names:
                    close = difflib.get_close_matches(name, names, n=3)
                    hint = f"did you mean {', '.join(close)}?" if close else "pick one of them"
                    raise ConfigError(
                        f"{what} column {name!r} is not in {self._what()}; "
                        f"its columns are {', '.join(names)}",
                        fix=hint,
                    )
            self._columns = columns
            return columns

    def _check_table(self, inspector: Any) -> tuple[str, ...]:
        try:
            found = inspector.has_table(self._name, schema=self._schema)
        except sa.exc.DBAPIError:
            found = False
        if not found:
            try:
                known = [*inspector.get_table_names(schema=self._schema)]
                known += inspector.get_view_names(schema=self._schema)
            except sa.exc.DBAPIError:
                known = []
            prefix = f"{self._schema}." if self._schema else ""
            close = difflib.get_close_matches(self._name, known, n=3)
            raise NotFoundError(
                f"table {self.table!r} does not exist in {self.uri}",
                fix=f"did you mean {', '.join(prefix + c for c in close)}?"
                if close
                else "check the table name (and schema) against the database",
            )
        try:
            key = inspector.get_pk_constraint(self._name, schema=self._schema)
        except (sa.exc.DBAPIError, NotImplementedError):
            return ()
        return tuple(key.get("constrained_columns") or ())

    def _what(self) -> str:
        return f"table {self.table}" if self.table is not None else "the query's result"

    def _column(self, name: str) -> Column:
        return next(c for c in self._prepare() if c.name == name)

    def _kind(self, name: str, role: str, allowed: tuple[Kind, ...]) -> Kind:
        col = self._column(name)
        kind = kind_of(col.type)
        if kind not in allowed:
            raise ConfigError(
                f"{role} column {name!r} is {col.sql_type or col.type}, which cannot be one",
                fix=f"use a column of type {', '.join(allowed)} for the {role} column",
            )
        assert kind is not None
        return kind

    # -- planning -------------------------------------------------------------------------------
    def _row(self, sql: str) -> tuple[Any, ...]:
        with self._connect() as conn:
            try:
                result = conn.execution_options(no_parameters=True).exec_driver_sql(sql)
                return tuple(result.one())
            except sa.exc.DBAPIError as exc:
                raise QueryError(
                    f"planning query {sql!r} failed on {self.uri}: {exc.orig}"
                ) from exc

    def plan(self, state: State | None) -> Plan:
        schema, notes = schema_of(self._prepare()), []
        inc, new_state = self.incremental, None
        base: list[str] = []
        count: int | None = None
        low = high = last = None
        if inc is not None:
            kind = self._kind(inc, "incremental", ("int", "date", "timestamp", "string"))
            last = self._last_value(state, kind)
            q = self.driver.quote(inc)
            past = ""
            if last is not None:
                past = f" WHERE {q} > {self.driver.literal(last)} OR {q} IS NULL"
            count, low, high, nulls = self._row(
                f"SELECT COUNT({q}), MIN({q}), MAX({q}), COUNT(*) - COUNT({q}) "
                f"FROM {self._from}{past}"
            )
            if nulls:
                notes.append(f"{nulls} rows with NULL {inc} are not loaded by an incremental load")
            if not count:
                notes.append(f"no new rows: none with {inc} past the bookmark")
                return Plan([], state, schema, notes)
            low, high = self._normal(low, kind), self._normal(high, kind)
            new_state = {"kind": "column", "column": inc, "value": to_state(high, kind)}
            new_state["type"] = kind
            base = self._predicates(inc, Range(last, high))
        return Plan(self._parts(base, count, low, last, high), new_state, schema, notes)

    def _parts(
        self, base: list[str], count: int | None, low: Any, last: Any, high: Any
    ) -> list[Part]:
        """The plan's parts: ``base`` (the incremental window, ``count`` rows from ``low`` to
        ``high`` past ``last``) cut into key ranges of about ``part_rows`` rows."""
        by, inc = self._partition_by(), self.incremental
        if by is None:
            if count is None and self.table is not None:  # a size for progress bars
                count = self._row(f"SELECT COUNT(*) FROM {self._from}")[0]
            return [self._part(base, count)]
        kind = kind_of(self._column(by).type)
        assert kind is not None
        nulls = 0
        if by != inc:
            q = self.driver.quote(by)
            where = f" WHERE {' AND '.join(base)}" if base else ""
            count, low, high, nulls = self._row(
                f"SELECT COUNT(*), MIN({q}), MAX({q}), COUNT(*) - COUNT({q}) "
                f"FROM {self._from}{where}"
            )
            if low is not None:
                low, high = normalise(low, kind), normalise(high, kind)
        assert count is not None
        wanted = max(1, math.ceil(count / self.part_rows))
        cuts = boundaries(low, high, wanted, kind) if low is not None else []
        if not cuts:
            return [self._part(base, count)]
        if by == inc:  # the ranges carry the window's own bounds
            spans = ranges(cuts, last, high, nulls=False)
            wheres = [self._predicates(by, span) for span in spans]
        else:
            spans = ranges(cuts, None, None, nulls=bool(nulls))
            wheres = [base + self._predicates(by, span) for span in spans]
        size = max(1, count // len(spans))
        return [self._part(where, size) for where in wheres]

    def _predicates(self, column: str, span: Range) -> list[str]:
        q, preds = self.driver.quote(column), []
        if span.low is not None:
            preds.append(f"{q} > {self.driver.literal(span.low)}")
        if span.high is not None:
            preds.append(f"{q} <= {self.driver.literal(span.high)}")
        if span.nulls and preds:
            return [f"({' AND '.join(preds)} OR {q} IS NULL)"]
        return preds

    @staticmethod
    def _part(predicates: list[str], size: int | None) -> Part:
        where = " AND ".join(predicates) or None
        return Part(where or "all rows", size, {"where": where})

    def _normal(self, raw: Any, kind: Kind) -> Any:
        try:
            return normalise(raw, kind)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"{self.incremental} holds {raw!r}, which is not a {kind}",
                fix="use an incremental column whose values are all valid",
            ) from exc

    def _last_value(self, state: State | None, kind: Kind) -> Any:
        if state is None:
            return None
        if state.get("kind") != "column" or state.get("column") != self.incremental:
            raise ConfigError(
                f"the bookmark {state!r} is not for incremental column {self.incremental!r}",
                fix=f"reset the bookmark, or load with incremental={state.get('column')!r}",
            )
        if state.get("type", kind) != kind:
            raise ConfigError(
                f"the bookmark holds a {state.get('type')} but {self.incremental} is a {kind}",
                fix="reset the bookmark: the column's type changed since the last load",
            )
        return from_state(state["value"], kind)

    def _partition_by(self) -> str | None:
        if self.partition_column is not None:
            self._kind(self.partition_column, "partition", ("int", "date", "timestamp"))
            return self.partition_column
        if (
            self.incremental is not None
            and kind_of(self._column(self.incremental).type) != "string"
        ):
            return self.incremental
        if len(self.key_columns) == 1 and kind_of(self._column(self.key_columns[0]).type) == "int":
            return self.key_columns[0]
        return None

    # -- reading --------------------------------------------------------------------------------
    def read(self, part: Part, on_bad_record: OnBadRecord) -> Iterator[pa.RecordBatch]:
        columns = self._prepare()
        names = [c.name for c in columns]
        select = ", ".join(
            c.expr
            if c.expr == self.driver.quote(c.name)
            else f"{c.expr} AS {self.driver.quote(c.name)}"
            for c in columns
        )
        where = (part.info or {}).get("where")
        sql = f"SELECT {select} FROM {self._from}" + (f" WHERE {where}" if where else "")
        seen = 0
        for chunk in self.driver.stream(sql, columns, self.batch_rows):
            converted = convert(chunk, columns)
            for index, reason in sorted(converted.bad.items()):
                row = converted.raw_row(index, names)
                on_bad_record(
                    BadRecord(
                        self.uri, self._locate(row, seen + index, part), reason, row_json(row)
                    )
                )
            seen += len(chunk) if isinstance(chunk, list) else chunk.num_rows
            if converted.batch.num_rows:
                yield converted.batch

    def _locate(self, row: dict[str, Any], index: int, part: Part) -> str:
        keys = [k for k in self.key_columns if row.get(k) is not None]
        if keys and len(keys) == len(self.key_columns):
            return ", ".join(f"{k}={row[k]}" for k in keys)
        return f"row {index + 1} of {part.id}"

    def describe_state(self, state: State | None) -> str:
        if state is None:
            return "nothing loaded yet"
        column, value = state.get("column"), state.get("value")
        return f"rows with {column} <= {value} loaded; the next load reads {column} > {value}"

    def close(self) -> None:
        """Release the connections used for planning (reads close their own)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
