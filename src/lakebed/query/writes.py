"""``CREATE TABLE ... AS SELECT`` and ``INSERT INTO ... SELECT``: SQL that writes lake tables.

DuckDB runs the SELECT into Arrow; the catalog writes it as one Iceberg snapshot. DuckDB's own
tables are never used, so what a statement writes is a lake table any engine can read.
Athena/Trino ``WITH (partitioned_by = ARRAY[...], partitioning = ARRAY[...], format = ...)``
and Spark ``PARTITIONED BY (...)`` choose the new table's partitioning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from lakebed.errors import AlreadyExistsError, QueryError, SchemaError

if TYPE_CHECKING:
    from lakebed.catalog import Catalog, SnapshotInfo

RunQuery = Callable[[exp.Expr], pa.Table]

_TRANSFORMS = {"years": "year", "months": "month", "days": "day", "hours": "hour"}
_FUNC_RE = re.compile(r"^\s*(\w+)\s*\((.*)\)\s*$")
_SUPPORTED_PROPS = "partitioned_by, partitioning, format, table_type, write_compression"


def target_ident(node: exp.Expr) -> str:
    """``db.table`` of a write target (a Table, or a Schema wrapping one)."""
    table = node.this if isinstance(node, exp.Schema) else node
    if not isinstance(table, exp.Table) or not table.db:
        raise QueryError(
            f"write target {node.sql()!r} must be named database.table",
            fix="qualify the table, e.g. CREATE TABLE sales.orders AS SELECT ...",
        )
    return f"{table.db}.{table.name}"


def _result(ident: str, rows: int, snapshot: SnapshotInfo | None) -> pa.Table:
    return pa.table(
        {
            "table": pa.array([ident], pa.string()),
            "rows_written": pa.array([rows], pa.int64()),
            "snapshot_id": pa.array([snapshot.snapshot_id if snapshot else None], pa.int64()),
        }
    )


def create_table_as(catalog: Catalog, tree: exp.Create, run: RunQuery) -> pa.Table:
    """Run a CTAS: create the table, then append the SELECT's rows as its first snapshot."""
    query = tree.expression
    if not isinstance(query, exp.Query):
        raise QueryError(
            "CREATE TABLE needs AS SELECT: lakebed creates tables from a query's result",
            fix="write CREATE TABLE db.t AS SELECT ..., or use catalog.create_table()",
        )
    if tree.args.get("replace"):
        raise QueryError(
            "CREATE OR REPLACE TABLE is not supported",
            fix="drop the table with catalog.drop_table() first, or INSERT OVERWRITE",
        )
    ident = target_ident(tree.this)
    if catalog.table_exists(ident):
        if tree.args.get("exists"):
            return _result(ident, 0, None)
        raise AlreadyExistsError(
            f"table {ident} already exists",
            fix="use CREATE TABLE IF NOT EXISTS, INSERT INTO, or pick another name",
        )
    partition_by, properties = table_options(tree)
    data = to_iceberg_types(run(query))
    table = catalog.create_table(
        ident, data.schema, partition_by=partition_by, properties=properties or None
    )
    try:
        snapshot = table.append(data)
    except BaseException:
        catalog.drop_table(ident, purge=True)  # no half-created table left behind
        raise
    return _result(ident, data.num_rows, snapshot)


def insert_into(catalog: Catalog, tree: exp.Insert, run: RunQuery) -> pa.Table:
    """Run an INSERT [OVERWRITE]: the rows become one new snapshot of an existing table."""
    for unsupported in ("alternative", "conflict", "returning", "where", "partition"):
        if tree.args.get(unsupported):
            raise QueryError(
                f"INSERT with {unsupported.upper()} is not supported",
                fix="write INSERT INTO db.t [(columns)] SELECT ... or VALUES ...",
            )
    query = tree.expression
    if not isinstance(query, exp.Query | exp.Values):
        raise QueryError("INSERT needs a SELECT or VALUES", fix="add SELECT ... or VALUES (...)")
    ident = target_ident(tree.this)
    entry = catalog.load_table(ident)
    if entry.kind != "iceberg":
        raise QueryError(
            f"{ident} is an external table and cannot be written",
            fix="write raw files to its location, or INSERT into an Iceberg table",
        )
    columns = None
    if isinstance(tree.this, exp.Schema):
        columns = [col.name for col in tree.this.expressions]
    data = fit_to_table(run(query), entry.schema, columns, ident)
    write = entry.overwrite if tree.args.get("overwrite") else entry.append  # type: ignore[union-attr]
    snapshot = write(data)
    return _result(ident, data.num_rows, snapshot)


def table_options(tree: exp.Create) -> tuple[list[str], dict[str, str]]:
    """Partition specs and table properties from a CTAS's WITH/PARTITIONED BY clauses."""
    partition_by: list[str] = []
    properties: dict[str, str] = {}
    props = tree.args.get("properties")
    for prop in props.expressions if isinstance(props, exp.Properties) else []:
        if isinstance(prop, exp.PartitionedByProperty):
            partition_by.extend(_partition_items(prop.this))
        elif isinstance(prop, exp.FileFormatProperty):
            fmt = prop.name.lower()
            if fmt not in ("parquet", "iceberg"):
                raise QueryError(
                    f"table format {prop.name!r} is not supported for new tables",
                    fix="use format = 'PARQUET' (lakebed tables are Iceberg on Parquet)",
                )
        elif isinstance(prop, exp.Property):
            key = prop.name.lower()
            value = prop.args.get("value")
            if key == "partitioning" and value is not None:
                partition_by.extend(_partition_items(value))
            elif key == "table_type" and isinstance(value, exp.Expr):
                if value.name.lower() != "iceberg":
                    raise QueryError(
                        f"table_type {value.name!r} is not supported",
                        fix="leave table_type out or use 'ICEBERG'",
                    )
            elif key == "write_compression" and isinstance(value, exp.Expr):
                properties["write.parquet.compression-codec"] = value.name.lower()
            elif key == "format" and isinstance(value, exp.Expr):
                if value.name.lower() != "parquet":
                    raise QueryError(
                        f"table format {value.name!r} is not supported for new tables",
                        fix="use format = 'PARQUET'",
                    )
            else:
                raise QueryError(
                    f"table property {prop.sql()!r} is not supported",
                    fix=f"use only {_SUPPORTED_PROPS}",
                )
        else:
            raise QueryError(
                f"table property {prop.sql()!r} is not supported",
                fix=f"use only {_SUPPORTED_PROPS}",
            )
    return partition_by, properties


def _partition_items(node: exp.Expr) -> list[str]:
    items = node.expressions if isinstance(node, exp.Array | exp.Schema | exp.Tuple) else [node]
    return [
        partition_spec(item.name if isinstance(item, exp.Literal) else item.sql()) for item in items
    ]


def partition_spec(text: str) -> str:
    """One partition item in lakebed's spelling: ``col``, ``day(ts)``, ``bucket(16, id)``.

    Accepts Trino's ``bucket(id, 16)`` and Spark's plural ``days(ts)`` too.
    """
    match = _FUNC_RE.match(text)
    if not match:
        return text.strip().strip('"`')
    func, args = match.group(1).lower(), [a.strip().strip('"`') for a in match.group(2).split(",")]
    func = _TRANSFORMS.get(func, func)
    if func in ("bucket", "truncate") and len(args) == 2 and args[1].isdigit():
        args = [args[1], args[0]]
    return f"{func}({', '.join(args)})"


def _iceberg_type(typ: pa.DataType, name: str) -> pa.DataType:
    """The Arrow type Iceberg stores for ``typ`` (no unsigned, small ints, ns or large types)."""
    if pa.types.is_null(typ):
        raise QueryError(
            f"column {name!r} has no type (it is only NULLs)",
            fix=f"cast it, e.g. CAST(NULL AS VARCHAR) AS {name}",
        )
    if pa.types.is_dictionary(typ):
        return _iceberg_type(typ.value_type, name)
    if pa.types.is_integer(typ):
        small = typ.bit_width < 32 or (
            typ.bit_width == 32 and not pa.types.is_unsigned_integer(typ)
        )
        return pa.int32() if small else pa.int64()
    if pa.types.is_float16(typ):
        return pa.float32()
    if pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
        return pa.string()
    if pa.types.is_large_binary(typ) or pa.types.is_binary_view(typ):
        return pa.binary()
    if pa.types.is_timestamp(typ):
        return pa.timestamp("us", tz=typ.tz)
    if pa.types.is_time(typ):
        return pa.time64("us")
    if pa.types.is_date64(typ):
        return pa.date32()
    if pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
        return pa.list_(_iceberg_type(typ.value_type, name))
    if pa.types.is_struct(typ):
        return pa.struct([pa.field(f.name, _iceberg_type(f.type, f"{name}.{f.name}")) for f in typ])
    if pa.types.is_map(typ):
        return pa.map_(_iceberg_type(typ.key_type, name), _iceberg_type(typ.item_type, name))
    return typ


def to_iceberg_types(data: pa.Table) -> pa.Table:
    """``data`` cast to types an Iceberg table can hold; duplicate names are a QueryError."""
    seen: set[str] = set()
    for name in data.column_names:
        if name.lower() in seen:
            raise QueryError(
                f"the query returns column {name!r} twice",
                fix="give every selected column its own name with AS",
            )
        seen.add(name.lower())
    target = pa.schema([pa.field(f.name, _iceberg_type(f.type, f.name)) for f in data.schema])
    if target == data.schema:
        return data
    try:
        return data.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        raise QueryError(
            f"the query result cannot be stored in an Iceberg table: {err}",
            fix="cast the offending column to a supported type",
        ) from err


def fit_to_table(
    data: pa.Table, schema: pa.Schema, columns: list[str] | None, ident: str
) -> pa.Table:
    """The query result shaped as the table: SQL INSERT column matching, then cast."""
    by_lower = {f.name.lower(): f for f in schema}
    if columns is None:
        names = schema.names
        if data.num_columns != len(names):
            raise QueryError(
                f"INSERT INTO {ident} gives {data.num_columns} columns; the table has "
                f"{len(names)} ({', '.join(names)})",
                fix="select one value per table column, or list the columns: "
                f"INSERT INTO {ident} (col, ...) SELECT ...",
            )
    else:
        if data.num_columns != len(columns):
            raise QueryError(
                f"INSERT INTO {ident} lists {len(columns)} columns but the query gives "
                f"{data.num_columns}",
                fix="select exactly one value per listed column",
            )
        unknown = [c for c in columns if c.lower() not in by_lower]
        if unknown:
            raise SchemaError(
                f"table {ident} has no column {unknown[0]!r} (columns: {', '.join(schema.names)})",
                fix="list only existing columns, or evolve the schema first",
            )
        names = [by_lower[c.lower()].name for c in columns]
    given = dict(zip(names, data.columns, strict=True))
    arrays: list[pa.ChunkedArray] = []
    for field in schema:
        column = given.get(field.name)
        if column is None:
            arrays.append(pa.chunked_array([pa.nulls(data.num_rows, field.type)], field.type))
            continue
        try:
            arrays.append(pc.cast(column, field.type) if column.type != field.type else column)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
            raise SchemaError(
                f"INSERT INTO {ident}: column {field.name!r} cannot take {column.type} values "
                f"as {field.type}: {err}",
                fix=f"CAST the value to {field.type} in the SELECT",
            ) from err
    target = pa.schema([pa.field(f.name, f.type, f.nullable) for f in schema])
    return pa.Table.from_arrays(arrays, schema=target)
