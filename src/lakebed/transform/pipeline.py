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
    deferred: Deferred | None = None
    """When steps after the last deleting one (:meth:`Operation.deletes`) all work row by
    row: the relation with the deleted rows still in, and the table of their ROW values.
    :func:`rows` streams that, leaving them out, faster than reading :attr:`relation`."""


@dataclass(frozen=True)
class Deferred:
    """Rows deleted by a table of their ROW values, not yet left out of ``relation``."""

    relation: str
    excluded: str
    in_order: bool


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
    deleted: _Deleted | None = None
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
        name = f"{prefix}_{bound.number}"
        try:
            if bound.op.learns and state is None:
                if not fit:
                    raise RecipeError(
                        f"{where}: this step learns from data but the recipe version has no "
                        "fitted state for it",
                        fix="publish the recipe again with fit_on=TABLE, or apply it unfitted",
                    )
                state = _fit(engine, bound, ctx, current if stacked else None, tracker, deleted)
            ctx.state = state
            sql, deletes = _render(bound, ctx)
            if deleted is not None and (deletes is not None or _reorders(bound, sql)):
                # the step compares rows: the deleted ones go first
                engine.create_view(f"{name}_in", _without(ctx.input, deleted.rows))
                if deleted.kept is not None:
                    engine.drop(deleted.kept)
                current, deleted, in_order = f"{name}_in", None, False
                ctx.input = quote(current)
                if tracker is not None:
                    tracker.rebase(current, schema)
                sql, deletes = _render(bound, ctx)
            if deletes is not None:  # the step's view keeps every row; see Operation.deletes
                later = [b for j, b in enumerate(recipe.bound) if j > i and fitted[j]]
                deleted = _delete(engine, name, deletes, ctx, later if tracker else [])
            engine.create_view(name, sql)
            if tracker is not None:
                if deletes is None:
                    tracker.step(bound, ctx, sql, name)
                else:  # the same values: fits read them from the copy of the rows kept
                    tracker.rebase(name, schema)
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
        if deletes is None and _reorders(bound, sql):
            in_order = False
            if any(fitted[i + 1 :]):
                current, in_order, stacked = engine.materialize(current), True, False
                if tracker is not None:
                    tracker.rebase(current, schema)
    done = tracker.steps if tracker is not None else []
    deferred = None
    if deleted is not None:
        if deleted.kept is not None:  # the fits are done: free its memory for the output
            engine.drop(deleted.kept)
        deferred = Deferred(current, deleted.rows, in_order)
        current, in_order = f"{prefix}_out", False
        engine.create_view(current, _without(quote(deferred.relation), deleted.rows))
    return Built(current, out_states, schemas, schema, in_order, done, deferred)


def rows(engine: Engine, built: Built) -> Iterator[pa.RecordBatch]:
    """The rows of a built recipe, in row order, without the row-order column."""
    if built.deferred is None:
        return engine.batches(built.relation, in_order=built.in_order)
    last = built.deferred
    return engine.batches(last.relation, in_order=last.in_order, exclude=last.excluded)


def _without(relation: str, deleted: str) -> str:
    """A SELECT of ``relation`` (quoted) without the rows whose ROW table ``deleted`` holds."""
    return f"SELECT * FROM {relation} WHERE {ROW} NOT IN (SELECT {ROW} FROM {quote(deleted)})"


@dataclass(frozen=True)
class _Deleted:
    """Rows an earlier step deleted, still in the views after it (see Operation.deletes)."""

    rows: str
    """A table of their ROW values."""
    view: str
    """The other rows of the deleting step's input (a view)."""
    kept: str | None = None
    """A copy of :attr:`view` with the columns later steps fit on (``columns``), but text."""
    columns: frozenset[str] = frozenset()


def _delete(engine: Engine, name: str, deletes: str, ctx: Ctx, later: list[BoundStep]) -> _Deleted:
    """Compute the rows step ``name`` deletes (the SELECT ``deletes`` over ``ctx.input``) and
    copy the columns the ``later`` steps fit on from the others: fits then read that copy
    instead of leaving the rows out again each time. Text columns are not copied: fits read
    them from the view of the kept rows, where a Parquet input's dictionary pages still make
    them cheap, while a copy of millions of strings is not."""
    engine.create_view(f"{name}_deletes", deletes)
    rows = engine.materialize(f"{name}_deletes", [], sort=True)
    view = f"{name}_kept"
    engine.create_view(view, _without(ctx.input, rows))
    named = [c for b in later for c in _named_columns(b, ctx.schema) if not ctx.is_string(c)]
    named = list(dict.fromkeys(named))
    if not named:
        return _Deleted(rows, view)
    kept = engine.materialize(view, named, sort=False)
    return _Deleted(rows, view, kept, frozenset(named))


def _render(bound: BoundStep, ctx: Ctx) -> tuple[str, str | None]:
    """A step's view and, for a step that deletes rows, the SELECT of those rows: its view
    then keeps every row (see :meth:`Operation.deletes`)."""
    deletes = bound.op.deletes(bound.params, ctx)
    if deletes is not None:
        return f"SELECT * FROM {ctx.input}", deletes
    return bound.op.sql(bound.params, ctx), None


def _fit(
    engine: Engine,
    bound: BoundStep,
    ctx: Ctx,
    stacked: str | None,
    tracker: Lookups | None,
    deleted: _Deleted | None,
) -> Any:
    """Fit ``bound`` on its input, without the rows an earlier step deleted. When that input
    is a stack of views (``stacked``), the fit reads just the columns the step names: from the
    base relation (or the copy of its kept rows) when the steps since left them alone or
    changed them by lookups (:meth:`Lookups.fit_view`), else from a copy made now.

    A fit filters and groups the columns it reads; pushed down through the views, a filter
    repeats each step's expression wherever the next step uses the column (exponentially in
    the depth), and every fit would recompute the chain. The copy computes it once, on the
    fit's first query. (Fits that depend on row order say ORDER BY; the copy keeps none.)"""
    whole, source = ctx, stacked
    if deleted is not None:
        source = f"fit_{bound.number}_kept"
        engine.create_view(source, _without(ctx.input, deleted.rows))
        whole = replace(ctx, input=quote(source))
    if source is None or not (columns := _named_columns(bound, ctx.schema)):
        return bound.op.fit(bound.params, whole)
    view = None
    if tracker is not None:
        if deleted is None:
            view = tracker.fit_view(columns)
        else:  # numbers from the copy of the kept rows, text from their view
            if deleted.kept is not None:
                view = tracker.fit_view(columns, base=deleted.kept, has=deleted.columns)
            view = view or tracker.fit_view(columns, base=deleted.view)
    table = f"fit_{bound.number}"
    copies: list[str] = []
    selected = ", ".join([ROW, *map(quote, columns)])
    engine.create_view(table, view or f"SELECT {selected} FROM {quote(source)}")

    def run(sql: str) -> pa.Table:
        if view is None and not copies:  # copied on the fit's first query (some run none)
            copies.append(engine.materialize(source, columns, sort=False))
            engine.create_view(table, f"SELECT * FROM {quote(copies[0])}")
        return engine.query(sql)

    try:
        return bound.op.fit(bound.params, replace(ctx, input=quote(table), run=run))
    except QueryError:  # the fit reads more columns than its parameters name: use them all
        return bound.op.fit(bound.params, whole)
    finally:
        for copy in copies:
            engine.drop(copy)


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
