"""Registering an external table (raw files in place) as a DuckDB view.

Local CSV, TSV, JSON, JSON Lines and Parquet files whose options DuckDB understands are read by
DuckDB itself (fast, parallel). Everything else (Avro, ORC, RecordIO, Protobuf, options DuckDB
has no equivalent for, files in an object store) streams through ``lakebed.formats.read`` as an
Arrow record batch reader. Either way the view has exactly the table's columns, in its order,
cast to its types, followed by the partition columns, whose values come from the folders below
the table's location (``key=value`` or plain folder names; see
:mod:`lakebed.query.partition_paths`).

Malformed rows. Athena reads CSV with Hive's text SerDe, which pads a row that is short of
fields with nulls and drops extra fields, and fails the query on JSON it cannot parse. lakebed
does not guess which fields a short or long row meant: in a CSV or TSV table a row with a missing
or an extra field (or an unterminated quote, or bytes that are not text) is skipped, the
well-formed rows are returned, and the number of rows skipped per table is not lost:

- it is stored in the result's schema metadata, ``result.schema.metadata[b"lakebed.skipped_rows"]``
  (JSON, ``{"db.table": n}``), and
- a :class:`SkippedRowsWarning` names the table and the count;

the crawler's report already notes the unreadable rows it met in the files it sampled. A value
that does not parse as its column's type reads as NULL (as ``TRY_CAST`` does), on both paths.
Other formats fail the query on a record they cannot read, naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs

from lakebed.errors import ConfigError, SchemaError
from lakebed.query.csv_source import CSV_DELIMITERS, read_csv_sql
from lakebed.query.partition_paths import PartitionLayout, partition_layout, try_cast
from lakebed.query.sources import (
    FileSystemSpec,
    Method,
    Views,
    duckdb_types,
    filesystem_path,
    local_path,
    quote_ident,
    quote_str,
    sql_list,
)

if TYPE_CHECKING:
    from lakebed.catalog import ExternalTable
    from lakebed.formats.base import BadRecord

SKIPPED_ROWS_KEY = b"lakebed.skipped_rows"
FILE_COLUMN = "__lakebed_file"


class SkippedRowsWarning(UserWarning):
    """A query skipped malformed rows of an external table (the message says how many)."""


@dataclass
class SkippedRows:
    """The malformed rows one table reference skipped; counted once the query has run.

    DuckDB records the rows it skips in two temporary tables of the query's connection; rows
    read through ``lakebed.formats`` are counted as they are met.
    """

    ident: str
    rejects_table: str | None = None
    rejects_scan: str | None = None
    counted: int = 0

    def on_bad_record(self, record: BadRecord) -> None:
        """Count one record ``lakebed.formats`` could not read (it is left out)."""
        self.counted += 1

    def count(self, con: duckdb.DuckDBPyConnection) -> int:
        """Rows skipped so far (each file line once, however often it was scanned)."""
        total = self.counted
        if self.rejects_table and self.rejects_scan:
            row = con.execute(
                "SELECT count(*) FROM (SELECT DISTINCT s.file_path, e.line "
                f"FROM {quote_ident(self.rejects_table)} e "
                f"JOIN {quote_ident(self.rejects_scan)} s USING (scan_id, file_id))"
            ).fetchone()
            total += int(row[0]) if row else 0
        return total


_JSON_FORMATS = {"json": "auto", "jsonl": "newline_delimited", "ndjson": "newline_delimited"}


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
    views: Views,
    view: str,
    table: ExternalTable,
    filesystem: FileSystemSpec | None,
) -> tuple[Method, list[str], SkippedRows | None]:
    """Register ``table`` as ``view``; returns how it is read, the files it reads, and the
    counter of the malformed rows it skips (CSV and TSV only, else None)."""
    files = table_files(table, filesystem)
    fmt = table.format.lower()
    options = dict(table.options or {})
    parts = partition_fields(table)
    if not files:
        schema = pa.schema(list(table.schema) + parts)
        views.add_arrow(view, schema.empty_table())
        return "empty", files, None
    layout = partition_layout(table.location, parts, files) if parts else None
    skipped = SkippedRows(table.ident) if fmt in CSV_DELIMITERS else None
    paths = [local_path(uri) for uri in files]
    local = [p for p in paths if p is not None]
    if len(local) == len(files):
        native = _native_sql(fmt, options, local, table.schema, view, skipped)
        if native is not None:
            sql, method = native
            if layout is not None:
                sql = _with_partitions(views, view, sql, table.schema, layout, files, local)
            else:
                columns = ", ".join(quote_ident(name) for name in table.schema.names)
                sql = f"SELECT {columns} FROM ({sql})"
            views.add_sql(view, sql)
            return method, files, skipped
    schema = pa.schema(list(table.schema) + parts)
    batches = _formats_batches(files, fmt, options, table.schema, layout, filesystem, skipped)
    views.add_arrow(view, pa.RecordBatchReader.from_batches(schema, batches))
    return "formats", files, skipped


def _with_partitions(
    views: Views,
    view: str,
    sql: str,
    schema: pa.Schema,
    layout: PartitionLayout,
    files: Sequence[str],
    paths: Sequence[str],
) -> str:
    """``sql`` (which has a FILE_COLUMN) joined to each file's partition values."""
    values = pa.Table.from_arrays(
        [pa.array(list(paths), pa.string()), *layout.columns(files)],
        names=[FILE_COLUMN, *(f.name for f in layout.fields)],
    )
    partitions = f"{view}__partitions"
    views.add_arrow(partitions, values)
    cols = [f"d.{quote_ident(name)}" for name in schema.names]
    cols += [f"p.{quote_ident(f.name)}" for f in layout.fields]
    file_col = quote_ident(FILE_COLUMN)
    return (
        f"SELECT {', '.join(cols)} FROM ({sql}) AS d "
        f"JOIN {quote_ident(partitions)} AS p ON d.{file_col} = p.{file_col}"
    )


def _native_sql(
    fmt: str,
    options: Mapping[str, Any],
    paths: Sequence[str],
    schema: pa.Schema,
    view: str,
    skipped: SkippedRows | None,
) -> tuple[str, Method] | None:
    """A SELECT of the table's columns (and FILE_COLUMN) by DuckDB's own reader, if it can."""
    common = f"filename = {quote_str(FILE_COLUMN)}, hive_partitioning = false"
    file_col = quote_ident(FILE_COLUMN)
    types = duckdb_types(schema)
    if fmt in CSV_DELIMITERS:
        rejects = (f"{view}__rejects", f"{view}__scans")
        sql = read_csv_sql(fmt, options, paths, schema, file_column=FILE_COLUMN, rejects=rejects)
        if sql is None:
            return None
        if skipped is not None:
            skipped.rejects_table, skipped.rejects_scan = rejects
        return sql, "read_csv"
    if fmt in _JSON_FORMATS:
        if options:
            return None
        columns = ", ".join(
            f"{quote_str(f.name)}: {quote_str(t)}" for f, t in zip(schema, types, strict=True)
        )
        cols = [quote_ident(f.name) for f in schema]
        source = (
            f"read_json({sql_list(paths)}, format = {quote_str(_JSON_FORMATS[fmt])}, "
            f"columns = {{{columns}}}, {common})"
        )
        return f"SELECT {', '.join([*cols, file_col])} FROM {source}", "read_json"
    if fmt == "parquet":
        if options:
            return None
        cols = [
            f"CAST({quote_ident(f.name)} AS {t}) AS {quote_ident(f.name)}"
            for f, t in zip(schema, types, strict=True)
        ]
        source = f"read_parquet({sql_list(paths)}, union_by_name = true, {common})"
        return f"SELECT {', '.join([*cols, file_col])} FROM {source}", "read_parquet"
    return None


def _formats_batches(
    files: Sequence[str],
    fmt: str,
    options: Mapping[str, Any],
    schema: pa.Schema,
    layout: PartitionLayout | None,
    filesystem: FileSystemSpec | None,
    skipped: SkippedRows | None,
) -> Iterator[pa.RecordBatch]:
    """The table's batches, file by file: data columns then partition columns."""
    from lakebed.formats import read

    lenient = skipped is not None
    file_schema = schema
    positional = lenient and options.get("header") is False
    if lenient:
        # Text is read as strings and typed here, so a bad value is a NULL (as on DuckDB's
        # path) rather than a bad row; only rows of the wrong shape go to ``on_bad_record``.
        # Without a header the reader names columns col_0, col_1, ...: matched by position.
        names = [f"col_{i}" for i in range(len(schema))] if positional else schema.names
        file_schema = pa.schema([pa.field(n, pa.string()) for n in names])
    on_bad = skipped.on_bad_record if skipped is not None else None
    for uri in files:
        fs, path = filesystem_path(uri, filesystem)
        values = layout.columns([uri]) if layout is not None else []
        parts = list(zip(layout.fields, values, strict=True)) if layout is not None else []
        with fs.open_input_file(path) as stream:
            for batch in read(
                stream, format=fmt, schema=file_schema, on_bad_record=on_bad, **options
            ):
                if positional:
                    batch = batch.rename_columns(schema.names)
                yield conform(batch, schema, parts, name=os.path.basename(path), lenient=lenient)


def conform(
    batch: pa.RecordBatch,
    schema: pa.Schema,
    parts: Sequence[tuple[pa.Field, pa.Array]],
    *,
    name: str,
    lenient: bool = False,
) -> pa.RecordBatch:
    """``batch`` with exactly ``schema``'s columns (by name, cast; missing ones null),
    followed by the partition columns, each repeating its one-value array ``parts``.

    ``lenient`` turns values that do not cast into nulls instead of a SchemaError.
    """
    arrays: list[pa.Array] = []
    for field in schema:
        if field.name not in batch.schema.names:
            arrays.append(pa.nulls(batch.num_rows, field.type))
            continue
        column = batch.column(field.name)
        if column.type != field.type:
            if lenient:
                if pa.types.is_string(column.type):
                    column = pc.utf8_trim_whitespace(column)
                column = try_cast(column, field.type)
            else:
                try:
                    column = pc.cast(column, field.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
                    raise SchemaError(
                        f"{name}: column {field.name!r} cannot be read as {field.type}: {err}",
                        fix="correct the external table's schema or the file",
                    ) from err
        arrays.append(column)
    fields = list(schema)
    for field, value in parts:
        arrays.append(pa.repeat(value[0], batch.num_rows).cast(field.type))
        fields.append(field)
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
