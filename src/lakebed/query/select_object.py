"""S3 Select-style queries over one raw object, in place, without cataloging it.

Inside the query the object is ``s3object`` (``input`` works too), as in
``SELECT s.a FROM s3object s WHERE s.b > 3``. CSV, TSV, JSON, JSON Lines and Parquet are read
by DuckDB itself; other formats (Avro, ORC, RecordIO, Protobuf) and bzip2-compressed files
(DuckDB reads gzip and zstd only) through ``lakebed.formats``. The format comes from the
``format`` argument, else the name's extension (``lakebed.formats.format_for_path``, which looks
through ``.gz``/``.bz2``/``.zst``), else the first bytes.
A stream or a remote object is first spooled to a temporary file, so every source is read by
the same code with the same type inference.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import ExitStack
from typing import IO

import duckdb
import pyarrow as pa
from sqlglot import exp

from lakebed.errors import NotFoundError, QueryError
from lakebed.query.sources import FileSystemSpec, filesystem_path, quote_ident, quote_str

OBJECT_NAMES = ("s3object", "input")
_VIEW = "__lakebed_object"


def _format_from_name(name: str) -> str | None:
    """The format a file name's extension names (compression suffixes looked through)."""
    from lakebed.formats import format_for_path

    fmt = format_for_path(name)
    return fmt.name if fmt is not None else None


def rewrite_object_refs(tree: exp.Expr) -> None:
    """Point every ``s3object``/``input`` table reference at the object's view."""
    found = False
    for node in list(tree.find_all(exp.Table)):
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        if isinstance(node.this, exp.Identifier) and not node.db and node.name.lower() in ctes:
            continue
        if (
            not isinstance(node.this, exp.Identifier)
            or node.db
            or node.name.lower() not in OBJECT_NAMES
        ):
            raise QueryError(
                f"select_object queries only the one object, not {node.sql()!r}",
                fix="write FROM s3object (or FROM input), e.g. SELECT s.a FROM s3object s",
            )
        alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
        node.replace(exp.Table(this=exp.to_identifier(_VIEW, quoted=True), alias=alias))
        found = True
    if not found:
        raise QueryError(
            "the query does not read s3object",
            fix="write FROM s3object, e.g. SELECT * FROM s3object s LIMIT 10",
        )


def spool(
    source: str | IO[bytes], stack: ExitStack, filesystem: FileSystemSpec | None
) -> tuple[str, str]:
    """A local file holding the object, and the object's name (for format guessing)."""
    if isinstance(source, str | os.PathLike):
        text = os.fspath(source)
        fs, path = filesystem_path(text, filesystem)
        name = os.path.basename(path)
        if "://" not in text or text.startswith("file://"):
            if not os.path.isfile(path):
                raise NotFoundError(
                    f"object {text} not found", fix="check the path of the file to query"
                )
            return path, name
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="lakebed-select-"))
        local = os.path.join(folder, name)
        try:
            with fs.open_input_stream(path) as remote, open(local, "wb") as sink:
                shutil.copyfileobj(remote, sink, 8 << 20)
        except FileNotFoundError:
            raise NotFoundError(f"object {text} not found", fix="check the object's URI") from None
        return local, name
    given = getattr(source, "name", None)
    name = os.path.basename(given) if isinstance(given, str) else "object"
    folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="lakebed-select-"))
    head = source.read(2)
    if head == b"\x1f\x8b" and not name.endswith(".gz"):
        name += ".gz"  # DuckDB tells compression by the file name
    local = os.path.join(folder, name)
    with open(local, "wb") as sink:
        sink.write(head)
        shutil.copyfileobj(source, sink, 8 << 20)
    return local, name


def register_object(con: duckdb.DuckDBPyConnection, path: str, name: str, fmt: str | None) -> None:
    """Create the object's view in ``con``; FormatError-style QueryError when unknown."""
    kind = (fmt or _format_from_name(name) or _sniff(path) or "").lower()
    target = quote_str(path)
    if kind and _compression(path) == "bz2":
        # DuckDB reads gzip and zstd itself but not bzip2; lakebed.formats reads all three.
        con.register(_VIEW, _read_with_formats(path, kind))
        return
    if kind in ("csv", "tsv"):
        delim = "\t" if kind == "tsv" else ","
        # As S3 Select's lenient readers: a malformed row (missing or extra fields) is skipped.
        source = f"read_csv({target}, delim = {quote_str(delim)}, ignore_errors = true)"
    elif kind in ("json", "jsonl", "ndjson"):
        style = "auto" if kind == "json" else "newline_delimited"
        source = f"read_json({target}, format = {quote_str(style)})"
    elif kind == "parquet":
        source = f"read_parquet({target})"
    elif kind:
        con.register(_VIEW, _read_with_formats(path, kind))
        return
    else:
        raise QueryError(
            f"cannot tell the format of {name}",
            fix="pass format='csv' (or tsv, json, jsonl, parquet, avro, orc, recordio)",
        )
    try:
        con.execute(f"CREATE TEMP VIEW {quote_ident(_VIEW)} AS SELECT * FROM {source}")
    except duckdb.Error as err:
        raise QueryError(
            f"cannot read {name} as {kind}: {err}",
            fix="pass the object's format explicitly, or check that the object is not corrupt",
        ) from None


def _compression(path: str) -> str | None:
    from lakebed.formats.compression import compression_of

    with open(path, "rb") as stream:
        return compression_of(stream.read(4))


def _sniff(path: str) -> str | None:
    """The format lakebed.formats detects from the (decompressed) content, or None."""
    from lakebed.errors import FormatError
    from lakebed.formats import detect, open_decompressed
    from lakebed.formats.detect import SNIFF_BYTES

    with open(path, "rb") as raw, open_decompressed(raw, path) as stream:
        try:
            return detect(stream.read(SNIFF_BYTES), path).name
        except FormatError:
            return None


def _read_with_formats(path: str, fmt: str) -> pa.RecordBatchReader:
    from lakebed.formats import read

    batches = list(read(path, format=fmt))
    if not batches:
        raise QueryError(f"the object {path} has no records", fix="query a non-empty object")
    return pa.RecordBatchReader.from_batches(batches[0].schema, batches)
