"""What an operation is: a named, parameterised step that turns one relation into another.

Every operation renders one SQL ``SELECT`` over the previous step (``ctx.input``), written in
DuckDB's dialect; an engine runs it as is (DuckDB) or transpiled with sqlglot (Spark). An
operation that must say something sqlglot cannot translate returns :class:`Native` SQL for the
engine's dialect (``ctx.dialect``). Operations that learn from data (means, vocabularies,
scaling factors) compute their state in :meth:`Operation.fit` with aggregate queries; the state
is stored with the recipe version and reused verbatim when the recipe is applied to new data.

Rows keep a hidden, engine-independent order column (:data:`ROW`): the position of the row in
the input (file index and row index within the file). Order-dependent operations (previous /
next value, rolling windows, fill with last valid) order by it, and seeded randomness
(:meth:`Ctx.rand`) hashes it, so DuckDB and Spark pick the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.query.sources import quote_ident as quote

ROW = "__lb_row"
"""The hidden row-order column every relation in a recipe carries."""

ParamKind = Literal[
    "column", "columns", "new_column", "str", "int", "float", "bool", "json", "choice", "value"
]


class Native(str):
    """SQL already written in the engine's dialect: the engine runs it without transpiling."""


@dataclass(frozen=True)
class Param:
    """One parameter of an operation, as DataBrew names it.

    ``kind`` says how the (string) value is parsed and checked: ``column`` must name an input
    column, ``columns`` is a JSON list (or a list) of them, ``new_column`` names a column the step
    creates, ``choice`` is one of ``choices`` (case-insensitive), ``value`` is a literal kept as
    given, ``json`` is parsed JSON.
    """

    kind: ParamKind
    required: bool = True
    default: Any = None
    choices: tuple[str, ...] = ()
    doc: str = ""


def parse_param(name: str, spec: Param, raw: Any, op: str) -> Any:
    """The value of parameter ``name`` parsed per ``spec``; ConfigError when it does not fit."""

    def bad(expected: str) -> ConfigError:
        return ConfigError(
            f"{op}: parameter {name!r} must be {expected}, got {raw!r}",
            fix=f"give {name} as {expected}",
        )

    kind = spec.kind
    if kind in ("column", "new_column", "str"):
        if not isinstance(raw, str) or (kind != "str" and not raw):
            raise bad("a non-empty string" if kind != "str" else "a string")
        return raw
    if kind == "value":
        return raw if isinstance(raw, str) else json.dumps(raw) if raw is not None else raw
    if kind == "columns":
        value = raw
        if isinstance(raw, str):
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                value = [c.strip() for c in raw.split(",") if c.strip()]
        if not isinstance(value, list) or not value or not all(isinstance(c, str) for c in value):
            raise bad('a JSON list of column names, e.g. ["a", "b"]')
        return value
    if kind == "int":
        if isinstance(raw, bool):
            raise bad("an integer")
        try:
            return int(str(raw).strip())
        except ValueError:
            raise bad("an integer") from None
    if kind == "float":
        if isinstance(raw, bool):
            raise bad("a number")
        try:
            return float(str(raw).strip())
        except ValueError:
            raise bad("a number") from None
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "false"):
            return text == "true"
        raise bad("true or false")
    if kind == "json":
        if isinstance(raw, str):
            try:
                return json.loads(raw)
            except json.JSONDecodeError as exc:
                raise bad(f"JSON ({exc.msg})") from None
        return raw
    if kind == "choice":
        for choice in spec.choices:
            if str(raw).strip().upper() == choice.upper():
                return choice
        raise bad("one of " + ", ".join(spec.choices))
    raise AssertionError(kind)


def literal(value: Any) -> str:
    """A Python value as a SQL literal (strings, numbers, booleans, None)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def blank(text: str) -> str:
    """Predicate: SQL text ``text`` is empty or only spaces (``trim`` leaves nothing); NULL
    gives FALSE. ``trim`` runs only where the first character could be one it removes (below
    ``'!'`` or past ``'~'`` in byte order), so most values cost a comparison or two."""
    return f"CASE WHEN {text} < '!' OR {text} > '~' THEN trim({text}) = '' ELSE FALSE END"


NUMERIC = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)


@dataclass
class Ctx:
    """What an operation sees while rendering its SQL."""

    input: str
    """The relation to select from (the previous step), already quoted."""
    schema: pa.Schema
    """The input's visible columns (without :data:`ROW`)."""
    dialect: str = "duckdb"
    state: Any = None
    """What :meth:`Operation.fit` returned (stored with the recipe version)."""
    condition: str | None = None
    """The step's conditions as one SQL predicate, or None."""
    run: Callable[[str], pa.Table] | None = None
    """Runs a (small) query on the engine; for :meth:`Operation.fit`."""
    extra: dict[str, Any] = field(default_factory=dict)

    # -- schema helpers ------------------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    def type_of(self, name: str) -> pa.DataType:
        return self.schema.field(name).type

    def is_numeric(self, name: str) -> bool:
        return any(test(self.type_of(name)) for test in NUMERIC)

    def is_string(self, name: str) -> bool:
        t = self.type_of(name)
        return pa.types.is_string(t) or pa.types.is_large_string(t)

    def is_temporal(self, name: str) -> bool:
        return pa.types.is_temporal(self.type_of(name))

    # -- SQL helpers -----------------------------------------------------------------------------
    q = staticmethod(quote)
    lit = staticmethod(literal)

    def query(self, sql: str) -> pa.Table:
        """Run an aggregate query (DuckDB dialect) during fitting."""
        if self.run is None:
            raise RuntimeError("query() is only available while fitting")
        return self.run(sql)

    def guarded(self, expr: str, otherwise: str) -> str:
        """``expr`` where the step's condition holds, ``otherwise`` elsewhere."""
        if self.condition is None:
            return expr
        return f"CASE WHEN {self.condition} THEN {expr} ELSE {otherwise} END"

    def project(
        self,
        replace: Mapping[str, str] | None = None,
        add: Sequence[tuple[str, str, str | None]] = (),
        drop: Sequence[str] = (),
        order: Sequence[str] | None = None,
        guard: bool = True,
    ) -> str:
        """A SELECT keeping every column, with some replaced, added or dropped.

        ``replace`` maps a column to its new expression; ``add`` lists ``(name, expr, after)``
        (after that column, or at the end when None; an existing column of that name is
        replaced in place); ``order`` gives the final column order. With ``guard`` (the
        default) the step's condition applies: replaced columns keep their old value and added
        ones are NULL where it does not hold.
        """
        replace = dict(replace or {})
        exprs: dict[str, str] = {c: quote(c) for c in self.columns}
        names = list(self.columns)
        for col, expr in replace.items():
            exprs[col] = self.guarded(expr, quote(col)) if guard else expr
        last_added: dict[str, str] = {}  # several columns added after one keep their order
        for name, expr, after in add:
            value = self.guarded(expr, "NULL") if guard else expr
            if name in exprs:
                exprs[name] = value
                continue
            exprs[name] = value
            if after is None or after not in names:
                names.append(name)
            else:
                anchor = last_added.get(after, after)
                names.insert(names.index(anchor) + 1, name)
                last_added[after] = name
        for col in drop:
            if col in exprs:
                del exprs[col]
                names.remove(col)
        if order is not None:
            names = list(order)
        select = ", ".join(
            quote(n) if exprs[n] == quote(n) else f"{exprs[n]} AS {quote(n)}" for n in names
        )
        return f"SELECT {select}, {ROW} FROM {self.input}"

    def where(self, predicate: str) -> str:
        """A SELECT of every row where ``predicate`` holds (NULL counts as false)."""
        return f"SELECT * FROM {self.input} WHERE {predicate}"

    def without(self, rows: str) -> str:
        """A SELECT of every row but those whose :data:`ROW` the SELECT ``rows`` gives."""
        return f"SELECT * FROM {self.input} WHERE {ROW} NOT IN ({rows})"

    def rand(self, seed: int, salt: str = "") -> str:
        """A uniform value in [0, 1) per row, from the row's position and ``seed``.

        The same on every engine (an MD5 of the seed and row position), so a seeded sample or
        split picks the same rows on DuckDB and Spark.
        """
        key = f"concat({literal(f'{seed}:{salt}:')}, CAST({ROW} AS VARCHAR))"
        return uniform(key, self.dialect)


def uniform(text_sql: str, dialect: str) -> str:
    """A value in [0, 1) hashed from the SQL string expression ``text_sql``, equal on every
    engine (the first 52 bits of its MD5)."""
    digits = f"substr(md5({text_sql}), 1, 13)"
    # DOUBLE before dividing: Spark would divide an integer by the literal as a rounded DECIMAL.
    if dialect == "spark":  # conv() passes through sqlglot's translation untouched
        return f"(CAST(CAST(conv({digits}, 16, 10) AS BIGINT) AS DOUBLE) / 4503599627370496.0)"
    return f"(CAST(('0x' || {digits})::BIGINT AS DOUBLE) / 4503599627370496.0)"


class Operation:
    """One recipe operation. Subclasses set the class attributes and implement :meth:`sql`."""

    name: ClassVar[str]
    category: ClassVar[str]
    doc: ClassVar[str] = ""
    params: ClassVar[Mapping[str, Param]] = {}
    learns: ClassVar[bool] = False
    """True when :meth:`fit` computes state from the data (stored with the recipe version)."""
    conditions: ClassVar[bool] = True
    """False when the operation does not accept ``ConditionExpressions``."""
    keeps_order: ClassVar[bool] = True
    """False when the step's SQL may reorder rows in ways its text does not show (user SQL);
    joins, aggregates, windows and sorts are recognised in the SQL itself."""
    databrew: ClassVar[bool] = True
    """True when DataBrew has this operation under this name with these parameters."""
    examples: ClassVar[Sequence[Mapping[str, Any]]] = ()
    """Steps on :func:`lakebed.transform.sample.sample_table`: ``{"parameters": {...}}`` plus
    optional ``"conditions"``. Shown by ``lakebed recipe list-operations`` and run on every
    engine by the parity suite, so every operation needs at least one."""

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        """Extra checks of parsed parameters against the input schema (types, ranges); raise
        ConfigError naming the parameter and the fix. Column existence is checked for you."""

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        """Learn state from the input (run aggregate queries with ``ctx.query``); JSON-able."""
        return None

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        """The SELECT that produces this step's output from ``ctx.input``."""
        raise NotImplementedError

    def deletes(self, p: Mapping[str, Any], ctx: Ctx) -> str | None:
        """For a step that only deletes rows, chosen by comparing them with other rows
        (duplicates): a SELECT of the :data:`ROW` values of the rows it deletes, such that
        :meth:`sql` is ``ctx.without(deletes)``. None for other steps.

        The pipeline computes it once into a table (small, usually) and leaves those rows out
        where it matters (fits, a step that is not per row, the output), instead of joining
        every row of every later step against it."""
        return None
