"""The ``lakebed`` command: a thin layer that parses, calls the library and renders."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from lakebed.cli import render
from lakebed.lake import Lake, open_lake

app = typer.Typer(
    name="lakebed",
    help="A self-hosted data lake for machine learning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass
class State:
    lake_root: str | None = None
    as_json: bool = False
    _lake: Lake | None = field(default=None, repr=False)

    @property
    def lake(self) -> Lake:
        if self._lake is None:
            self._lake = open_lake(self.lake_root)
        return self._lake


def state(ctx: typer.Context) -> State:
    return ctx.ensure_object(State)


@app.callback()
def _global(
    ctx: typer.Context,
    lake: Annotated[
        str | None,
        typer.Option(
            "--lake", envvar="LAKEBED_LAKE", help="Lake root: a folder or s3://bucket/prefix."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")] = False,
) -> None:
    ctx.obj = State(lake_root=lake, as_json=as_json)


def _emit(
    st: State, value: Any, rows: list[dict[str, Any]] | None = None, title: str | None = None
) -> None:
    if st.as_json:
        render.emit_json(value)
    else:
        render.emit_rows(rows if rows is not None else value, title=title)


# -- raw zone ---------------------------------------------------------------------------------


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the lake (its root folder or bucket, and its catalog)."""
    st = state(ctx)
    lake = st.lake
    lake.init()
    info = {"root": lake.config.root, "catalog": lake.config.catalog_url()}
    if st.as_json:
        render.emit_json(info)
    else:
        render.console.print(
            f"lake ready at [bold]{info['root']}[/bold] (catalog {info['catalog']})"
        )


@app.command()
def put(
    ctx: typer.Context,
    source: Annotated[
        Path, typer.Argument(help="A local file, or a folder to upload recursively.")
    ],
    key: Annotated[
        str | None, typer.Argument(help="Key (or prefix for a folder); default raw/NAME.")
    ] = None,
    content_type: Annotated[str | None, typer.Option(help="Content type to record.")] = None,
) -> None:
    """Store a file or a folder of files in the lake, as they are."""
    st = state(ctx)
    uploads = _plan_uploads(source, key)
    total = sum(path.stat().st_size for path, _ in uploads)
    results = []
    with render.transfer_bar(f"put {source.name}", total) as advance:
        for path, target in uploads:
            results.append(st.lake.put(target, path, content_type=content_type, progress=advance))
    rows = [
        {"key": i.key, "size": render.human_size(i.size), "content_type": i.content_type}
        for i in results
    ]
    _emit(st, [vars(i) for i in results], rows)


def _plan_uploads(source: Path, key: str | None) -> list[tuple[Path, str]]:
    from lakebed.errors import NotFoundError

    if source.is_file():
        return [(source, key or f"raw/{source.name}")]
    if source.is_dir():
        prefix = (key or f"raw/{source.name}").strip("/")
        files = sorted(p for p in source.rglob("*") if p.is_file())
        return [(p, f"{prefix}/{p.relative_to(source).as_posix()}") for p in files]
    raise NotFoundError(f"{source} does not exist", fix="pass an existing file or folder")


@app.command()
def get(
    ctx: typer.Context,
    key: str,
    dest: Annotated[Path | None, typer.Argument(help="Local file; '-' or none for stdout.")] = None,
) -> None:
    """Fetch an object to a local file or stdout."""
    st = state(ctx)
    if dest is None or str(dest) == "-":
        sys.stdout.buffer.write(st.lake.get(key))
        return
    size = st.lake.store.head(key).size
    with render.transfer_bar(f"get {key}", size) as advance:
        st.lake.download(key, dest, progress=advance)
    render.errors.print(f"{key} -> {dest}")


@app.command("ls")
def ls_(ctx: typer.Context, prefix: Annotated[str, typer.Argument()] = "") -> None:
    """List objects under a prefix, with size and modification time."""
    st = state(ctx)
    infos = st.lake.ls(prefix)
    rows = [
        {
            "key": i.key,
            "size": render.human_size(i.size),
            "modified": i.modified.strftime("%Y-%m-%d %H:%M:%S"),
        }
        for i in infos
    ]
    _emit(st, [vars(i) for i in infos], rows)


@app.command()
def rm(ctx: typer.Context, key: str) -> None:
    """Delete an object."""
    state(ctx).lake.rm(key)
    render.errors.print(f"removed {key}")


class Dialect(StrEnum):
    duckdb = "duckdb"
    athena = "athena"
    trino = "trino"
    spark = "spark"


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


@app.command()
def sql(
    ctx: typer.Context,
    query: str,
    dialect: Annotated[Dialect | None, typer.Option(help="SQL dialect of the query.")] = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
    max_rows: Annotated[int, typer.Option(help="Rows shown in table format.")] = 50,
) -> None:
    """Run SQL over the lake's tables."""
    st = state(ctx)
    result = st.lake.sql(query, dialect=dialect.value if dialect else None)
    from lakebed.cli.results import write_result

    chosen = OutputFormat.json if st.as_json and format is OutputFormat.table else format
    write_result(result, chosen.value, output, max_rows=max_rows)


@app.command()
def select(
    ctx: typer.Context,
    key: str,
    query: str,
    input_format: Annotated[
        str | None, typer.Option("--input-format", help="Format of the object.")
    ] = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Query one raw object in place (as S3 Select); the object is named s3object."""
    from lakebed.cli.results import write_result

    st = state(ctx)
    result = st.lake.select(key, query, format=input_format)
    chosen = OutputFormat.json if st.as_json and format is OutputFormat.table else format
    write_result(result, chosen.value, output)


@app.command()
def convert(
    ctx: typer.Context,
    source: Path,
    dest: Path,
    to: Annotated[
        str,
        typer.Option(
            "--to", help="Target format: csv, tsv, json, jsonl, avro, parquet, orc, recordio."
        ),
    ],
    from_format: Annotated[
        str | None, typer.Option("--from", help="Source format (default: detect).")
    ] = None,
) -> None:
    """Convert a file between formats, streaming (files larger than memory pass)."""
    st = state(ctx)
    result = st.lake.convert(source, dest, to=to, src_format=from_format)
    summary = {"source": str(source), "dest": str(dest), "format": to, **_as_dict(result)}
    _emit(st, summary, [summary])


def _as_dict(value: Any) -> dict[str, Any]:
    if hasattr(value, "to_dict"):
        return dict(value.to_dict())
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    return dict(vars(value))
