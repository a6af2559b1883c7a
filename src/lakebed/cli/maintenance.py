"""CLI commands for table maintenance: optimize, expire-snapshots, remove-orphans."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from lakebed.cli import render
from lakebed.cli.app import app, state


def _iceberg_table(ctx: typer.Context, ident: str) -> Any:
    from lakebed.maintenance._checks import require_table

    return require_table(state(ctx).lake.table(ident), "maintenance")


def _show(ctx: typer.Context, report: Any, title: str, notes: Sequence[str] = ()) -> None:
    st = state(ctx)
    if st.as_json:
        render.emit_json(report.to_dict())
        return
    render.emit_rows(report.summary_rows(), title=title)
    for line in notes:
        render.console.print(line)


@app.command()
def optimize(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument(help="DB.TABLE")],
    target_file_size: Annotated[
        str | None,
        typer.Option(help="Size of the files to write, e.g. 256MB (default: the table's)."),
    ] = None,
    sort_by: Annotated[
        list[str] | None,
        typer.Option(help="Column to order rows by (repeatable; add ' desc' to reverse)."),
    ] = None,
    where: Annotated[
        str | None, typer.Option(help="Only compact files holding rows matching this filter.")
    ] = None,
    min_input_files: Annotated[
        int, typer.Option(help="Leave partitions with fewer small files alone.")
    ] = 2,
) -> None:
    """Compact a table's small data files into right-sized ones (one new snapshot)."""
    from lakebed.ingest.options import parse_size
    from lakebed.maintenance import optimize as run

    size = None if target_file_size is None else parse_size(target_file_size, "--target-file-size")
    target = _iceberg_table(ctx, table)
    with render.count_bar(f"optimize {table}") as progress:
        report = run(
            target,
            target_file_size=size,
            sort_by=tuple(sort_by or ()),
            where=where,
            min_input_files=min_input_files,
            progress=progress,
        )
    _show(ctx, report, f"optimize {table}", report.notes())


@app.command("expire-snapshots")
def expire_snapshots(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument(help="DB.TABLE")],
    older_than: Annotated[
        str | None,
        typer.Option(help="Expire snapshots older than this, e.g. 7d, 12h (default: all)."),
    ] = None,
    retain_last: Annotated[
        int, typer.Option(help="Always keep this many newest snapshots per branch.")
    ] = 1,
) -> None:
    """Forget old snapshots and delete the files only they reference."""
    from lakebed.maintenance import expire_snapshots as run
    from lakebed.maintenance.durations import parse_duration

    age = None if older_than is None else parse_duration(older_than, "--older-than")
    report = run(_iceberg_table(ctx, table), older_than=age, retain_last=retain_last)
    _show(ctx, report, f"expire snapshots of {table}")


@app.command("remove-orphans")
def remove_orphans(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument(help="DB.TABLE")],
    older_than: Annotated[
        str, typer.Option(help="Only delete orphans older than this, e.g. 3d, 12h.")
    ] = "3d",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the orphans without deleting them.")
    ] = False,
) -> None:
    """Delete files under a table's location that the table no longer references."""
    from lakebed.maintenance import remove_orphan_files as run
    from lakebed.maintenance.durations import parse_duration

    age = parse_duration(older_than, "--older-than")
    report = run(_iceberg_table(ctx, table), older_than=age, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    shown = report.orphans if dry_run else report.deleted
    notes = [f"{verb} {uri}" for uri in shown[:50]]
    if len(shown) > 50:
        notes.append(f"... and {len(shown) - 50} more")
    _show(ctx, report, f"orphan files of {table}", notes)
