"""Registering an external table (raw files in place) as a DuckDB view.

Local CSV, TSV, JSON, JSON Lines and Parquet files whose options DuckDB understands are read by
DuckDB itself (fast, parallel). Everything else (Avro, ORC, RecordIO, Protobuf, options DuckDB
has no equivalent for, files in an object store) streams through ``lakebed.formats.read`` as an
Arrow record batch reader. Either way the view has exactly the table's columns, in its order,
cast to its types, followed by the partition columns taken from ``key=value`` folder names.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs

from lakebed.errors import ConfigError, SchemaError
from lakebed.query.sources import (
    FileSystemSpec,
    Method,
    duckdb_type,
    duckdb_types,
    filesystem_path,
    local_path,
    quote_ident,
    quote_str,
    register_arrow,
    sql_list,
)

if TYPE_CHECKING:
    from lakebed.catalog import ExternalTable

_CSV_OPTIONS = {
    "delimiter": "delim",
    "sep": "delim",
    "delim": "delim",
    "header": "header",
    "quote": "quote",
    "quotechar": "quote",
    "escape": "escape",
    "escapechar": "escape",
    "null_value": "nullstr",
    "nullstr": "nullstr",
    "skip_rows": "skip",
    "compression": "compression",
}
_JSON_FORMATS = {"json": "auto", "jsonl": "newline_delimited", "ndjson": "newline_delimited"}
_CSV_FORMATS = {"csv": ",", "tsv": "\t"}


def partition_values(path: str) -> dict[str, str]:
    """``key=value`` pairs from the folder names of ``path``."""
    values: dict[str, str] = {}
    for part in path.replace("\\", "/").split("/")[:-1]:
        key, sep, value = part.partition("=")
        if sep and key:
            values[key] = value
    return values


def partition_fields(table: ExternalTable) -> list[pa.Field]:
    """The partition columns as Arrow fields (those not already in the schema)."""
    fields: list[pa.Field] = []
    names = set(table.schema.names)
    for name, type_name in (table.partition_columns or {}).items():
        if name in names:
            continue
        try:
            typ = pa.type_for_alias(type_name) if isinstance(type_name, str) else type_name
        except ValueError:
            raise ConfigError(
                f"external table {table.ident}: partition column {name!r} has unknown type "
                f"{type_name!r}",
                fix="use an Arrow type name such as 'string', 'int64' or 'date32'",
            ) from None
        fields.append(pa.field(name, typ))
    return fields


def table_files(table: ExternalTable, filesystem: FileSystemSpec | None) -> list[str]:
    """The table's files: the listed ones, or every visible file under its location."""
    if table.files:
        return list(table.files)
    fs, root = filesystem_path(table.location, filesystem)
    selector = pafs.FileSelector(root, recursive=True, allow_not_found=True)
    found = [
        info.path
        for info in fs.get_file_info(selector)
        if info.type == pafs.FileType.File
        and not any(p.startswith((".", "_")) for p in info.path[len(root) :].split("/") if p)
    ]
    prefix = "" if local_path(table.location) is not None else table.location.split("://")[0]
    return sorted(f"{prefix}://{p}" if prefix else p for p in found)


def register_external(
    con: duckdb.DuckDBPyConnection,
    view: str,
    table: ExternalTable,
    filesystem: FileSystemSpec | None,
) -> tuple[Method, list[str]]:
    """Register ``table`` as ``view``; returns how it is read and the files it reads."""
    files = table_files(table, filesystem)
    fmt = table.format.lower()
    options = dict(table.options or {})
    parts = partition_fields(table)
    if not files:
        schema = pa.schema(list(table.schema) + parts)
        register_arrow(con, view, schema.empty_table())
        return "empty", files
    paths = [local_path(uri) for uri in files]
    local = [p for p in paths if p is not None]
    if len(local) == len(files):
        native = _native_sql(fmt, options, local, table.schema, parts)
        if native is not None:
            sql, method = native
            con.execute(f"CREATE TEMP VIEW {quote_ident(view)} AS {sql}")
            return method, files
    schema = pa.schema(list(table.schema) + parts)
    reader = pa.RecordBatchReader.from_batches(
        schema, _formats_batches(files, fmt, options, schema, parts, filesystem)
    )
    register_arrow(con, view, reader)
    return "formats", files


def _native_sql(
    fmt: str,
    options: Mapping[str, Any],
    paths: Sequence[str],
    schema: pa.Schema,
    parts: Sequence[pa.Field],
) -> tuple[str, Method] | None:
    hive = "true" if parts else "false"
    part_cols = [
        f"TRY_CAST({quote_ident(f.name)} AS {duckdb_type(f.type)}) AS {quote_ident(f.name)}"
        for f in parts
    ]
    types = duckdb_types(schema)
    if fmt in _CSV_FORMATS:
        if any(key not in _CSV_OPTIONS for key in options):
            return None
        args = {"delim": _CSV_FORMATS[fmt], "header": True}
        args.update({_CSV_OPTIONS[key]: value for key, value in options.items()})
        rendered = ", ".join(f"{k} = {_sql_value(v)}" for k, v in args.items())
        names = "" if args["header"] else f", names = {sql_list(schema.names)}"
        cols = [
            f"TRY_CAST({quote_ident(f.name)} AS {t}) AS {quote_ident(f.name)}"
            for f, t in zip(schema, types, strict=True)
        ]
        source = (
            f"read_csv({sql_list(paths)}, {rendered}{names}, all_varchar = true, "
            f"union_by_name = true, hive_partitioning = {hive}, hive_types_autocast = false)"
        )
        return f"SELECT {', '.join(cols + part_cols)} FROM {source}", "read_csv"
    if fmt in _JSON_FORMATS:
        if options:
            return None
        columns = ", ".join(
            f"{quote_str(f.name)}: {quote_str(t)}" for f, t in zip(schema, types, strict=True)
        )
        cols = [quote_ident(f.name) for f in schema]
        source = (
            f"read_json({sql_list(paths)}, format = {quote_str(_JSON_FORMATS[fmt])}, "
            f"columns = {{{columns}}}, hive_partitioning = {hive}, hive_types_autocast = false)"
        )
        return f"SELECT {', '.join(cols + part_cols)} FROM {source}", "read_json"
    if fmt == "parquet":
        if options:
            return None
        cols = [
            f"CAST({quote_ident(f.name)} AS {t}) AS {quote_ident(f.name)}"
            for f, t in zip(schema, types, strict=True)
        ]
        source = (
            f"read_parquet({sql_list(paths)}, union_by_name = true, "
            f"hive_partitioning = {hive}, hive_types_autocast = false)"
        )
        return f"SELECT {', '.join(cols + part_cols)} FROM {source}", "read_parquet"
    return None


def _sql_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return quote_str(str(value))


def _formats_batches(
    files: Sequence[str],
    fmt: str,
    options: Mapping[str, Any],
    schema: pa.Schema,
    parts: Sequence[pa.Field],
    filesystem: FileSystemSpec | None,
) -> Iterator[pa.RecordBatch]:
    from lakebed.formats import read

    part_names = {f.name for f in parts}
    file_schema = pa.schema([f for f in schema if f.name not in part_names])
    for uri in files:
        fs, path = filesystem_path(uri, filesystem)
        values = partition_values(path)
        with fs.open_input_file(path) as stream:
            for batch in read(stream, format=fmt, schema=file_schema, **options):
                yield conform(batch, schema, parts, values, name=os.path.basename(path))


def conform(
    batch: pa.RecordBatch,
    schema: pa.Schema,
    parts: Sequence[pa.Field],
    values: Mapping[str, str],
    *,
    name: str,
) -> pa.RecordBatch:
    """``batch`` with exactly ``schema``'s columns (by name, cast; missing ones null)."""
    part_names = {f.name for f in parts}
    arrays: list[pa.Array] = []
    for field in schema:
        if field.name in part_names:
            raw = values.get(field.name)
            column = pa.array([raw] * batch.num_rows, pa.string())
        elif field.name in batch.schema.names:
            column = batch.column(field.name)
        else:
            arrays.append(pa.nulls(batch.num_rows, field.type))
            continue
        if column.type != field.type:
            try:
                column = pc.cast(column, field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
                raise SchemaError(
                    f"{name}: column {field.name!r} cannot be read as {field.type}: {err}",
                    fix="correct the external table's schema or the file",
                ) from err
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
