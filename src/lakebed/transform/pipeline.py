"""Running a recipe on an engine: one view per step, fitting the steps that learn.

:func:`build` walks the bound steps in order. For each it renders the step's conditions as a
predicate, fits the operation when it learns and has no stored state, renders its SQL and makes
it a view. Any failure is reported as a :class:`~lakebed.transform.recipe.RecipeError` naming
the step number and operation, with the fix. :func:`check` runs the same build over an empty
relation with the input's schema, so a recipe that cannot run on that input is rejected before
any job starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError, QueryError
from lakebed.transform.conditions import predicate
from lakebed.transform.engines.base import Engine
from lakebed.transform.lookups import Lookups
from lakebed.transform.ops.base import ROW, Ctx, quote
from lakebed.transform.recipe import BoundStep, Recipe, RecipeError

INPUT = "input"

Secondary = Callable[[Engine, str], str]
"""Loads another lake table (a JOIN's or UNION's second input) into an engine; returns the
relation name."""


@dataclass
class Built:
    """The result of building a recipe on an engine."""

    relation: str
    """The name of the last step's relation."""
    states: list[Any]
    """Each step's fitted state (None for steps that do not learn)."""
    schemas: list[pa.Schema]
    """The visible schema after each step."""
    schema: pa.Schema
    """The visible schema of the last relation (the input's when there are no steps)."""
    in_order: bool = False
    """True when the engine yields the last relation in row order without sorting it."""
    lookups: list[int] = field(default_factory=list)
    """Numbers of the steps run once per distinct value (:mod:`~lakebed.transform.lookups`)."""


def visible(schema: pa.Schema) -> pa.Schema:
    """``schema`` without the row-order column."""
    return pa.schema([f for f in schema if f.name != ROW])


def _param_columns(bound: BoundStep) -> Iterator[tuple[str, str]]:
    """(parameter, column) for every input column a step's parameters name."""
    for key, spec in bound.op.params.items():
        value = bound.params.get(key)
        if value is not None and spec.kind in ("column", "columns"):
            yield from ((key, c) for c in ([value] if spec.kind == "column" else value))


def _check_columns(bound: BoundStep, schema: pa.Schema) -> None:
    for name, col in _param_columns(bound):
        if col not in schema.names:
            raise RecipeError(
                f"{bound.where}: parameter {name} names column {col!r}, which the input "
                "to this step does not have",
                fix="use one of: " + ", ".join(schema.names),
            )


def build(
    engine: Engine,
    recipe: Recipe,
    source: str = INPUT,
    *,
    states: Sequence[Any] | None = None,
    fit: bool = True,
    prefix: str = "step",
    secondary: Secondary | None = None,
    lookups: bool = True,
) -> Built:
    """Create one view per step of ``recipe`` over relation ``source`` on ``engine``.

    ``states`` are fitted states from a published version (reused as they are); without them,
    steps that learn are fitted on the data now (``fit=False`` makes that an error instead).
    With ``lookups``, costly steps over text columns with few distinct values run once per
    value (:mod:`~lakebed.transform.lookups`).
    """
    current = source
    schema = visible(engine.schema(source))
    out_states: list[Any] = []
    schemas: list[pa.Schema] = []
    in_order = True  # the input relations keep row order; joins, groups and windows do not
    stacked = False  # steps are stacked on the last table (fits get a narrow copy of theirs)
    given = list(states or [])[: len(recipe.bound)]
    given += [None] * (len(recipe.bound) - len(given))
    fitted = [b.op.learns and fit and given[i] is None for i, b in enumerate(recipe.bound)]
    tracker = Lookups(engine, source, schema) if lookups else None
    for i, bound in enumerate(recipe.bound):
        state = given[i]
        _check_columns(bound, schema)
        where = bound.where
        try:
            bound.op.check(bound.params, schema)
            condition = predicate(bound.step.conditions, schema, where)
        except RecipeError:
            raise
        except ConfigError as exc:
            raise RecipeError(f"{where}: {exc.message}", fix=exc.fix) from None
        ctx = Ctx(
            input=quote(current),
            schema=schema,
            dialect=engine.dialect,
            condition=condition,
            run=engine.query,
            extra={"secondary": (lambda ident: secondary(engine, ident)) if secondary else None},
        )
        try:
            if bound.op.learns and state is None:
                if not fit:
                    raise RecipeError(
                        f"{where}: this step learns from data but the recipe version has no "
                        "fitted state for it",
                        fix="publish the recipe again with fit_on=TABLE, or apply it unfitted",
                    )
                state = _fit(engine, bound, ctx, current if stacked else None, in_order, tracker)
            ctx.state = state
            sql = bound.op.sql(bound.params, ctx)
            name = f"{prefix}_{bound.number}"
            engine.create_view(name, sql)
            if tracker is not None:
                tracker.step(bound, ctx, sql, name)
        except RecipeError:
            raise
        except (ConfigError, QueryError) as exc:
            raise RecipeError(f"{where}: {exc.message}", fix=exc.fix or _fix(bound)) from exc
        after = engine.schema(name)
        if ROW not in after.names:
            raise RecipeError(
                f"{where}: the step's SQL dropped the row-order column {ROW}",
                fix=f"keep {ROW} in the SELECT list (SELECT *, or ctx.project(...))",
            )
        current, stacked, schema = name, True, visible(after)
        out_states.append(state)
        schemas.append(schema)
        if _reorders(bound, sql):
            in_order = False
            if any(fitted[i + 1 :]):
                current, in_order, stacked = engine.materialize(current), True, False
                if tracker is not None:
                    tracker.rebase(current, schema)
    done = tracker.steps if tracker is not None else []
    return Built(current, out_states, schemas, schema, in_order, done)


def _fit(
    engine: Engine,
    bound: BoundStep,
    ctx: Ctx,
    stacked: str | None,
    in_order: bool,
    tracker: Lookups | None,
) -> Any:
    """Fit ``bound`` on its input; when that is a stack of views (``stacked``), on just the
    columns the step names: read from the base relation when the steps since left them alone
    or changed them by lookups (:meth:`Lookups.fit_view`), else from a copy.

    A fit filters and groups the columns it reads; pushed down through the views, a filter
    repeats each step's expression wherever the next step uses the column (exponentially in
    the depth), and every fit would recompute the chain. The copy computes it once."""
    if stacked is None or not (columns := _named_columns(bound, ctx.schema)):
        return bound.op.fit(bound.params, ctx)
    view = tracker.fit_view(columns) if tracker is not None else None
    if view is None:
        table = engine.materialize(stacked, columns, sort=not in_order)
    else:
        table = f"{stacked}_fit"
        engine.create_view(table, view)
    try:
        return bound.op.fit(bound.params, replace(ctx, input=quote(table)))
    except QueryError:  # the fit reads more columns than its parameters name: use them all
        return bound.op.fit(bound.params, ctx)
    finally:
        if view is None:
            engine.drop(table)


def _named_columns(bound: BoundStep, schema: pa.Schema) -> list[str]:
    """The input columns a step names in its parameters and conditions."""
    named = [c.target_column for c in bound.step.conditions]
    named += [c for _, c in _param_columns(bound)]
    return [c for c in dict.fromkeys(named) if c in schema.names]


_REORDERING = (
    " JOIN ", "GROUP BY", "(SELECT", "EXISTS", "DISTINCT", "OVER (", "UNNEST", "UNION",
    "INTERSECT", "EXCEPT", "PIVOT", "QUALIFY", "ORDER BY", "SAMPLE", "LIMIT",
)  # fmt: skip


def _reorders(bound: BoundStep, sql: str) -> bool:
    """Whether a step's SQL may change the order of rows (joins, aggregates, windows, unions,
    sorts): then the output is sorted by the row-order column at the end.

    Such steps are also the ones every later fit would re-run in full (a fit reads only the
    columns it needs through plain per-row steps), so their result is materialised, in row
    order, when a later step learns."""
    text = sql.upper()
    return not bound.op.keeps_order or any(word in text for word in _REORDERING)


def _fix(bound: BoundStep) -> str:
    params = ", ".join(f"{k} ({v.kind})" for k, v in bound.op.params.items())
    return f"check the step's parameters against the input's columns and types: {params}"


def check(
    recipe: Recipe,
    schema: pa.Schema,
    schemas_of: Callable[[str], pa.Schema] | None = None,
) -> list[pa.Schema]:
    """Check that ``recipe`` can run on data with ``schema``; the schema after each step.

    ``schemas_of`` gives the schema of another table a step reads (JOIN, UNION). Raises
    :class:`RecipeError` naming the first step that cannot run, and why.
    """
    from lakebed.transform.engines.duckdb import DuckDBEngine

    def empty(engine: Engine, ident: str) -> str:
        if schemas_of is None:
            raise ConfigError(
                f"cannot check a step reading table {ident} without a lake",
                fix="check the recipe with lake.recipes.check(recipe, table)",
            )
        name = f"secondary_{abs(hash(ident))}"
        engine.load_arrow(name, visible(schemas_of(ident)).empty_table())
        return name

    with DuckDBEngine(threads=1) as engine:
        engine.load_arrow(INPUT, visible(schema).empty_table())
        return build(engine, recipe, secondary=empty).schemas
