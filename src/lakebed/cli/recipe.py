"""CLI commands for recipes (``lakebed recipe ...``), samples and splits."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Annotated, Any

import pyarrow as pa
import typer

from lakebed.cli import render
from lakebed.cli.app import app, state
from lakebed.errors import ConfigError

recipe_app = typer.Typer(
    help="Recipes of cleaning steps and ML transforms: check, publish, preview, apply.",
    no_args_is_help=True,
)
app.add_typer(recipe_app, name="recipe")

Engine = Annotated[str, typer.Option(help="duckdb (default) or spark.")]


@recipe_app.command("list-operations")
def list_operations(
    ctx: typer.Context,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    examples: Annotated[bool, typer.Option(help="Show an example step for each.")] = False,
    markdown: Annotated[bool, typer.Option(help="Print the reference as Markdown.")] = False,
) -> None:
    """Every operation a recipe can use, with its parameters."""
    from lakebed.transform.ops import all_operations

    if markdown:
        from lakebed.transform.reference import operations_markdown

        sys.stdout.write(operations_markdown())
        return

    rows: list[dict[str, Any]] = []
    for name, op in all_operations().items():
        if category and op.category.lower() != category.lower():
            continue
        params = ", ".join(
            f"{p}{'' if spec.required else '?'}: {spec.kind}" for p, spec in op.params.items()
        )
        row: dict[str, Any] = {
            "operation": name,
            "category": op.category,
            "parameters": params,
            "description": op.doc + ("" if op.databrew else " (lakebed)"),
        }
        if examples:
            row["example"] = op.examples[0]["parameters"] if op.examples else ""
        rows.append(row)
    if state(ctx).as_json:
        render.emit_json(rows)
        return
    render.emit_rows(rows, title=f"{len(rows)} operations")


@recipe_app.command("check")
def check(
    ctx: typer.Context,
    recipe: Annotated[str, typer.Argument(help="Recipe file (JSON/YAML) or published name.")],
    table: Annotated[str, typer.Option("--table", help="DB.TABLE the recipe will read.")],
) -> None:
    """Check a recipe against a table's columns without running it."""
    schemas = state(ctx).lake.recipes.check(recipe, table)
    last = schemas[-1] if schemas else state(ctx).lake.table(table).schema
    if state(ctx).as_json:
        render.emit_json({"ok": True, "columns": [f"{f.name}: {f.type}" for f in last]})
        return
    render.console.print(f"[green]ok[/green]: {len(schemas)} steps; output columns:")
    render.emit_rows([{"column": f.name, "type": str(f.type)} for f in last])


@recipe_app.command("publish")
def publish(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Recipe name.")],
    recipe: Annotated[str, typer.Argument(help="Recipe file (JSON/YAML).")],
    fit_on: Annotated[
        str | None, typer.Option(help="DB.TABLE to fit learning steps on (state is stored).")
    ] = None,
    description: Annotated[str | None, typer.Option(help="What this version changes.")] = None,
) -> None:
    """Publish a new version of a recipe."""
    version = state(ctx).lake.recipes.publish(name, recipe, fit_on=fit_on, description=description)
    info = {
        "recipe": version.name,
        "version": version.version,
        "steps": len(version.recipe),
        "fitted_on": version.fitted_on,
        "fitted_snapshot": version.fitted_snapshot,
    }
    if state(ctx).as_json:
        render.emit_json(info)
        return
    render.emit_rows([info], title="published")


@recipe_app.command("list")
def list_recipes(ctx: typer.Context) -> None:
    """Published recipes and their latest versions."""
    rows = [{"recipe": n, "latest": v} for n, v in state(ctx).lake.recipes.names()]
    if state(ctx).as_json:
        render.emit_json(rows)
        return
    render.emit_rows(rows, title="recipes")


@recipe_app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="NAME or NAME:VERSION.")],
) -> None:
    """A published version's steps (DataBrew JSON) and fitted state."""
    base, _, ver = name.partition(":")
    version = state(ctx).lake.recipes.get(base, int(ver) if ver else None)
    render.emit_json(
        {
            "name": version.name,
            "version": version.version,
            "fitted_on": version.fitted_on,
            "fitted_snapshot": version.fitted_snapshot,
            "steps": version.recipe.to_list(),
            "states": version.states,
        }
    )


def _preview_rows(table: Any, limit: int) -> list[dict[str, Any]]:
    return table.slice(0, limit).to_pylist()


@recipe_app.command("apply")
def apply(
    ctx: typer.Context,
    recipe: Annotated[str, typer.Argument(help="Published NAME[:VERSION] or a recipe file.")],
    source: Annotated[str, typer.Option("--from", help="DB.TABLE to read.")],
    into: Annotated[str | None, typer.Option("--into", help="DB.TABLE to write.")] = None,
    preview: Annotated[
        int | None, typer.Option(help="Show the effect on the first N rows; write nothing.")
    ] = None,
    engine: Engine = "duckdb",
    append: Annotated[bool, typer.Option(help="Append instead of replacing the rows.")] = False,
) -> None:
    """Run a recipe over a table snapshot and write a new snapshot of another table."""
    lake = state(ctx).lake
    if preview is not None:
        result = lake.recipes.preview(recipe, source, n=preview)
        if state(ctx).as_json:
            render.emit_json(
                {"before": result.before.to_pylist(), "after": result.after.to_pylist()}
            )
            return
        before, after = result.before, result.after
        changed = [
            c
            for c in after.column_names
            if c not in before.column_names
            or before.num_rows != after.num_rows
            or not before.column(c).equals(after.column(c))
        ]
        dropped = [c for c in before.column_names if c not in after.column_names]
        shown = [c for c in changed if c in before.column_names]
        render.emit_rows(
            _preview_rows(before.select(shown or before.column_names[:6]), preview),
            title=f"before ({before.num_rows} rows; changed columns)",
        )
        render.emit_rows(
            _preview_rows(after.select(changed or after.column_names[:6]), preview),
            title=f"after ({after.num_rows} rows; changed and new columns)",
        )
        if dropped:
            render.console.print("dropped columns: " + ", ".join(dropped))
        return
    if into is None:
        raise ConfigError("say where to write", fix="add --into DB.TABLE, or --preview N")
    with render.count_bar(f"recipe → {into}") as _:
        run = lake.recipes.apply(
            recipe, source=source, into=into, engine=engine,
            mode="append" if append else "overwrite",
        )  # fmt: skip
    assert not isinstance(run, pa.Table)
    info = {k: v for k, v in asdict(run).items() if k != "states"}
    if state(ctx).as_json:
        render.emit_json(info)
        return
    render.emit_rows([info], title="recipe job")


def _ratios(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise ConfigError(
                f"--ratios {text!r} is not NAME=RATIO,...",
                fix="e.g. --ratios train=0.8,validation=0.1,test=0.1",
            )
    return out


@app.command("split")
def split(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument(help="DB.TABLE to split.")],
    into: Annotated[str, typer.Option(help="Prefix of the output tables (PREFIX_train ...).")],
    ratios: Annotated[
        str, typer.Option(help="NAME=RATIO,... e.g. train=0.8,validation=0.1,test=0.1")
    ] = "train=0.8,validation=0.1,test=0.1",
    method: Annotated[str, typer.Option(help="random, ordered, stratified or grouped.")] = (
        "random"
    ),
    by: Annotated[str | None, typer.Option(help="Column to order, stratify or group by.")] = None,
    seed: Annotated[int, typer.Option(help="Seed: same seed and snapshot, same rows.")] = 0,
    recipe: Annotated[
        str | None, typer.Option(help="Apply this recipe (name or file) first.")
    ] = None,
    engine: Engine = "duckdb",
) -> None:
    """Split a table into train/validation/test tables, seeded and reproducible."""
    from lakebed.transform.jobs import SplitRun

    result = state(ctx).lake.recipes.split(
        table, _ratios(ratios), into=into, method=method, by=by, seed=seed,  # type: ignore[arg-type]
        recipe=recipe, engine=engine,
    )  # fmt: skip
    assert isinstance(result, SplitRun)
    rows = [
        {"split": name, "table": result.tables[name], "rows": result.rows[name]}
        for name in result.tables
    ]
    if state(ctx).as_json:
        render.emit_json(rows)
        return
    render.emit_rows(rows, title=f"split of {table} (seed {seed})")


@app.command("sample")
def sample(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument(help="DB.TABLE to sample.")],
    n: Annotated[int | None, typer.Option("-n", help="Number of rows.")] = None,
    fraction: Annotated[float | None, typer.Option(help="Share of rows, 0-1.")] = None,
    method: Annotated[str, typer.Option(help="first, random or stratified.")] = "random",
    by: Annotated[str | None, typer.Option(help="Column to stratify by.")] = None,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    into: Annotated[str | None, typer.Option(help="Write the sample to DB.TABLE.")] = None,
) -> None:
    """A seeded sample of a table: first K, random, or stratified by a column."""
    result = state(ctx).lake.recipes.sample(
        table, method=method, n=n, fraction=fraction, by=by, seed=seed, into=into,  # type: ignore[arg-type]
    )  # fmt: skip
    if not isinstance(result, pa.Table):
        info = {"into": into, "rows": result.rows_out}
        render.emit_json(info) if state(ctx).as_json else render.emit_rows([info])
        return
    rows = result.to_pylist()
    if state(ctx).as_json:
        render.emit_json(rows)
        return
    render.emit_rows(rows, title=f"sample of {table}")
