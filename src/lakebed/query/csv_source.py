"""DuckDB's ``read_csv`` over an external CSV/TSV table's local files, skipping malformed rows.

Rows with a missing or an extra field are skipped (``ignore_errors``) and recorded in two
temporary tables of the query's connection (``store_rejects``), from which
:class:`~lakebed.query.external.SkippedRows` counts them after the query. DuckDB cannot record
rejects while matching the columns of differing files by name (``union_by_name``), so files are
grouped by their header line: each group is one ``read_csv`` (its files share their columns),
and the groups are combined with ``UNION ALL BY NAME``. Every value is read as text and cast
with ``TRY_CAST``, so a value of the wrong type is a NULL: the row is kept, as Athena keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from lakebed.errors import LakebedError
from lakebed.query.sources import duckdb_types, quote_ident, quote_str, sql_list

#: Table options DuckDB's read_csv understands → its parameter names.
CSV_OPTIONS = {
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
CSV_DELIMITERS = {"csv": ",", "tsv": "\t"}
_MAX_HEADER_BYTES = 1 << 20


def _typed_column(name: str, duckdb_type: str) -> str:
    """The text column ``name`` as ``duckdb_type``, NULL where a value does not parse.

    A bare ``TRY_CAST`` would be pushed into the reader, which with ``ignore_errors`` then
    drops the whole row instead of giving NULL (DuckDB 2.0); a cast of ``trim(...)`` is not
    pushed down, so the value becomes NULL whichever way the files are grouped.
    """
    column = quote_ident(name)
    if duckdb_type == "VARCHAR":
        return f"{column} AS {column}"
    return f"TRY_CAST(trim({column}) AS {duckdb_type}) AS {column}"


def sql_value(value: Any) -> str:
    """A Python option value as a DuckDB literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return quote_str(str(value))


def header_line(path: str, skip: int) -> bytes | None:
    """The (decompressed) header line of a local file, None when it cannot be read (DuckDB
    then reports the problem itself)."""
    from lakebed.formats import open_decompressed

    try:
        with open(path, "rb") as raw:
            stream = open_decompressed(raw, path)
            for _ in range(skip):
                stream.readline(_MAX_HEADER_BYTES)
            return stream.readline(_MAX_HEADER_BYTES).rstrip(b"\r\n")
    except (OSError, EOFError, LakebedError):
        return None


def group_by_header(paths: Sequence[str], header: bool, skip: int) -> list[list[str]]:
    """The files in groups that share a header line (one group when there is no header)."""
    if not header:
        return [list(paths)]
    groups: dict[bytes | str, list[str]] = {}
    for path in paths:
        line = header_line(path, skip)
        groups.setdefault(path if line is None else line, []).append(path)
    return list(groups.values())


def read_csv_sql(
    fmt: str,
    options: Mapping[str, Any],
    paths: Sequence[str],
    schema: pa.Schema,
    *,
    file_column: str,
    rejects: tuple[str, str] | None,
) -> str | None:
    """A SELECT of ``schema``'s columns and ``file_column`` (each row's file) from ``paths``;
    None when an option has no read_csv equivalent. ``rejects`` names the two tables that
    record skipped rows (``rejects_table``, ``rejects_scan``)."""
    if any(key not in CSV_OPTIONS for key in options):
        return None
    args: dict[str, Any] = {"delim": CSV_DELIMITERS[fmt], "header": True}
    args.update({CSV_OPTIONS[key]: value for key, value in options.items()})
    if rejects is not None:
        args.update(
            ignore_errors=True,
            store_rejects=True,
            rejects_table=rejects[0],
            rejects_scan=rejects[1],
        )
    rendered = ", ".join(f"{k} = {sql_value(v)}" for k, v in args.items())
    names = "" if args["header"] else f", names = {sql_list(schema.names)}"
    common = (
        f"{rendered}{names}, all_varchar = true, filename = {quote_str(file_column)}, "
        "hive_partitioning = false"
    )
    skip = int(args.get("skip") or 0)
    groups = group_by_header(paths, bool(args["header"]), skip)
    union = " UNION ALL BY NAME ".join(
        f"SELECT * FROM read_csv({sql_list(group)}, {common})" for group in groups
    )
    cols = [_typed_column(f.name, t) for f, t in zip(schema, duckdb_types(schema), strict=True)]
    return f"SELECT {', '.join([*cols, quote_ident(file_column)])} FROM ({union})"
