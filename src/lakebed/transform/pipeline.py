"""Running a recipe on an engine: one view per step, fitting the steps that learn.

:func:`build` walks the bound steps in order. For each it renders the step's conditions as a
predicate, fits the operation when it learns and has no stored state, renders its SQL and makes
it a view. Any failure is reported as a :class:`~lakebed.transform.recipe.RecipeError` naming
the step number and operation, with the fix. :func:`check` runs the same build over an empty
relation with the input's schema, so a recipe that cannot run on that input is rejected before
any job starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError, QueryError
from lakebed.transform.conditions import predicate
from lakebed.transform.engines.base import Engine
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


def visible(schema: pa.Schema) -> pa.Schema:
    """``schema`` without the row-order column."""
    return pa.schema([f for f in schema if f.name != ROW])


def _check_columns(bound: BoundStep, schema: pa.Schema) -> None:
    for name, spec in bound.op.params.items():
        value = bound.params.get(name)
        if value is None:
            continue
        wanted = [value] if spec.kind == "column" else value if spec.kind == "columns" else []
        for col in wanted:
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
) -> Built:
    """Create one view per step of ``recipe`` over relation ``source`` on ``engine``.

    ``states`` are fitted states from a published version (reused as they are); without them,
    steps that learn are fitted on the data now (``fit=False`` makes that an error instead).
    """
    current = source
    out_states: list[Any] = []
    schemas: list[pa.Schema] = []
    pending: list[str] = []  # the SQL of the steps since the input was last materialised
    for i, bound in enumerate(recipe.bound):
        state = states[i] if states is not None and i < len(states) else None
        if bound.op.learns and state is None and fit and _worth_materializing(pending):
            current, pending = engine.materialize(current), []
        schema = visible(engine.schema(current))
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
                state = bound.op.fit(bound.params, ctx)
            ctx.state = state
            sql = bound.op.sql(bound.params, ctx)
            name = f"{prefix}_{bound.number}"
            engine.create_view(name, sql)
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
        current = name
        pending.append(sql)
        out_states.append(state)
        schemas.append(visible(after))
    return Built(current, out_states, schemas)


_HEAVY = (
    "OVER (", " JOIN ", "GROUP BY", "IN (SELECT", "DISTINCT", "REGEXP", "LIST_TRANSFORM",
    "STRING_SPLIT", "STRPTIME", "TO_TIMESTAMP", "UNNEST",
)  # fmt: skip


def _worth_materializing(pending: Sequence[str]) -> bool:
    """Whether to compute the steps since the last materialisation once before a fit queries
    them: when one of them aggregates, joins, numbers rows or does costly text work. Cheap
    steps are left as views; a fit reads only the columns it needs through them."""
    return any(word in sql.upper() for sql in pending for word in _HEAVY)


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
