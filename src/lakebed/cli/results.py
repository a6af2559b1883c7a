"""Writing query results in the format a user asked for."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pyarrow as pa

from lakebed.cli import render
from lakebed.errors import ConfigError


def write_result(result: pa.Table, fmt: str, output: Path | None, *, max_rows: int = 50) -> None:
    """Render ``result`` as a table, CSV, JSON (an array of objects) or Parquet."""
    if fmt == "table" and output is None:
        shown = result.slice(0, max_rows).to_pylist()
        render.emit_rows(shown)
        if result.num_rows > max_rows:
            render.errors.print(f"[dim]{result.num_rows} rows, first {max_rows} shown[/dim]")
        return
    if fmt == "parquet" and output is None:
        raise ConfigError("Parquet output is binary", fix="add --output FILE.parquet")
    data = _encode(result, "csv" if fmt == "table" else fmt)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        render.errors.print(f"{result.num_rows} rows -> {output}")


def _encode(result: pa.Table, fmt: str) -> bytes:
    sink = io.BytesIO()
    if fmt == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(result, sink)
    elif fmt == "json":
        import json

        from lakebed.cli.render import _plain

        sink.write(json.dumps(_plain(result.to_pylist()), default=str, indent=2).encode() + b"\n")
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(result, sink)
    else:
        raise ConfigError(f"unknown output format {fmt!r}", fix="use table, csv, json or parquet")
    return sink.getvalue()
