"""Math functions (DataBrew's MATH category): arithmetic, rounding, logarithms, random numbers.

Each writes a new ``targetColumn``. An operand is a column (``sourceColumn``,
``sourceColumn1``/``sourceColumn2``) or a constant (``value``, ``value1``/``value2``), as in
DataBrew. Operands are read as numbers: text that is not a number, dates and other values count
as missing, and the result is NULL. Results are DOUBLE (IS_EVEN / IS_ODD: booleans, or the
given strings; RANDOM_BETWEEN with whole bounds: integers). Where the engines' math differs at
the edges the operation pins it down: division or modulo by zero, logarithms of numbers <= 0
and square roots of negative numbers give NULL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._common import one_of
from lakebed.transform.ops.base import Ctx, Operation, Param, literal, quote

CATEGORY = "math"
NULL_DOUBLE = "CAST(NULL AS DOUBLE)"


def as_number(ctx: Ctx, column: str) -> str:
    """Column ``column`` as a DOUBLE: numbers as they are, text parsed (NULL when it is not a
    number), anything else NULL."""
    t = ctx.type_of(column)
    col = quote(column)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return f"CAST({col} AS DOUBLE)"
    if pa.types.is_boolean(t):
        return f"CAST(CAST({col} AS INTEGER) AS DOUBLE)"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return f"TRY_CAST(trim({col}) AS DOUBLE)"
    return NULL_DOUBLE


def constant(raw: Any, name: str, op: str) -> str:
    """A constant operand as a DOUBLE literal; ConfigError when it is not a number."""
    try:
        number = float(str(raw).strip())
    except ValueError:
        raise ConfigError(
            f"{op}: parameter {name!r} must be a number, got {raw!r}",
            fix=f'give {name} as a number, e.g. "2.5"',
        ) from None
    return f"CAST({number!r} AS DOUBLE)"


def operand(p: Mapping[str, Any], ctx: Ctx, column: str, value: str, op: str) -> str:
    """The operand given by parameter ``column`` (a column) or ``value`` (a constant)."""
    if p.get(column) is not None:
        return as_number(ctx, p[column])
    return constant(p[value], value, op)


TARGET = Param("new_column", doc="the new column")


class Unary(Operation):
    """A function of one number (a column or a value) into ``targetColumn``."""

    category = CATEGORY
    params = {
        "sourceColumn": Param("column", required=False, doc="the column to read"),
        "value": Param("value", required=False, doc="a number, instead of sourceColumn"),
        "targetColumn": TARGET,
    }
    template = "{0}"

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        one_of(p, "sourceColumn", "value", self.name, "a number")
        if p.get("value") is not None:
            constant(p["value"], "value", self.name)

    def expression(self, x: str, p: Mapping[str, Any]) -> str:
        return self.template.format(x)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        x = operand(p, ctx, "sourceColumn", "value", self.name)
        after = p.get("sourceColumn")
        return ctx.project(add=[(p["targetColumn"], self.expression(x, p), after)])


def _unary(name: str, doc: str, template: str, example: str = "price") -> type[Operation]:
    cls = type(
        name.title().replace("_", ""),
        (Unary,),
        {
            "name": name,
            "doc": doc,
            "template": template,
            "examples": (
                {"parameters": {"sourceColumn": example, "targetColumn": f"{example}_{name}"}},
            ),
            "__doc__": doc,
        },
    )
    return register(cls)


_unary("ABSOLUTE", "The absolute value of a number.", "abs({0})")
_unary("CEILING", "The smallest whole number not below the number.", "CAST(ceil({0}) AS DOUBLE)")
_unary("FLOOR", "The largest whole number not above the number.", "CAST(floor({0}) AS DOUBLE)")
_unary("DEGREES", "Radians converted to degrees.", "degrees({0})")
_unary("RADIANS", "Degrees converted to radians.", "radians({0})")
_unary("EXPONENT", "Euler's number raised to the number.", "exp({0})")
_unary("NEGATE", "The number with its sign flipped.", "(-{0})")
_unary("SIGN", "-1, 0 or 1: the sign of the number.", "CAST(sign({0}) AS DOUBLE)")
_unary(
    "LN",
    "The natural logarithm; NULL for numbers <= 0.",
    "CASE WHEN {0} > 0 THEN ln({0}) END",
)
_unary(
    "SQUARE_ROOT",
    "The square root; NULL for negative numbers.",
    "CASE WHEN {0} >= 0 THEN sqrt({0}) END",
)
_unary(
    "ROUND",
    "Rounded to the nearest whole number, halves away from zero (2.5 -> 3, -2.5 -> -3).",
    "CAST(round({0}) AS DOUBLE)",
)


@register
class Log(Unary):
    name = "LOG"
    doc = "The logarithm in ``base`` (10 by default); NULL for numbers <= 0."
    params = {**Unary.params, "base": Param("float", required=False, default=10.0)}
    examples = (
        {"parameters": {"sourceColumn": "price", "targetColumn": "price_log", "base": "10"}},
        {"parameters": {"sourceColumn": "qty", "targetColumn": "qty_log2", "base": "2"}},
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        if p["base"] <= 0 or p["base"] == 1:
            raise ConfigError(f"LOG: base must be > 0 and not 1, got {p['base']}", fix="base=10")

    def expression(self, x: str, p: Mapping[str, Any]) -> str:
        return f"CASE WHEN {x} > 0 THEN ln({x}) / ln({float(p['base'])!r}) END"


@register
class Power(Unary):
    name = "POWER"
    doc = "The number raised to ``exponent``."
    params = {**Unary.params, "exponent": Param("float", doc="the power")}
    examples = (
        {"parameters": {"sourceColumn": "qty", "targetColumn": "qty_cubed", "exponent": "3"}},
    )

    def expression(self, x: str, p: Mapping[str, Any]) -> str:
        return f"power({x}, {float(p['exponent'])!r})"


class Parity(Unary):
    """IS_EVEN / IS_ODD: true/false (or trueString/falseString); fractions are neither."""

    params = {
        **Unary.params,
        "trueString": Param("str", required=False, doc="written when it holds (else true)"),
        "falseString": Param("str", required=False, doc="written when not (else false)"),
    }
    remainder = "0"

    def expression(self, x: str, p: Mapping[str, Any]) -> str:
        yes = literal(p["trueString"]) if p.get("trueString") is not None else "TRUE"
        no = literal(p["falseString"]) if p.get("falseString") is not None else "FALSE"
        test = f"{x} = floor({x}) AND abs({x} % 2) = {self.remainder}"
        return f"CASE WHEN {x} IS NULL THEN NULL WHEN {test} THEN {yes} ELSE {no} END"


@register
class IsEven(Parity):
    name = "IS_EVEN"
    doc = "Whether the number is even (a fraction is not)."
    examples = (
        {"parameters": {"sourceColumn": "qty", "targetColumn": "qty_even"}},
        {
            "parameters": {
                "sourceColumn": "price",
                "targetColumn": "price_even",
                "trueString": "even",
                "falseString": "not even",
            }
        },
    )


@register
class IsOdd(Parity):
    name = "IS_ODD"
    doc = "Whether the number is odd (a fraction is not)."
    remainder = "1"
    examples = ({"parameters": {"sourceColumn": "id", "targetColumn": "id_odd"}},)


class Binary(Operation):
    """A function of two numbers, each a column or a value, into ``targetColumn``."""

    category = CATEGORY
    params = {
        "sourceColumn1": Param("column", required=False, doc="the first column"),
        "value1": Param("value", required=False, doc="a number, instead of sourceColumn1"),
        "sourceColumn2": Param("column", required=False, doc="the second column"),
        "value2": Param("value", required=False, doc="a number, instead of sourceColumn2"),
        "targetColumn": TARGET,
    }
    template = ""

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        one_of(p, "sourceColumn1", "value1", self.name, "a number")
        one_of(p, "sourceColumn2", "value2", self.name, "a number")
        for name in ("value1", "value2"):
            if p.get(name) is not None:
                constant(p[name], name, self.name)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        a = operand(p, ctx, "sourceColumn1", "value1", self.name)
        b = operand(p, ctx, "sourceColumn2", "value2", self.name)
        after = p.get("sourceColumn2") or p.get("sourceColumn1")
        expr = self.template.format(a=a, b=b)
        return ctx.project(add=[(p["targetColumn"], expr, after)])


def _binary(name: str, doc: str, template: str) -> type[Operation]:
    examples = (
        {"parameters": {"sourceColumn1": "price", "sourceColumn2": "qty", "targetColumn": "r"}},
        {"parameters": {"sourceColumn1": "price", "value2": "3", "targetColumn": "r"}},
    )
    cls = type(
        name.title(),
        (Binary,),
        {"name": name, "doc": doc, "template": template, "examples": examples, "__doc__": doc},
    )
    return register(cls)


_binary("ADD", "The sum of two numbers.", "({a} + {b})")
_binary("SUBTRACT", "The first number minus the second.", "({a} - {b})")
_binary("MULTIPLY", "The product of two numbers.", "({a} * {b})")
_binary(
    "DIVIDE",
    "The first number divided by the second; NULL when dividing by zero.",
    "CASE WHEN {b} <> 0 THEN {a} / {b} END",
)
_binary(
    "MOD",
    "The remainder of the first number divided by the second, with the first's sign; NULL for "
    "modulo zero.",
    "CASE WHEN {b} <> 0 THEN {a} % {b} END",
)


@register
class Pi(Operation):
    name = "PI"
    category = CATEGORY
    doc = "The number pi in a new column."
    params = {"targetColumn": TARGET}
    examples = ({"parameters": {"targetColumn": "pi"}},)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        return ctx.project(add=[(p["targetColumn"], "pi()", None)])


SEED = Param("int", required=False, default=0, doc="seed (lakebed): same seed, same numbers")


@register
class Random(Operation):
    name = "RANDOM"
    category = CATEGORY
    doc = (
        "A random number in [0, 1) per row. Seeded (``seed``, default 0) from the row's "
        "position, so a run gives the same numbers on DuckDB and Spark."
    )
    params = {"targetColumn": TARGET, "seed": SEED}
    examples = (
        {"parameters": {"targetColumn": "r"}},
        {"parameters": {"targetColumn": "r", "seed": "7"}},
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        r = ctx.rand(p["seed"], p["targetColumn"])
        return ctx.project(add=[(p["targetColumn"], r, None)])


@register
class RandomBetween(Operation):
    name = "RANDOM_BETWEEN"
    category = CATEGORY
    doc = (
        "A random number between lowerBound and upperBound, both included: a whole number when "
        "both bounds are whole, else a DOUBLE. Seeded like RANDOM."
    )
    params = {
        "lowerBound": Param("float", doc="the smallest number"),
        "upperBound": Param("float", doc="the largest number"),
        "targetColumn": TARGET,
        "seed": SEED,
    }
    examples = (
        {"parameters": {"lowerBound": "1", "upperBound": "100", "targetColumn": "r"}},
        {"parameters": {"lowerBound": "-0.5", "upperBound": "0.5", "targetColumn": "r"}},
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if p["lowerBound"] > p["upperBound"]:
            raise ConfigError(
                f"RANDOM_BETWEEN: lowerBound {p['lowerBound']} is above upperBound "
                f"{p['upperBound']}",
                fix="swap lowerBound and upperBound",
            )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        low, high = p["lowerBound"], p["upperBound"]
        r = ctx.rand(p["seed"], p["targetColumn"])
        if float(low).is_integer() and float(high).is_integer():
            span = int(high) - int(low) + 1
            expr = f"CAST({int(low)} + floor({r} * {span}) AS BIGINT)"
        else:
            expr = f"({float(low)!r} + {r} * {float(high) - float(low)!r})"
        return ctx.project(add=[(p["targetColumn"], expr, None)])
