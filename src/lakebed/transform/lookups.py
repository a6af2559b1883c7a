"""Costly text steps evaluated once per distinct value instead of once per row.

Categorical text columns (a city, a product name, a status) hold a few distinct values in
millions of rows, and recipes clean them with regular expressions and word-by-word lambdas
that cost microseconds per row. When a step changes columns as a function of one text column
alone, and that column holds at most :data:`LIMIT` distinct values, :class:`Lookups` runs the
step's own SQL over the distinct values (a relation of a few rows) and replaces the step's view
with a lookup of the results: a ``CASE`` tree of comparisons, which every engine runs, giving
the same values the step would, byte for byte.

The distinct values of a column are found once, on the base relation (the input, or the last
materialised copy), and carried forward: a lookup step's outputs are the mapped values, and a
step that passes a column through unchanged keeps its values. Any step this module cannot read
as a plain per-row SELECT (a filter, a join, a window, a SQL step) forgets them. Consecutive
lookups of one column compose into one, and fits read lookups through a join with a table of
the values.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import math
import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import pyarrow as pa

from lakebed.errors import ConfigError, QueryError
from lakebed.query.sources import duckdb_type, quote_str
from lakebed.transform.engines.base import Engine
from lakebed.transform.ops.base import ROW, Ctx, Native, quote
from lakebed.transform.recipe import BoundStep

LIMIT = 256
"""Most distinct values a column may hold for its steps to become lookups."""

SAMPLE = 65_536
"""Rows read first to rule out columns with many distinct values cheaply."""

_COSTLY = ("regexp", "split", "strptime", "levenshtein", "jaro", "damerau", "list_")
"""Function names (parts of) worth replacing by a lookup; any lambda is also costly."""

_VOLATILE = frozenset(
    {
        "random", "uuid", "gen_random_uuid", "uuidv4", "uuidv7", "now", "current_timestamp",
        "current_date", "current_time", "get_current_timestamp", "get_current_time", "today",
        "nextval", "currval", "setseed", "transaction_timestamp",
    }
)  # fmt: skip

_parser_lock = threading.Lock()
_maps = itertools.count()


@functools.cache
def _parser() -> duckdb.DuckDBPyConnection:
    """A connection of its own for parsing SQL (whatever the engine)."""
    return duckdb.connect(":memory:")


@dataclass(frozen=True)
class Shape:
    """A step's SELECT read as output columns over its input relation."""

    outputs: list[tuple[str, frozenset[str] | None]]
    """Each output column in order: the input columns it reads, or None for a pass-through."""
    costly: bool
    """Whether a changed column's expression uses a costly function or a lambda."""
    volatile: bool
    """Whether an expression calls a function that is not deterministic."""

    @property
    def kept(self) -> set[str]:
        """Columns passed through unchanged."""
        return {name for name, reads in self.outputs if reads is None}

    @property
    def changed(self) -> list[str]:
        """Columns the step computes, in order."""
        return [name for name, reads in self.outputs if reads is not None]

    def local(self) -> str | None:
        """The one input column every changed output reads (and nothing else), if any."""
        reads = {frozenset(r) for _, r in self.outputs if r is not None}
        if self.volatile or len(reads) != 1:
            return None
        (only,) = reads
        return next(iter(only)) if len(only) == 1 else None


def shape(sql: str, source: str) -> Shape | None:
    """``sql`` as a :class:`Shape` when it is a plain per-row SELECT over ``source`` (no
    joins, filters, grouping, windows, subqueries or stars); None otherwise."""
    if isinstance(sql, Native):
        return None
    with _parser_lock:
        try:
            text = _parser().sql(f"SELECT json_serialize_sql({quote_str(sql)})").fetchall()
        except duckdb.Error:
            return None
    tree = json.loads(text[0][0])
    if tree.get("error") or len(tree["statements"]) != 1:
        return None
    node = tree["statements"][0]["node"]
    source_table = node.get("from_table") or {}
    if (
        node.get("type") != "SELECT_NODE"
        or source_table.get("type") != "BASE_TABLE"
        or source_table.get("table_name") != source
        or source_table.get("alias")
        or node.get("where_clause")
        or node.get("group_expressions")
        or node.get("having")
        or node.get("qualify")
        or node.get("modifiers")
        or node.get("sample")
        or node.get("cte_map", {}).get("map")
    ):
        return None
    outputs: list[tuple[str, frozenset[str] | None]] = []
    costly = volatile = False
    for item in node["select_list"]:
        refs = _columns(item, frozenset())
        if refs is None:
            return None
        names = item.get("column_names", [])
        if item["class"] == "COLUMN_REF" and len(names) == 1 and item["alias"] in ("", names[0]):
            outputs.append((names[0], None))
            continue
        if not item["alias"]:
            return None
        functions = set(_functions(item))
        costly = costly or any(c in f for f in functions for c in _COSTLY) or "" in functions
        volatile = volatile or bool(functions & _VOLATILE)
        outputs.append((item["alias"], frozenset(refs)))
    return Shape(outputs, costly, volatile)


def _children(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        yield from node.values()
    elif isinstance(node, list):
        yield from node


def _columns(node: Any, bound: frozenset[str]) -> set[str] | None:
    """Input columns an expression reads (lambda parameters excluded, in their scope); None
    when it holds a subquery, a window, a star or a qualified reference."""
    if isinstance(node, dict):
        kind = node.get("class")
        if kind in ("SUBQUERY", "WINDOW", "STAR"):
            return None
        if kind == "COLUMN_REF":
            names = node["column_names"]
            if len(names) != 1:
                return None
            return set() if names[0] in bound else {names[0]}
        if kind == "LAMBDA":
            params = _columns(node["lhs"], frozenset())
            if params is None:
                return None
            return _columns(node["expr"], bound | params)
    found: set[str] = set()
    for child in _children(node):
        if isinstance(child, dict | list):
            reads = _columns(child, bound)
            if reads is None:
                return None
            found |= reads
    return found


def _functions(node: Any) -> Iterator[str]:
    """Function names called in an expression; a lambda counts as ``""``."""
    if isinstance(node, dict):
        if node.get("class") == "FUNCTION":
            yield str(node["function_name"]).lower()
        elif node.get("class") == "LAMBDA":
            yield ""
    for child in _children(node):
        if isinstance(child, dict | list):
            yield from _functions(child)


class Lookups:
    """Tracks the distinct values of text columns through a recipe's steps and turns costly
    steps over them into lookups (see the module's documentation)."""

    def __init__(self, engine: Engine, base: str, schema: pa.Schema) -> None:
        self._engine = engine
        self._lookups: dict[str, _Lookup] = {}
        self._wide: set[str] = set()
        self._last: _Rewritten | None = None
        self.steps: list[int] = []
        """Numbers of the steps turned into lookups."""
        self.rebase(base, schema)

    def rebase(self, base: str, schema: pa.Schema) -> None:
        """Steps now read ``base``, a copy of the current values: its columns are raw, and
        the values known of text columns still hold."""
        self._base = base
        self._last = None
        self._raw = set(schema.names)
        self._lookups = {
            c: _Lookup(c, {v: v for v in look.distinct()}, look.kind)
            for c, look in self._lookups.items()
            if _is_text(look.kind)
        }

    def fit_view(
        self, columns: list[str], base: str | None = None, has: Collection[str] | None = None
    ) -> str | None:
        """A SELECT of ``columns`` (and the row-order column) with their current values from
        the base relation, when each is unchanged since the base or a lookup of a base column:
        a fit reads it instead of a copy. None otherwise.

        A lookup is a join with a table of its values: the filters a fit puts on the column
        then run on that table, once per distinct value, not once per row. ``base`` reads
        another relation instead: a copy of some of the base's rows, holding the base
        columns ``has``."""
        items = [f"b.{ROW}"]
        joins: list[str] = []
        for column in columns:
            look = self._lookups.get(column)
            source = column if column in self._raw else look.source if look else None
            if source is None or (has is not None and source not in has):
                return None
            if column in self._raw:
                items.append(f"b.{quote(column)}")
                continue
            assert look is not None
            table, m = f"lookup_map_{next(_maps)}", f"m{len(joins)}"
            try:
                values = pa.array(list(look.values.values()), look.kind)
            except (pa.ArrowException, TypeError, ValueError):
                return None
            keys = pa.array(list(look.values), pa.string())
            self._engine.load_arrow(table, pa.table({"k": keys, "v": values}))
            joins.append(
                f"JOIN {quote(table)} AS {m} ON b.{quote(source)} IS NOT DISTINCT FROM {m}.k"
            )
            items.append(f"{m}.v AS {quote(column)}")
        return f"SELECT {', '.join(items)} FROM {quote(base or self._base)} AS b {' '.join(joins)}"

    def step(self, bound: BoundStep, ctx: Ctx, sql: str, view: str) -> None:
        """Account for step view ``view``, made from ``sql`` over ``ctx.input``; recreate it
        as a lookup when that pays. A query that fails here only forgets what is known."""
        try:
            self._step(bound, ctx, sql, view)
        except QueryError:
            self._raw, self._lookups, self._wide = set(), {}, set()

    def _step(self, bound: BoundStep, ctx: Ctx, sql: str, view: str) -> None:
        last, self._last = self._last, None
        form = shape(sql, ctx.input[1:-1].replace('""', '"'))
        if form is None:
            self._raw, self._lookups, self._wide = set(), {}, set()
            return
        column = form.local() or ""
        found: dict[str, _Lookup] = {}
        if column in ctx.schema.names and ctx.is_string(column):
            if form.costly:
                self._find(column)
            source = self._lookups.get(column)
            if source is not None and source.values:
                values = source.distinct()
                table = self._evaluate(bound, ctx, column, values, form, f"{view}_values")
                if table is not None:
                    follows = last is not None and last.follows(ctx.input, column, form.changed)
                    after = last if follows else None
                    if (form.costly or after) and self._rewrite(
                        view, sql, ctx, column, values, table, form, after
                    ):
                        self.steps.append(bound.number)
                    found = source.then(values, table)
        kept = form.kept
        self._raw &= kept
        self._wide &= kept
        self._lookups = {c: look for c, look in self._lookups.items() if c in kept} | found

    def _find(self, column: str) -> None:
        """Find the distinct values of raw ``column`` on the base relation, when it holds at
        most :data:`LIMIT`; else mark it wide."""
        if column in self._lookups or column not in self._raw or column in self._wide:
            return
        c, base = quote(column), quote(self._base)
        run = self._engine.query
        head = run(f"SELECT count(DISTINCT {c}) AS n FROM (SELECT {c} FROM {base} LIMIT {SAMPLE})")
        if head.column(0)[0].as_py() <= LIMIT:
            whole = run(f"SELECT approx_count_distinct({c}) AS n FROM {base}")
            if whole.column(0)[0].as_py() <= 2 * LIMIT:
                found = run(f"SELECT DISTINCT {c} AS v FROM {base}")
                if found.num_rows <= LIMIT:
                    values = {v: v for v in found.column(0).to_pylist()}
                    self._lookups[column] = _Lookup(column, values, found.schema.field(0).type)
                    return
        self._wide.add(column)

    def _evaluate(
        self, bound: BoundStep, ctx: Ctx, column: str, values: list[Any], form: Shape, name: str
    ) -> pa.Table | None:
        """The step's changed columns for each of ``values`` (a row each, in order), computed
        over relation ``name`` holding them."""
        schema = ctx.schema
        arrays = [
            pa.array(values, f.type) if f.name == column else pa.nulls(len(values), f.type)
            for f in schema
        ]
        self._engine.load_arrow(name, pa.Table.from_arrays(arrays, schema=schema))
        try:
            sql = bound.op.sql(bound.params, replace(ctx, input=quote(name)))
            if isinstance(sql, Native):
                return None
            cols = ", ".join(quote(n) for n in form.changed)
            table = self._engine.query(f"SELECT {ROW}, {cols} FROM ({sql}) ORDER BY {ROW}")
        except (QueryError, ConfigError):  # then the step stays as it is
            return None
        if table.column(ROW).to_pylist() != list(range(len(values))):
            return None
        return table.drop_columns([ROW])

    def _rewrite(
        self,
        view: str,
        sql: str,
        ctx: Ctx,
        column: str,
        values: list[Any],
        table: pa.Table,
        form: Shape,
        after: _Rewritten | None,
    ) -> bool:
        """Recreate ``view`` with its changed columns as lookups of ``column``; keep the
        step's own view (and return False) when a value cannot be written as a literal or the
        types differ.

        ``after`` is the step before when it is a lookup of ``column`` alone and this step
        changes only ``column``: that step then passes its input through, and this one looks
        its values up through both. A chain of cleaning steps on a column costs one lookup
        per row, however long; each step after the first, costly or not, is free."""
        maps = {
            n: dict(zip(values, table.column(n).to_pylist(), strict=True)) for n in form.changed
        }
        if after is not None:
            maps[column] = {u: maps[column][v] for u, v in after.mapping.items()}
        items = [quote(name) for name, _ in form.outputs]
        for i, name in enumerate(n for n, _ in form.outputs):
            if name in maps:
                case = _Lookup(column, maps[name], table.schema.field(name).type).sql()
                if case is None:
                    return False
                items[i] = f"{case} AS {quote(name)}"
        lookup = f"SELECT {', '.join(items)} FROM {ctx.input}"
        original = self._engine.schema(view)
        if after is not None and not self._pass(after):
            return False
        self._engine.create_view(view, lookup)
        if self._engine.schema(view) == original:
            if form.changed == [column]:
                self._last = _Rewritten(view, lookup, ctx.input, column, maps[column])
            return True
        self._engine.create_view(view, sql)  # not expected: keep the step's own SQL
        if after is not None:
            self._engine.create_view(after.view, after.sql)
        return False

    def _pass(self, step: _Rewritten) -> bool:
        """Make lookup ``step`` pass its input through; False (and as it was) if that changes
        its columns' types."""
        before = self._engine.schema(step.view)
        self._engine.create_view(step.view, f"SELECT * FROM {step.input}")
        if self._engine.schema(step.view) == before:
            return True
        self._engine.create_view(step.view, step.sql)
        return False


@dataclass(frozen=True)
class _Rewritten:
    """A step's view made a lookup of one text column (``mapping`` of its input's values)."""

    view: str
    sql: str
    input: str
    column: str
    mapping: dict[Any, Any]

    def follows(self, relation: str, column: str, changed: list[str]) -> bool:
        """Whether a step reading ``relation`` that changes ``changed`` from ``column`` is
        the next lookup of this one's column (see :meth:`Lookups._rewrite`)."""
        return relation == quote(self.view) and changed == [column] and column == self.column


@dataclass(frozen=True)
class _Lookup:
    """A column's values as a function of a text column of the base relation: ``values[v]``
    where ``source`` holds ``v``."""

    source: str
    values: dict[Any, Any]
    kind: pa.DataType

    def distinct(self) -> list[Any]:
        """The column's distinct values."""
        return list(dict.fromkeys(self.values.values()))

    def then(self, values: list[Any], table: pa.Table) -> dict[str, _Lookup]:
        """The columns of ``table`` (a step's outputs, a row for each of ``values`` of this
        column) as lookups of this column's source."""
        out = {}
        for name in table.column_names:
            step = dict(zip(values, table.column(name).to_pylist(), strict=True))
            mapping = {k: step[v] for k, v in self.values.items()}
            out[name] = _Lookup(self.source, mapping, table.schema.field(name).type)
        return out

    def sql(self) -> str | None:
        """The lookup as SQL (typed), or None when a value has no exact literal."""
        pairs = {k: _literal(v, self.kind) for k, v in self.values.items()}
        typed = {k: v for k, v in pairs.items() if v is not None}
        if len(typed) < len(pairs):
            return None
        return f"CAST({_case(quote(self.source), typed)} AS {duckdb_type(self.kind)})"


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _literal(value: Any, kind: pa.DataType) -> str | None:
    """``value`` of Arrow type ``kind`` as an exact SQL literal, or None when not supported."""
    if value is None:
        return "NULL"
    if _is_text(kind):
        return quote_str(value)
    if pa.types.is_boolean(kind):
        return "TRUE" if value else "FALSE"
    if pa.types.is_integer(kind):
        return str(int(value))
    if pa.types.is_floating(kind):
        if math.isnan(value) or math.isinf(value):
            return f"CAST('{value}' AS DOUBLE)"
        return repr(float(value))
    if pa.types.is_date32(kind) and isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return None


def _case(column: str, pairs: dict[Any, str], flat: int = 8) -> str:
    """A CASE expression giving ``pairs[value]`` for ``column``'s value: a binary search over
    the sorted keys (byte order, as engines compare text), ending in short WHEN lists."""
    null = pairs.get(None)
    keys = sorted(k for k in pairs if k is not None)

    def tree(part: list[str]) -> str:
        if len(part) <= flat:
            whens = " ".join(f"WHEN {column} = {quote_str(k)} THEN {pairs[k]}" for k in part)
            return f"CASE {whens} END"
        mid = len(part) // 2
        return (
            f"CASE WHEN {column} < {quote_str(part[mid])} THEN {tree(part[:mid])} "
            f"ELSE {tree(part[mid:])} END"
        )

    body = tree(keys) if keys else "NULL"
    return f"CASE WHEN {column} IS NULL THEN {null or 'NULL'} ELSE {body} END"
