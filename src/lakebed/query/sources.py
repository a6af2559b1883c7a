"""Registering table data in a DuckDB connection: the shared helpers and Iceberg snapshots.

One planned Iceberg snapshot becomes one DuckDB view, read the fastest way that stays correct:

- local Parquet files: DuckDB's own ``read_parquet`` over the planned files, parallel and with
  row-group pruning; columns are matched by Iceberg field id once the schema has changed (so
  renamed and added columns read right), and by name before that (cheaper to bind);
- files in an object store: a ``pyarrow.dataset`` over the files through the given pyarrow
  filesystem, which DuckDB scans with projection and filter pushdown (DuckDB's httpfs extension
  cannot be installed here);
- snapshots with delete files: the catalog's own scan, which applies the deletes;
- no files at all: an empty view with the snapshot's columns.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlparse

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from lakebed.errors import ConfigError

if TYPE_CHECKING:
    from lakebed.catalog import Table

Method = Literal[
    "read_parquet", "arrow_dataset", "scan", "empty", "read_csv", "read_json", "formats"
]
FileSystemSpec = tuple[pafs.FileSystem, str]
FIELD_ID_KEY = b"PARQUET:field_id"


def quote_ident(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_str(text: str) -> str:
    """``text`` as a single-quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_list(items: Sequence[str]) -> str:
    """A DuckDB list literal of strings."""
    return "[" + ", ".join(quote_str(item) for item in items) + "]"


def local_path(uri: str) -> str | None:
    """The local path of a ``file://`` URI or plain path; None for a remote URI."""
    if "://" not in uri:
        return uri
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    # RFC 8089 file URIs are percent-encoded (Path.as_uri()); pyiceberg writes them raw.
    if "%" in parsed.path and not os.path.exists(parsed.path):
        return unquote(parsed.path)
    return parsed.path


def filesystem_path(uri: str, filesystem: FileSystemSpec | None) -> tuple[pafs.FileSystem, str]:
    """The pyarrow filesystem and in-filesystem path that read ``uri``."""
    path = local_path(uri)
    if path is not None:
        return pafs.LocalFileSystem(), path
    if filesystem is None:
        raise ConfigError(
            f"cannot read {uri}: no filesystem was given for remote files",
            fix="create the QueryEngine with filesystem=store.arrow_filesystem()",
        )
    parsed = urlparse(uri)
    return filesystem[0], f"{parsed.netloc}{parsed.path}"


_helper_lock = threading.Lock()
_helper: list[duckdb.DuckDBPyConnection] = []


def helper_connection() -> duckdb.DuckDBPyConnection:
    """A new cursor on a small shared DuckDB database, for type names and constant folding."""
    with _helper_lock:
        if not _helper:
            database = duckdb.connect(":memory:", config={"threads": 1})
            database.execute("SET GLOBAL TimeZone = 'UTC'")
            database.execute("SET GLOBAL python_enable_replacements = false")
            _helper.append(database)
        return _helper[0].cursor()


@lru_cache(maxsize=512)
def _duckdb_type_cached(schema_bytes: bytes) -> tuple[str, ...]:
    schema = pa.ipc.read_schema(pa.py_buffer(schema_bytes))
    con = helper_connection()
    try:
        return tuple(str(t) for t in con.from_arrow(schema.empty_table()).types)
    finally:
        con.close()


def duckdb_types(schema: pa.Schema) -> list[str]:
    """DuckDB's type names for each field of ``schema`` (as DuckDB reads those Arrow types)."""
    plain = pa.schema([pa.field(f.name, f.type) for f in schema])
    return list(_duckdb_type_cached(plain.serialize().to_pybytes()))


def duckdb_type(arrow_type: pa.DataType) -> str:
    """DuckDB's type name for one Arrow type."""
    return duckdb_types(pa.schema([pa.field("x", arrow_type)]))[0]


def field_ids(
    table: Table, snapshot_id: int | None, schema: pa.Schema, *, time_travel: bool = False
) -> list[int] | None:
    """The Iceberg field ids of ``schema``'s columns, None when unknown.

    Taken from the Arrow field metadata when present, else from the table's Iceberg metadata:
    the schema of snapshot ``snapshot_id`` for a ``time_travel`` read (which reads with the
    snapshot's schema), else the current schema (a current read uses today's names even when
    the latest snapshot was written before a rename).
    """
    ids: list[int] = []
    for field in schema:
        raw = (field.metadata or {}).get(FIELD_ID_KEY)
        if raw is None:
            break
        ids.append(int(raw))
    else:
        return ids
    try:
        meta = table.iceberg.metadata
        iceberg_schema = meta.schema()
        if time_travel and snapshot_id is not None:
            snap = meta.snapshot_by_id(snapshot_id)
            schema_id = snap.schema_id if snap is not None else None
            iceberg_schema = next(
                (s for s in meta.schemas if s.schema_id == schema_id), iceberg_schema
            )
        by_name = {f.name: f.field_id for f in iceberg_schema.fields}
        return [by_name[field.name] for field in schema]
    except (AttributeError, KeyError):
        return None


def register_arrow(con: duckdb.DuckDBPyConnection, view: str, data: Any) -> None:
    """Expose an Arrow table, dataset or record batch reader as view ``view``."""
    con.register(view, data)


class Views:
    """The named sources one query reads, on its connection.

    Arrow data (tables, datasets, readers) is registered on the connection at once. A source
    that is a SELECT over DuckDB's own readers is kept as text and put into the query as a
    common table expression, so DuckDB binds it once with the query; a ``CREATE VIEW`` would
    bind it once more, which for ``read_parquet`` means reading file footers again.
    :meth:`create` makes real views of them instead (to check them without a query).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.sql: dict[str, str] = {}

    def add_arrow(self, name: str, data: Any) -> None:
        """Register Arrow data (or anything DuckDB can scan from Python) as ``name``."""
        register_arrow(self.con, name, data)

    def add_sql(self, name: str, sql: str) -> None:
        """Name a SELECT, to be read as ``name`` by the query."""
        self.sql[name] = sql

    def create(self) -> None:
        """Create every SQL source as a temporary view of the connection."""
        for name, sql in self.sql.items():
            self.con.execute(f"CREATE TEMP VIEW {quote_ident(name)} AS {sql}")
        self.sql.clear()


def register_snapshot(
    views: Views,
    view: str,
    table: Table,
    *,
    files: Sequence[str],
    schema: pa.Schema,
    has_deletes: bool,
    snapshot_id: int | None,
    row_filter: str | None,
    filesystem: FileSystemSpec | None,
    time_travel: bool = False,
) -> Method:
    """Register one planned Iceberg snapshot as ``view``; returns how it is read."""
    if has_deletes:
        # A current read keeps today's column names (a snapshot id would read with its schema).
        data = table.scan(snapshot_id=snapshot_id if time_travel else None, filter=row_filter)
        views.add_arrow(view, data)
        return "scan"
    if not files:
        views.add_arrow(view, _plain_schema(schema).empty_table())
        return "empty"
    paths = [local_path(uri) for uri in files]
    if all(path is not None for path in paths):
        local = [path for path in paths if path is not None]
        if schema_never_changed(table):
            sql = read_parquet_sql(local, schema, None, same_columns=True)
        else:
            ids = field_ids(table, snapshot_id, schema, time_travel=time_travel)
            sql = read_parquet_sql(local, schema, ids)
        views.add_sql(view, sql)
        return "read_parquet"
    located = [filesystem_path(uri, filesystem) for uri in files]
    fs = located[0][0]
    dataset = ds.dataset(
        [path for _, path in located], schema=_plain_schema(schema), format="parquet", filesystem=fs
    )
    views.add_arrow(view, dataset)
    return "arrow_dataset"


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, f.type, f.nullable) for f in schema])


def schema_never_changed(table: Table) -> bool:
    """True when the table has had one schema only, so every data file has its columns by
    their current names and the files can be read by name.

    Matching columns by Iceberg field id costs DuckDB a few milliseconds per bind (the id map
    is a large literal), which is most of a small query's fixed cost; it is only needed once a
    column was renamed, added or dropped.
    """
    try:
        return len(table.iceberg.metadata.schemas) == 1
    except AttributeError:
        return False


def read_parquet_sql(
    paths: Sequence[str], schema: pa.Schema, ids: list[int] | None, *, same_columns: bool = False
) -> str:
    """A SELECT reading ``paths`` with exactly ``schema``'s columns, by field id when known.

    Without ids, columns are matched by name; ``same_columns`` says every file has all of
    them, so DuckDB need not read every file's footer before the query runs.
    """
    types = duckdb_types(schema)
    if ids is not None:
        entries = ", ".join(
            f"{fid}: {{name: {quote_str(field.name)}, type: {quote_str(typ)}, default_value: NULL}}"
            for fid, field, typ in zip(ids, schema, types, strict=True)
        )
        return (
            f"SELECT * FROM read_parquet({sql_list(paths)}, schema = MAP {{{entries}}}, "
            "hive_partitioning = false)"
        )
    columns = ", ".join(
        f"CAST({quote_ident(field.name)} AS {typ}) AS {quote_ident(field.name)}"
        for field, typ in zip(schema, types, strict=True)
    )
    union = "" if same_columns else "union_by_name = true, "
    return (
        f"SELECT {columns} FROM read_parquet({sql_list(paths)}, {union}hive_partitioning = false)"
    )
