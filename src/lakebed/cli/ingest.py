"""CLI commands for batch loads: ingest, and the bookmarks incremental loads keep."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from lakebed.cli import render
from lakebed.cli.app import app, state


class Mode(StrEnum):
    append = "append"
    overwrite = "overwrite"
    overwrite_partitions = "overwrite-partitions"
    merge = "merge"
    cdc = "cdc"


def _incremental(value: str | None) -> bool | str:
    if value is None:
        return False
    return True if value.lower() in ("", "true", "files", "yes") else value


@app.command()
def ingest(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            help="Files (folder, lake prefix, s3:// URL) or a database URL "
            "(postgresql://, mysql://, sqlite:///...)."
        ),
    ],
    into: Annotated[str, typer.Option("--into", help="Target table, DB.TABLE.")],
    mode: Annotated[Mode, typer.Option(help="How rows land in the table.")] = Mode.append,
    keys: Annotated[
        list[str] | None, typer.Option("--key", help="Key column for merge/cdc (repeatable).")
    ] = None,
    incremental: Annotated[
        str | None,
        typer.Option(
            help="Load only what is new: 'true' for files, a growing column for databases."
        ),
    ] = None,
    bookmark: Annotated[str | None, typer.Option(help="Name of the bookmark.")] = None,
    table: Annotated[str | None, typer.Option(help="Database table to read.")] = None,
    query: Annotated[str | None, typer.Option(help="SELECT to read from the database.")] = None,
    format: Annotated[str | None, typer.Option(help="File format (default: detected).")] = None,
    format_options: Annotated[
        list[str] | None,
        typer.Option(
            "--format-option",
            help="Reader option KEY=VALUE (repeatable), e.g. delimiter=; or header=false.",
        ),
    ] = None,
    partition_by: Annotated[
        list[str] | None, typer.Option("--partition-by", help="e.g. 'day(ts)' (repeatable).")
    ] = None,
    sort_by: Annotated[
        list[str] | None,
        typer.Option("--sort-by", help="A column, optionally followed by desc, e.g. 'score desc'."),
    ] = None,
    target_file_size: Annotated[
        str | None, typer.Option(help="Data file size, e.g. 256MB.")
    ] = None,
    types: Annotated[
        list[str] | None,
        typer.Option("--type", help="COLUMN=TYPE for a new table, e.g. amount=decimal(12,2)."),
    ] = None,
    op_column: Annotated[str, typer.Option(help="CDC operation column (I/U/D).")] = "Op",
    sequence_column: Annotated[
        str | None, typer.Option(help="CDC: column that orders the changes of a key.")
    ] = None,
    partition_column: Annotated[
        str | None, typer.Option(help="Database: column to split the read into key ranges.")
    ] = None,
    lock_ttl: Annotated[
        str | None,
        typer.Option(help="How long this load's bookmark lock outlives its last heartbeat."),
    ] = None,
    schema_policy: Annotated[str, typer.Option(help="evolve or strict.")] = "evolve",
    on_incompatible: Annotated[
        str, typer.Option(help="Values that don't fit: quarantine or error.")
    ] = "quarantine",
    parallelism: Annotated[int, typer.Option(help="Parts read at once.")] = 2,
) -> None:
    """Load files or a database table into an Iceberg table, in one snapshot."""
    st = state(ctx)
    options: dict[str, Any] = {
        "mode": mode.value,
        "keys": keys or (),
        "incremental": _incremental(incremental),
        "bookmark": bookmark,
        "table": table,
        "query": query,
        "format": format,
        "partition_by": partition_by or (),
        "sort_by": sort_by or (),
        "op_column": op_column,
        "sequence_column": sequence_column,
        "partition_column": partition_column,
        "format_options": dict(_option(o) for o in format_options or ()),
        "types": dict(_pair(t) for t in types or ()),
        "schema_policy": schema_policy,
        "on_incompatible": on_incompatible,
        "parallelism": parallelism,
    }
    if target_file_size is not None:
        options["target_file_size"] = target_file_size
    if lock_ttl is not None:
        options["lock_ttl"] = lock_ttl
    with render.load_bar(f"ingest into {into}") as progress:
        report = st.lake.ingest(source, into=into, progress=progress, **options)
    if st.as_json:
        render.emit_json(report.to_dict())
        return
    render.emit_rows(summary_rows(report.to_dict()), title=f"ingest {source} → {into}")
    for note in report.notes + report.schema_changes:
        render.console.print(note)


def _pair(text: str) -> tuple[str, str]:
    column, sep, kind = text.partition("=")
    if not sep or not column.strip() or not kind.strip():
        raise typer.BadParameter(f"{text!r} is not COLUMN=TYPE", param_hint="--type")
    return column.strip(), kind.strip()


def _option(text: str) -> tuple[str, str | bool]:
    """A ``--format-option KEY=VALUE``: true/false become booleans, the rest stays text (so
    ``delimiter=;`` or ``delimiter=#`` mean what they say)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise typer.BadParameter(f"{text!r} is not KEY=VALUE", param_hint="--format-option")
    flag = {"true": True, "yes": True, "false": False, "no": False}.get(value.strip().lower())
    return key.strip(), value if flag is None else flag


def summary_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """A load's report as property/value rows."""
    shown = [
        "status",
        "parts",
        "rows_read",
        "rows_written",
        "rows_quarantined",
        "rows_deleted",
        "data_files",
        "snapshot_ids",
        "bookmark",
        "seconds",
    ]
    rows = [{"": key.replace("_", " "), "value": report[key]} for key in shown]
    rows.append({"": "reconciles", "value": report["reconciles"]})
    return rows


@app.command()
def bookmarks(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument(help="DB.TABLE")],
    reset: Annotated[str | None, typer.Option(help="Forget this bookmark.")] = None,
    rewind: Annotated[str | None, typer.Option(help="Set this bookmark back ...")] = None,
    to: Annotated[int | None, typer.Option(help="... to where it was at this snapshot id,")] = None,
    to_value: Annotated[
        str | None, typer.Option(help="... or to this column value (database loads).")
    ] = None,
    unlock: Annotated[
        str | None,
        typer.Option(
            help="Release this bookmark's lock held by a run that died (e.g. on another host); "
            "the run is marked failed and its quarantined records taken back."
        ),
    ] = None,
) -> None:
    """List a table's incremental-load bookmarks; reset, rewind or unlock one."""
    st = state(ctx)
    if unlock:
        render.console.print(st.lake.unlock_bookmark(table, unlock), highlight=False)
        return
    if reset:
        st.lake.reset_bookmark(table, reset)
        render.console.print(f"bookmark {reset} reset: the next load starts from the beginning")
        return
    if rewind:
        if (to is None) == (to_value is None):
            raise typer.BadParameter(
                "--rewind needs --to SNAPSHOT_ID or --to-value VALUE", param_hint="--to"
            )
        words = st.lake.rewind_bookmark(table, rewind, snapshot_id=to, value=to_value)
        render.console.print(f"bookmark {rewind} rewound: {words}")
        return
    rows = [
        {
            "name": b.name,
            "kind": b.kind,
            "state": b.summary,
            "source": b.source,
            "updated": b.updated_at.isoformat() if b.updated_at else None,
        }
        for b in st.lake.bookmarks(table)
    ]
    if st.as_json:
        render.emit_json(json.loads(json.dumps(rows)))
    else:
        render.emit_rows(rows, title=f"bookmarks of {table}")
