"""Recipe jobs: read a table snapshot, run a recipe on an engine, write a new table snapshot.

Also previews (a recipe's effect on the first rows, before and after, nothing written),
seeded samples and train/validation/test splits. Each output snapshot records what made it in
its summary: the recipe and version, the source table and snapshot, the engine and the seed.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakebed.catalog.datafiles import encode_lanes
from lakebed.query.sources import local_path
from lakebed.transform.engines import make_engine
from lakebed.transform.engines.base import Engine
from lakebed.transform.ops.base import ROW, quote
from lakebed.transform.pipeline import INPUT, build, rows, visible
from lakebed.transform.recipe import Recipe
from lakebed.transform.sampling import (
    SPLIT_COLUMN,
    SampleMethod,
    SplitMethod,
    check_ratios,
    sample_sql,
    split_sql,
)

if TYPE_CHECKING:
    from lakebed.lake import Lake


@dataclass
class RecipeRun:
    """What a recipe job did."""

    source: str
    source_snapshot: int | None
    into: str | None
    snapshot_id: int | None
    rows_in: int
    rows_out: int
    seconds: float
    engine: str
    states: list[Any] = field(default_factory=list)


@dataclass
class Preview:
    """A recipe's effect on a sample: the rows before and after, nothing written."""

    before: pa.Table
    after: pa.Table


@dataclass
class SplitRun:
    """Rows per split and the table each went to."""

    tables: dict[str, str]
    rows: dict[str, int]
    source_snapshot: int | None
    seed: int


def load_input(
    lake: Lake,
    engine: Engine,
    source: str | pa.Table,
    snapshot_id: int | None = None,
    *,
    name: str = INPUT,
) -> tuple[int | None, int]:
    """Make ``source`` (a table name or Arrow data) relation ``name`` on ``engine``.

    A table's snapshot is read from its Parquet files directly when they are local and have no
    row deletes; otherwise through the catalog's scan. Returns (snapshot id, row count)."""
    if isinstance(source, pa.Table):
        engine.load_arrow(name, source)
        return None, source.num_rows
    table = lake._iceberg_table(source)
    plan = table.plan_files(snapshot_id=snapshot_id)
    paths = [local_path(f) for f in plan.files]
    if plan.has_deletes or any(p is None for p in paths):
        data = table.scan(snapshot_id=plan.snapshot_id)
        engine.load_arrow(name, data)
        return plan.snapshot_id, data.num_rows
    engine.load_files(name, [p for p in paths if p is not None], plan.schema)
    return plan.snapshot_id, plan.rows


def open_engine(lake: Lake, name: str, options: Mapping[str, Any] | None = None) -> Engine:
    """Engine ``name``; DuckDB takes the lake's ``query.memory_limit`` and ``query.threads``."""
    opts = dict(options or {})
    if name == "duckdb":
        opts.setdefault("memory_limit", lake.config.query.memory_limit)
        opts.setdefault("threads", lake.config.query.threads)
    return make_engine(name, **opts)


def secondary_loader(lake: Lake) -> Callable[[Engine, str], str]:
    """Loads another table of ``lake`` (a JOIN's or UNION's second input) into an engine."""
    loaded: dict[str, str] = {}

    def load(engine: Engine, ident: str) -> str:
        if ident not in loaded:
            loaded[ident] = f"secondary_{len(loaded) + 1}"
            load_input(lake, engine, ident, name=loaded[ident])
        return loaded[ident]

    return load


def _write(
    lake: Lake,
    into: str,
    schema: pa.Schema,
    batches: Iterator[pa.RecordBatch],
    *,
    mode: str,
    properties: Mapping[str, str],
) -> tuple[int | None, int]:
    counted = 0

    def counting() -> Iterator[pa.RecordBatch]:
        nonlocal counted
        for batch in batches:
            counted += batch.num_rows
            yield batch

    stream = counting()
    first = next(stream, None)
    if not lake.catalog.table_exists(into):
        lake.create_table(into, schema=schema)
    table = lake._iceberg_table(into)
    if first is None:  # no rows: an empty table stays as it is; a full one is emptied
        current = table.current_snapshot()
        if mode == "append" or current is None or table.stats().rows == 0:
            return (current.snapshot_id if current else None), 0
        return table.overwrite(schema.empty_table(), properties=properties).snapshot_id, 0
    # Writing Parquet is the job's other half, next to the engine's query: a lane per core.
    with table.begin_write(schema, lanes=encode_lanes(lake.config.query.threads)) as pending:
        pending.write(itertools.chain([first], stream))
        pending.commit(properties, overwrite=mode != "append")
    current = table.current_snapshot()  # the commit updated this table object
    return (current.snapshot_id if current else None), counted


def run_recipe(
    lake: Lake,
    recipe: Recipe,
    *,
    source: str | pa.Table,
    into: str | None = None,
    states: list[Any] | None = None,
    snapshot_id: int | None = None,
    engine: str = "duckdb",
    mode: str = "overwrite",
    label: str = "",
    engine_options: Mapping[str, Any] | None = None,
) -> tuple[RecipeRun, pa.Table | None]:
    """Run ``recipe`` over ``source``; write to ``into`` (or return the rows when None)."""
    started = time.monotonic()
    with open_engine(lake, engine, engine_options) as eng:
        snap, rows_in = load_input(lake, eng, source, snapshot_id)
        built = build(eng, recipe, states=states, secondary=secondary_loader(lake))
        out_schema = built.schema
        source_name = source if isinstance(source, str) else "arrow"
        result: pa.Table | None = None
        if into is None:
            result = pa.Table.from_batches(list(rows(eng, built)), schema=out_schema)
            new_snap, rows_out = None, result.num_rows
        else:
            props = {
                "lakebed.recipe": label or recipe.name or "unpublished",
                "lakebed.recipe.source": f"{source_name}@{snap}" if snap else source_name,
                "lakebed.recipe.engine": engine,
            }
            new_snap, rows_out = _write(
                lake,
                into,
                out_schema,
                rows(eng, built),
                mode=mode,
                properties=props,
            )
    run = RecipeRun(
        source=source_name,
        source_snapshot=snap,
        into=into,
        snapshot_id=new_snap,
        rows_in=rows_in,
        rows_out=rows_out,
        seconds=time.monotonic() - started,
        engine=engine,
        states=built.states,
    )
    return run, result


def preview(
    lake: Lake,
    recipe: Recipe,
    source: str | pa.Table,
    *,
    n: int = 20,
    states: list[Any] | None = None,
    snapshot_id: int | None = None,
) -> Preview:
    """The first ``n`` rows of ``source`` before and after ``recipe`` (nothing is written)."""
    with open_engine(lake, "duckdb") as eng:
        load_input(lake, eng, source, snapshot_id)
        cols = visible(eng.schema(INPUT)).names
        eng.create_view("head", sample_sql(INPUT, cols, method="first", n=n))
        before = eng.to_arrow("head")
        built = build(eng, recipe, "head", states=states, secondary=secondary_loader(lake))
        return Preview(before, eng.to_arrow(built.relation))


def sample(
    lake: Lake,
    source: str | pa.Table,
    *,
    method: SampleMethod = "random",
    n: int | None = None,
    fraction: float | None = None,
    by: str | None = None,
    seed: int = 0,
    recipe: Recipe | None = None,
    states: list[Any] | None = None,
    into: str | None = None,
    snapshot_id: int | None = None,
    engine: str = "duckdb",
) -> pa.Table | RecipeRun:
    """A seeded sample of ``source`` (after ``recipe`` when given); returned, or written to
    ``into`` (then the run is returned)."""
    with open_engine(lake, engine) as eng:
        snap, _ = load_input(lake, eng, source, snapshot_id)
        rel, cols = _built(lake, eng, recipe, states)
        sql = sample_sql(
            rel, cols, method=method, n=n, fraction=fraction, by=by, seed=seed,
            dialect=eng.dialect,
        )  # fmt: skip
        eng.create_view("sampled", sql)
        if into is None:
            return eng.to_arrow("sampled")
        props = {"lakebed.sample": f"{method} seed={seed}", "lakebed.sample.source": str(snap)}
        schema = visible(eng.schema("sampled"))
        new_snap, rows = _write(
            lake, into, schema, eng.batches("sampled"), mode="overwrite", properties=props
        )
        return RecipeRun(
            str(source) if isinstance(source, str) else "arrow", snap, into, new_snap,
            rows, rows, 0.0, engine,
        )  # fmt: skip


def split(
    lake: Lake,
    source: str | pa.Table,
    ratios: Mapping[str, float],
    *,
    into: str | Mapping[str, str] | None = None,
    method: SplitMethod = "random",
    by: str | None = None,
    seed: int = 0,
    recipe: Recipe | None = None,
    states: list[Any] | None = None,
    snapshot_id: int | None = None,
    engine: str = "duckdb",
) -> SplitRun | dict[str, pa.Table]:
    """Split ``source`` (after ``recipe`` when given) into named parts by ``ratios``.

    ``into`` is a table-name prefix (``db.orders`` gives ``db.orders_train`` ...) or a mapping
    of split name to table; without it the parts are returned as Arrow tables.
    """
    ratios = check_ratios(ratios)
    with open_engine(lake, engine) as eng:
        snap, _ = load_input(lake, eng, source, snapshot_id)
        rel, cols = _built(lake, eng, recipe, states)
        eng.create_view(
            "labelled",
            split_sql(rel, cols, ratios, method=method, by=by, seed=seed, dialect=eng.dialect),
        )
        select = ", ".join([quote(c) for c in cols] + [ROW])
        parts: dict[str, pa.Table] = {}
        tables: dict[str, str] = {}
        rows: dict[str, int] = {}
        for name in ratios:
            view = f"split_{len(rows)}"
            eng.create_view(
                view, f"SELECT {select} FROM labelled WHERE {SPLIT_COLUMN} = {_lit(name)}"
            )
            if into is None:
                parts[name] = eng.to_arrow(view)
                rows[name] = parts[name].num_rows
                continue
            target = into[name] if isinstance(into, Mapping) else f"{into}_{name}"
            props = {
                "lakebed.split": f"{name} of {dict(ratios)} {method} seed={seed}",
                "lakebed.split.source": f"{source if isinstance(source, str) else 'arrow'}@{snap}",
            }
            schema = visible(eng.schema(view))
            _, count = _write(lake, target, schema, eng.batches(view), mode="overwrite",
                              properties=props)  # fmt: skip
            tables[name], rows[name] = target, count
    if into is None:
        return parts
    return SplitRun(tables, rows, snap, seed)


def _built(
    lake: Lake, eng: Engine, recipe: Recipe | None, states: list[Any] | None
) -> tuple[str, list[str]]:
    """The relation after ``recipe`` (the input without one) and its visible columns."""
    if recipe is None:
        return INPUT, visible(eng.schema(INPUT)).names
    built = build(eng, recipe, states=states, secondary=secondary_loader(lake))
    return built.relation, built.schema.names


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
