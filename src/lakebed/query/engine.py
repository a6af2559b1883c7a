"""The SQL engine: DuckDB in process over the lake's tables, in the user's SQL dialect.

Each call opens a fresh DuckDB connection (a cursor on the engine's in-memory database),
names one source per table reference (a common table expression of the query, or Arrow data
registered on the connection), runs the rewritten query and closes the connection, so calls
share no state and the engine is safe to use from many threads. Catalog entries and scan plans
are never kept between calls: every call reads the tables' current snapshots. Users
never create DuckDB tables: lake tables change only through ``CREATE TABLE ... AS SELECT``,
``INSERT`` or the catalog API.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import IO, TYPE_CHECKING, TypeAlias

import duckdb
import pyarrow as pa
from sqlglot import exp

from lakebed.errors import QueryError
from lakebed.query.dialect import parse, pop_time_travel, to_duckdb
from lakebed.query.external import SKIPPED_ROWS_KEY, SkippedRowsWarning
from lakebed.query.resolve import PlanCache, TablePlan, bind, find_references
from lakebed.query.select_object import register_object, rewrite_object_refs, spool
from lakebed.query.sources import FileSystemSpec, Views
from lakebed.query.writes import create_table_as, insert_into

if TYPE_CHECKING:
    from lakebed.catalog import Catalog

QueryResult: TypeAlias = pa.Table
"""What a query returns: an Arrow table (``.to_pandas()``, ``.to_pylist()``, ...)."""

_FORBIDDEN_FIX = (
    "lakebed tables are changed with CREATE TABLE ... AS SELECT, INSERT INTO ... SELECT, "
    "or the catalog API; other statements are not run"
)


class QueryEngine:
    """SQL over the lake: Iceberg and external tables, Athena/Trino/Spark/DuckDB dialects."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        filesystem: FileSystemSpec | None = None,
        memory_limit: str | None = None,
        threads: int | None = None,
    ) -> None:
        """``filesystem`` (from ``ObjectStore.arrow_filesystem()``) reads ``s3://`` files."""
        self.catalog = catalog
        self.filesystem = filesystem
        self.memory_limit = memory_limit
        self.threads = threads
        # One in-memory DuckDB database; each call runs on its own cursor (its own connection,
        # with its own temporary views), which is cheap and keeps calls apart.
        self._database: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._plans = PlanCache()
        if threads is not None and threads < 1:
            raise QueryError(f"threads must be at least 1, got {threads}", fix="pass threads>=1")

    # -- public API -------------------------------------------------------------------------

    def sql(self, query: str, *, dialect: str = "duckdb") -> QueryResult:
        """Run one statement and return its rows as an Arrow table.

        A SELECT returns its result; CTAS and INSERT return one row: the table, the rows
        written and the new snapshot id.
        """
        tree = parse(query, dialect)
        is_create_table = (
            isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "TABLE"
        )
        if is_create_table and tree.expression is not None:
            return create_table_as(self.catalog, tree, self._run)  # type: ignore[arg-type]
        if isinstance(tree, exp.Insert):
            return insert_into(self.catalog, tree, self._run)
        if not isinstance(tree, exp.Query | exp.Values):
            raise QueryError(
                f"{_statement_kind(tree)} statements are not allowed", fix=_FORBIDDEN_FIX
            )
        return self._run(tree)

    def explain(self, query: str, *, dialect: str = "duckdb") -> list[TablePlan]:
        """How each table reference of a query would be read: snapshot, filter, files, method."""
        tree = self._read_part(parse(query, dialect))
        with self._connection() as con:
            views = Views(con)
            plans = bind(views, self.catalog, tree, self.filesystem, self._plans)
            try:
                views.create()  # binds each source, so a table that cannot be read says so
            except duckdb.Error as err:
                raise QueryError(
                    f"cannot read {', '.join(p.ident for p in plans)}: {err}",
                    fix="check that the tables' files exist and match their format and options",
                ) from err
            return plans

    def explain_tables(self, query: str, *, dialect: str = "duckdb") -> list[str]:
        """The lake tables a statement reads (``db.table``, each once, in order)."""
        tree = self._read_part(parse(query, dialect))
        idents: list[str] = []
        for ref in find_references(tree):
            pop_time_travel(ref.node)
            if ref.ident not in idents:
                idents.append(ref.ident)
        return idents

    def select_object(
        self, source: str | IO[bytes], query: str, *, format: str | None = None
    ) -> QueryResult:
        """Query one raw object in place; in the query it is ``s3object`` (or ``input``)."""
        tree = parse(query, "duckdb")
        if not isinstance(tree, exp.Query):
            raise QueryError("select_object runs only SELECT", fix="write SELECT ... FROM s3object")
        rewrite_object_refs(tree)
        with ExitStack() as stack, self._connection() as con:
            path, name = spool(source, stack, self.filesystem)
            register_object(con, path, name, format)
            return self._execute(con, to_duckdb(tree), {})

    # -- internals --------------------------------------------------------------------------

    def _read_part(self, tree: exp.Expr) -> exp.Expr:
        if isinstance(tree, exp.Create | exp.Insert) and isinstance(tree.expression, exp.Query):
            return tree.expression
        if isinstance(tree, exp.Query | exp.Values):
            return tree
        raise QueryError(f"{_statement_kind(tree)} statements are not allowed", fix=_FORBIDDEN_FIX)

    def _run(self, tree: exp.Expr) -> pa.Table:
        with self._connection() as con:
            views = Views(con)
            plans = bind(views, self.catalog, tree, self.filesystem, self._plans)
            sql = to_duckdb(tree, views.sql)
            result = self._execute(con, sql, {p.view: p.ident for p in plans})
            return report_skipped(con, plans, result)

    def _execute(self, con: duckdb.DuckDBPyConnection, sql: str, views: dict[str, str]) -> pa.Table:
        try:
            relation = con.sql(sql)
            if relation is None:
                raise QueryError("the statement returned no rows", fix="run a SELECT")
            return relation.to_arrow_table()
        except duckdb.Error as err:
            message = str(err)
            for view, ident in views.items():
                message = message.replace(f'"{view}"', ident).replace(view, ident)
            fix = "check the column names, types and functions the message names"
            if isinstance(err, duckdb.IOException):
                fix = "check that the tables' files exist and match their format and options"
            raise QueryError(f"query failed: {message}", fix=fix) from err

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            if self._database is None:
                self._database = self._open_database()
            con = self._database.cursor()
        try:
            yield con
        finally:
            con.close()

    def _open_database(self) -> duckdb.DuckDBPyConnection:
        # Extensions cannot be downloaded here; fail at once instead of waiting on the network.
        config: dict[str, str | bool | int | float | list[str]] = {
            "autoinstall_known_extensions": False
        }
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        if self.threads:
            config["threads"] = self.threads
        try:
            database = duckdb.connect(":memory:", config=config)
            database.execute("SET GLOBAL TimeZone = 'UTC'")
            database.execute("SET GLOBAL python_enable_replacements = false")
        except duckdb.Error as err:
            raise QueryError(
                f"cannot start DuckDB with {config}: {err}",
                fix="check memory_limit (e.g. '4GB') and threads",
            ) from err
        return database

    def close(self) -> None:
        """Release DuckDB's memory; the engine opens it again when used."""
        with self._lock:
            if self._database is not None:
                self._database.close()
                self._database = None

    def __enter__(self) -> QueryEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def report_skipped(
    con: duckdb.DuckDBPyConnection, plans: list[TablePlan], result: pa.Table
) -> pa.Table:
    """``result`` with the malformed rows each table skipped in its schema metadata (and a
    SkippedRowsWarning), when any were skipped."""
    counts: dict[str, int] = {}
    for plan in plans:
        if plan.skipped is not None:
            n = plan.skipped.count(con)
            if n:
                # Every reference to a table reads all of its files: the same bad rows.
                counts[plan.ident] = max(counts.get(plan.ident, 0), n)
    if not counts:
        return result
    listed = ", ".join(f"{n} of {ident}" for ident, n in counts.items())
    warnings.warn(
        f"skipped malformed rows (a missing or an extra field): {listed}; the query used the "
        "well-formed rows only. Fix or remove those rows in the files, or crawl with "
        "convert=True to quarantine them.",
        SkippedRowsWarning,
        stacklevel=4,
    )
    metadata = dict(result.schema.metadata or {})
    metadata[SKIPPED_ROWS_KEY] = json.dumps(counts).encode()
    return result.replace_schema_metadata(metadata)


def _statement_kind(tree: exp.Expr) -> str:
    if isinstance(tree, exp.Command):
        return str(tree.this).upper()
    kind = tree.args.get("kind")
    name = type(tree).__name__.upper()
    return f"{name} {kind}".strip() if isinstance(kind, str) else name
