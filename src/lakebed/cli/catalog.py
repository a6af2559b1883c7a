"""CLI commands over the catalog: crawl, databases, tables, describe."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from lakebed.cli import render
from lakebed.cli.app import app, state


class SchemaPolicy(StrEnum):
    update = "update"
    log = "log"
    add_columns = "add_columns"


class RemovedPolicy(StrEnum):
    delete = "delete"
    deprecate = "deprecate"
    log = "log"


@app.command()
def crawl(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="A lake prefix (lake://raw), local folder or s3:// URL.")
    ],
    database: Annotated[
        str, typer.Option("--database", "-d", help="Database to register tables in.")
    ],
    convert: Annotated[
        bool, typer.Option(help="Write Iceberg tables instead of external ones.")
    ] = False,
    schema_policy: Annotated[
        SchemaPolicy, typer.Option(help="On a changed schema.")
    ] = SchemaPolicy.update,
    removed_policy: Annotated[
        RemovedPolicy, typer.Option(help="On removed files.")
    ] = RemovedPolicy.deprecate,
    table_prefix: Annotated[str, typer.Option(help="Prefix for new table names.")] = "",
) -> None:
    """Infer formats, schemas and partitions under SOURCE and register tables."""
    st = state(ctx)
    with render.count_bar(f"crawl {source}") as progress:
        report = st.lake.crawl(
            source,
            database=database,
            convert=convert,
            schema_policy=schema_policy.value,
            removed_policy=removed_policy.value,
            table_prefix=table_prefix,
            progress=progress,
        )
    if st.as_json:
        render.emit_json(report.to_dict())
        return
    render.emit_rows(report.summary_rows(), title=f"crawl of {source} into {database}")
    for line in report.notes():
        render.console.print(line)


@app.command()
def databases(ctx: typer.Context) -> None:
    """List databases."""
    st = state(ctx)
    names = st.lake.databases()
    if st.as_json:
        render.emit_json(names)
    else:
        render.emit_rows([{"database": n} for n in names])


@app.command()
def tables(ctx: typer.Context, database: str) -> None:
    """List the tables of a database."""
    st = state(ctx)
    rows = [st.lake.describe(ident, brief=True) for ident in st.lake.tables(database)]
    if st.as_json:
        render.emit_json(rows)
    else:
        render.emit_rows(rows)


@app.command()
def describe(ctx: typer.Context, table: Annotated[str, typer.Argument(help="DB.TABLE")]) -> None:
    """Schema, partitions, snapshots and size of a table."""
    st = state(ctx)
    info: dict[str, Any] = st.lake.describe(table)
    if st.as_json:
        render.emit_json(info)
        return
    header = {k: v for k, v in info.items() if k not in ("columns", "snapshots", "partitioning")}
    render.emit_rows([{"property": k, "value": v} for k, v in header.items()], title=table)
    render.emit_rows(info["columns"], title="columns")
    if info.get("partitioning"):
        render.emit_rows([{"partition": p} for p in info["partitioning"]], title="partitioning")
    if info.get("snapshots"):
        render.emit_rows(info["snapshots"], title="snapshots")
