"""Missing values: fill with a statistic, a constant, empty, NULL or the last valid value;
remove or flag rows with missing values.

A value is *missing* when it is NULL, NaN, or (for text) empty or only spaces. Statistics
(average, median, mode, sum) are learned when the recipe is fitted and stored with its
version, so the same recipe fills new data with the same values. Filling a whole-number column
with an average or median makes it DOUBLE; other fills keep the column's type.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._common import require_numeric
from lakebed.transform.ops._stats import (
    MODE_TYPES,
    is_missing,
    mode_value,
    numeric_stats,
    sql_type,
    value_sql,
)
from lakebed.transform.ops._validity import DATA_TYPES
from lakebed.transform.ops.base import ROW, Ctx, Operation, Param, literal, quote

CATEGORY = "data quality: missing"
SRC = {"sourceColumn": Param("column", doc="the column with missing values")}


class _Fill(Operation):
    """Replace missing values of sourceColumn with the expression from :meth:`fill`."""

    category = CATEGORY
    params: ClassVar[Mapping[str, Param]] = SRC

    def fill(self, p: Mapping[str, Any], ctx: Ctx) -> tuple[str, str | None]:
        """The fill expression and, when the column changes type, its new type."""
        raise NotImplementedError

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        col = p["sourceColumn"]
        value, new_type = self.fill(p, ctx)
        current = quote(col) if new_type is None else f"CAST({quote(col)} AS {new_type})"
        expr = f"CASE WHEN {is_missing(ctx, col)} THEN {value} ELSE {current} END"
        if new_type is not None and ctx.condition is not None:
            expr = ctx.guarded(expr, current)
            return ctx.project(replace={col: expr}, guard=False)
        return ctx.project(replace={col: expr})


class _FillStat(_Fill):
    learns = True
    stat = "mean"

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        require_numeric(p, schema, self.name)

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        if self.stat == "median":
            return {"value": numeric_stats(ctx, p["sourceColumn"], [], [0.5])["q0.5"]}
        return {"value": numeric_stats(ctx, p["sourceColumn"], [self.stat])[self.stat]}

    def fill(self, p: Mapping[str, Any], ctx: Ctx) -> tuple[str, str | None]:
        col = p["sourceColumn"]
        value = (ctx.state or {}).get("value")
        if self.stat == "sum" or pa.types.is_floating(ctx.type_of(col)):
            return value_sql(ctx, col, value), None
        return value_sql(_as_double(ctx, col), col, value), "DOUBLE"


def _as_double(ctx: Ctx, col: str) -> Ctx:
    fields = [pa.field(f.name, pa.float64()) if f.name == col else f for f in ctx.schema]
    return dataclasses.replace(ctx, schema=pa.schema(fields))


@register
class FillWithAverage(_FillStat):
    name = "FILL_WITH_AVERAGE"
    doc = "Fill missing values with the column's mean (learned at fit time)."
    examples = ({"parameters": {"sourceColumn": "price"}},)


@register
class FillWithMedian(_FillStat):
    name = "FILL_WITH_MEDIAN"
    doc = "Fill missing values with the column's exact median (learned at fit time)."
    stat = "median"
    examples = ({"parameters": {"sourceColumn": "qty"}},)


@register
class FillWithSum(_FillStat):
    name = "FILL_WITH_SUM"
    doc = "Fill missing values with the sum of the column's values (learned at fit time)."
    stat = "sum"
    examples = ({"parameters": {"sourceColumn": "qty"}},)


@register
class FillWithMode(_Fill):
    name = "FILL_WITH_MODE"
    doc = (
        "Fill missing values with the most frequent value (learned at fit time); ties are "
        "broken by modeType: MINIMUM or NONE (the smallest), MAXIMUM, AVERAGE (numbers)."
    )
    learns = True
    params = {
        **SRC,
        "modeType": Param("choice", required=False, default="MINIMUM", choices=MODE_TYPES),
    }
    examples: ClassVar[Sequence[Mapping[str, Any]]] = (
        {"parameters": {"sourceColumn": "city", "modeType": "MAXIMUM"}},
        {"parameters": {"sourceColumn": "qty", "modeType": "AVERAGE"}},
    )

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        return {"value": mode_value(ctx, p["sourceColumn"], p["modeType"])}

    def fill(self, p: Mapping[str, Any], ctx: Ctx) -> tuple[str, str | None]:
        col = p["sourceColumn"]
        value = (ctx.state or {}).get("value")
        t = ctx.type_of(col)
        if isinstance(value, float) and pa.types.is_integer(t) and not value.is_integer():
            return value_sql(_as_double(ctx, col), col, value), "DOUBLE"
        if p["modeType"] == "AVERAGE" and pa.types.is_integer(t):
            return value_sql(_as_double(ctx, col), col, value), "DOUBLE"
        return value_sql(ctx, col, value), None


@register
class FillWithMostFrequent(FillWithMode):
    name = "FILL_WITH_MOST_FREQUENT"
    doc = "Fill missing values with the most frequent value (ties: the smallest)."
    params = SRC
    examples = ({"parameters": {"sourceColumn": "category"}},)

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        return {"value": mode_value(ctx, p["sourceColumn"], "MINIMUM")}

    def fill(self, p: Mapping[str, Any], ctx: Ctx) -> tuple[str, str | None]:
        return super().fill({**p, "modeType": "MINIMUM"}, ctx)


def custom_value(ctx: Ctx, col: str, raw: str, param: str = "value") -> str:
    """The user's ``raw`` value as a literal of ``col``'s type; ConfigError when it isn't one."""
    target = sql_type(ctx, col)
    if target is None or target == "VARCHAR":
        return literal(raw)
    if target in ("DOUBLE", "FLOAT") or target.startswith("DECIMAL") or target.endswith("INT"):
        try:
            number = float(raw)
        except ValueError:
            raise ConfigError(
                f"{param} {raw!r} is not a number but column {col!r} is numeric",
                fix=f"give {param} as a number, e.g. 0",
            ) from None
        if target.endswith("INT") and not number.is_integer():
            raise ConfigError(
                f"{param} {raw!r} is not a whole number but column {col!r} is {target}",
                fix=f"give a whole number, or change {col} to double first",
            )
        return value_sql(ctx, col, int(number) if target.endswith("INT") else number)
    if target == "BOOLEAN":
        if raw.strip().lower() not in ("true", "false"):
            raise ConfigError(f"{param} {raw!r} is not true or false", fix="give true or false")
        return value_sql(ctx, col, raw.strip().lower())
    import datetime as dt

    try:
        if target == "DATE":
            dt.date.fromisoformat(raw.strip())
        else:
            dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ConfigError(
            f"{param} {raw!r} is not an ISO {target.lower()}",
            fix="give it as YYYY-MM-DD" + (" HH:MM:SS" if target == "TIMESTAMP" else ""),
        ) from None
    return value_sql(ctx, col, raw.strip())


@register
class FillWithCustom(_Fill):
    name = "FILL_WITH_CUSTOM"
    doc = "Fill missing values with a given value (of the column's type)."
    params = {
        **SRC,
        "columnDataType": Param("choice", required=False, default="string", choices=DATA_TYPES),
        "value": Param("value", doc="the value to fill in"),
    }
    examples = (
        {"parameters": {"sourceColumn": "name", "columnDataType": "string", "value": "n/a"}},
        {"parameters": {"sourceColumn": "qty", "columnDataType": "number", "value": "0"}},
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        custom_value(Ctx("x", schema), p["sourceColumn"], p["value"])

    def fill(self, p: Mapping[str, Any], ctx: Ctx) -> tuple[str, str | None]:
        return custom_value(ctx, p["sourceColumn"], p["value"]), None


@register
class FillWithEmpty(_Fill):
    name = "FILL_WITH_EMPTY"
    doc = "Fill missing text values (NULL or blank) with the empty string."
    examples = ({"parameters": {"sourceColumn": "city"}},)

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        t = schema.field(p["sourceColumn"]).type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            raise ConfigError(
                f"FILL_WITH_EMPTY needs a text column; {p['sourceColumn']!r} is {t}",
                fix="use FILL_WITH_NULL or FILL_WITH_CUSTOM for other types",
            )

    def fill(self, p: Mapping[str, Any], ctx: Ctx) -> tuple[str, str | None]:
        return "''", None


@register
class FillWithNull(_Fill):
    name = "FILL_WITH_NULL"
    doc = "Make every missing value (blank text, NaN) a real NULL."
    examples = ({"parameters": {"sourceColumn": "notes"}},)

    def fill(self, p: Mapping[str, Any], ctx: Ctx) -> tuple[str, str | None]:
        return value_sql(ctx, p["sourceColumn"], None), None


@register
class FillWithLastValid(_Fill):
    name = "FILL_WITH_LAST_VALID"
    doc = (
        "Fill missing values with the last non-missing value before them in row order "
        "(NULL when there is none)."
    )
    examples = ({"parameters": {"sourceColumn": "price"}},)

    def fill(self, p: Mapping[str, Any], ctx: Ctx) -> tuple[str, str | None]:
        return last_valid(ctx, p["sourceColumn"], is_missing(ctx, p["sourceColumn"])), None


def last_valid(ctx: Ctx, col: str, bad: str) -> str:
    """The last value of ``col`` before this row (in row order) for which ``bad`` is false."""
    return (
        f"last_value(CASE WHEN NOT {bad} THEN {quote(col)} END IGNORE NULLS) OVER "
        f"(ORDER BY {ROW} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    )


@register
class RemoveMissing(Operation):
    name = "REMOVE_MISSING"
    category = CATEGORY
    doc = "Keep only the rows where sourceColumn is not missing."
    params = SRC
    examples = ({"parameters": {"sourceColumn": "name"}},)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        bad = is_missing(ctx, p["sourceColumn"])
        if ctx.condition is not None:
            bad = f"({ctx.condition}) AND {bad}"
        return ctx.where(f"NOT coalesce({bad}, FALSE)")


@register
class FlagMissing(Operation):
    name = "FLAG_MISSING"
    category = CATEGORY
    databrew = False
    doc = (
        "Add a column saying whether sourceColumn is missing: BOOLEAN, or trueString / "
        "falseString when given (a missing-indicator feature for ML)."
    )
    params = {
        **SRC,
        "targetColumn": Param("new_column"),
        "trueString": Param("str", required=False),
        "falseString": Param("str", required=False),
    }
    examples = (
        {"parameters": {"sourceColumn": "price", "targetColumn": "price_missing"}},
        {
            "parameters": {
                "sourceColumn": "name",
                "targetColumn": "name_missing",
                "trueString": "yes",
                "falseString": "no",
            }
        },
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        bad = is_missing(ctx, p["sourceColumn"])
        if p["trueString"] is None and p["falseString"] is None:
            expr = bad
        else:
            yes, no = literal(p["trueString"] or "True"), literal(p["falseString"] or "False")
            expr = f"CASE WHEN {bad} THEN {yes} ELSE {no} END"
        return ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])])
