"""CLI commands that run longer jobs: the quickstart demo and the HTTP server."""

from __future__ import annotations

from typing import Annotated

import pyarrow as pa
import typer

from lakebed.cli import render
from lakebed.cli.app import app, state


@app.command()
def quickstart(
    ctx: typer.Context,
    lake: Annotated[
        str | None,
        typer.Option("--lake", help="Where to build the demo lake (default ./demo-lake)."),
    ] = None,
) -> None:
    """Build a demo lake from messy multi-format raw data, crawl, convert and query it."""
    from lakebed.demo.quickstart import run_quickstart
    from lakebed.lake import open_lake

    st = state(ctx)
    target = open_lake(lake or st.lake_root or "./demo-lake")

    def show(title: str, table: pa.Table) -> None:
        render.emit_rows(table.to_pylist(), title=title)

    report = run_quickstart(
        target,
        say=lambda line: render.console.print(f"[green]✓[/green] {line}"),
        show=None if st.as_json else show,
    )
    if st.as_json:
        render.emit_json({"lake": report.lake_root, "steps": report.steps})
        return
    rows = [
        {
            "step": step["step"],
            "seconds": step.get("seconds"),
            "details": ", ".join(
                f"{k}={v}" for k, v in step.items() if k not in ("step", "seconds")
            ),
        }
        for step in report.steps
    ]
    render.emit_rows(rows, title="what the quickstart did")
    render.console.print(
        f"\nYour demo lake is at [bold]{report.lake_root}[/bold]. Try:\n"
        f"  lakebed --lake {report.lake_root} tables shop\n"
        f"  lakebed --lake {report.lake_root} describe shop.transactions\n"
        f'  lakebed --lake {report.lake_root} sql "SELECT * FROM shop.customers LIMIT 5"'
    )


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8642,
) -> None:
    """Serve the HTTP API over the lake."""
    import uvicorn

    from lakebed.server import create_app

    uvicorn.run(create_app(state(ctx).lake), host=host, port=port)
