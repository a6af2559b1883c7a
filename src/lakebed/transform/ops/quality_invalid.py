"""Invalid values: replace them (with a statistic, a constant, empty, NULL, the last valid
value or a rolling statistic) or remove their rows.

What *invalid* means for each ``columnDataType`` is defined in ``_validity``: text that is not
a number in a number column, text that is not a date in a date column, text not matching an
``advancedDataType`` pattern, and so on. Statistics are computed over the valid values when the
recipe is fitted and stored with it. In a text column the replacement is written as text
(Python's shortest round-trip form, e.g. ``11.5``), so both engines produce the same string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._dual import Dual
from lakebed.transform.ops._stats import (
    MODE_TYPES,
    is_missing,
    mode_value,
    numeric_stats,
    value_sql,
)
from lakebed.transform.ops._validity import DATA_TYPES, advanced_name, invalid, valid_number
from lakebed.transform.ops.base import ROW, Ctx, Operation, Param, literal, quote
from lakebed.transform.ops.quality_missing import custom_value, last_valid

CATEGORY = "data quality: invalid"
PARAMS: dict[str, Param] = {
    "sourceColumn": Param("column", doc="the column with invalid values"),
    "columnDataType": Param(
        "choice",
        required=False,
        default="string",
        choices=DATA_TYPES,
        doc="the type values should have",
    ),
    "advancedDataType": Param(
        "str", required=False, doc="a pattern type for text: Email, URL, IP Address, ..."
    ),
}


class _Replace(Operation):
    category = CATEGORY
    params: ClassVar[Mapping[str, Param]] = PARAMS

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if p.get("advancedDataType"):
            advanced_name(p["advancedDataType"])

    def replacement(self, p: Mapping[str, Any], ctx: Ctx, d: Dual) -> str:
        raise NotImplementedError

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        col = p["sourceColumn"]
        bad = invalid(d, ctx, col, p["columnDataType"], p.get("advancedDataType"))
        expr = f"CASE WHEN {bad} THEN {self.replacement(p, ctx, d)} ELSE {quote(col)} END"
        return d.done(ctx.project(replace={col: expr}))


def _number_literal(ctx: Ctx, col: str, value: float | None) -> str:
    """A fitted number as a value of ``col``: text in text columns, the column's type else."""
    if ctx.is_numeric(col):
        if value is not None and pa.types.is_integer(ctx.type_of(col)):
            return value_sql(ctx, col, round(value))
        return value_sql(ctx, col, value)
    if value is None:
        return "CAST(NULL AS VARCHAR)"
    text = repr(int(value)) if float(value).is_integer() else repr(float(value))
    return literal(text)


class _ReplaceStat(_Replace):
    learns = True
    stat = "mean"

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        if p["columnDataType"] != "number":
            raise ConfigError(
                f"{self.name} needs columnDataType number, got {p['columnDataType']!r}",
                fix='set columnDataType to "number"',
            )

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        col = p["sourceColumn"]
        expr = valid_number(ctx, col)
        if self.stat == "median":
            return {"value": numeric_stats(ctx, col, [], [0.5], expr=expr)["q0.5"]}
        return {"value": numeric_stats(ctx, col, [self.stat], expr=expr)[self.stat]}

    def replacement(self, p: Mapping[str, Any], ctx: Ctx, d: Dual) -> str:
        return _number_literal(ctx, p["sourceColumn"], (ctx.state or {}).get("value"))


NUMBER_EXAMPLE = ({"parameters": {"sourceColumn": "phone", "columnDataType": "number"}},)


@register
class ReplaceWithAverage(_ReplaceStat):
    name = "REPLACE_WITH_AVERAGE"
    doc = "Replace invalid numbers with the mean of the valid ones (learned at fit time)."
    examples = NUMBER_EXAMPLE


@register
class ReplaceWithMedian(_ReplaceStat):
    name = "REPLACE_WITH_MEDIAN"
    doc = "Replace invalid numbers with the exact median of the valid ones (learned)."
    stat = "median"
    examples = NUMBER_EXAMPLE


@register
class ReplaceWithSum(_ReplaceStat):
    name = "REPLACE_WITH_SUM"
    doc = "Replace invalid numbers with the sum of the valid ones (learned at fit time)."
    stat = "sum"
    examples = NUMBER_EXAMPLE


@register
class ReplaceWithMode(_Replace):
    name = "REPLACE_WITH_MODE"
    doc = "Replace invalid values with the most frequent valid value (ties by modeType)."
    learns = True
    params = {
        **PARAMS,
        "modeType": Param("choice", required=False, default="MINIMUM", choices=MODE_TYPES),
    }
    examples: ClassVar[Sequence[Mapping[str, Any]]] = (
        {"parameters": {"sourceColumn": "email", "advancedDataType": "Email"}},
        {"parameters": {"sourceColumn": "qty", "columnDataType": "number"}},
    )

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        d = Dual(ctx)
        col = p["sourceColumn"]
        bad = invalid(d, ctx, col, p["columnDataType"], p.get("advancedDataType"))
        return {"value": mode_value(ctx, col, p.get("modeType") or "MINIMUM", f"NOT {bad}", d)}

    def replacement(self, p: Mapping[str, Any], ctx: Ctx, d: Dual) -> str:
        value = (ctx.state or {}).get("value")
        col = p["sourceColumn"]
        if ctx.is_string(col):
            return "CAST(NULL AS VARCHAR)" if value is None else literal(str(value))
        if isinstance(value, float) and pa.types.is_integer(ctx.type_of(col)):
            value = round(value)
        return value_sql(ctx, col, value)


@register
class ReplaceWithMostFrequent(ReplaceWithMode):
    name = "REPLACE_WITH_MOST_FREQUENT"
    doc = "Replace invalid values with the most frequent valid value (ties: the smallest)."
    params = PARAMS
    examples = ({"parameters": {"sourceColumn": "phone", "columnDataType": "number"}},)


@register
class ReplaceWithCustom(_Replace):
    name = "REPLACE_WITH_CUSTOM"
    doc = "Replace invalid values with a given value (sourceColumn or sourceColumns)."
    params = {
        **PARAMS,
        "sourceColumn": Param("column", required=False),
        "sourceColumns": Param("columns", required=False),
        "value": Param("value"),
    }
    examples = (
        {"parameters": {"sourceColumn": "email", "advancedDataType": "Email", "value": "?"}},
        {
            "parameters": {
                "sourceColumns": '["phone", "notes"]',
                "columnDataType": "number",
                "value": "0",
            }
        },
    )

    def _columns(self, p: Mapping[str, Any]) -> list[str]:
        cols = list(p.get("sourceColumns") or []) + (
            [p["sourceColumn"]] if p.get("sourceColumn") else []
        )
        if not cols:
            raise ConfigError(
                "REPLACE_WITH_CUSTOM needs sourceColumn or sourceColumns",
                fix='give sourceColumn, or sourceColumns as ["a", "b"]',
            )
        return cols

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        for col in self._columns(p):
            custom_value(Ctx("x", schema), col, str(p["value"]))

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        replace = {}
        for col in self._columns(p):
            bad = invalid(d, ctx, col, p["columnDataType"], p.get("advancedDataType"))
            value = custom_value(ctx, col, str(p["value"]))
            replace[col] = f"CASE WHEN {bad} THEN {value} ELSE {quote(col)} END"
        return d.done(ctx.project(replace=replace))


@register
class ReplaceWithEmpty(_Replace):
    name = "REPLACE_WITH_EMPTY"
    doc = "Replace invalid text values with the empty string."
    examples = ({"parameters": {"sourceColumn": "email", "advancedDataType": "Email"}},)

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        t = schema.field(p["sourceColumn"]).type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            raise ConfigError(
                f"REPLACE_WITH_EMPTY needs a text column; {p['sourceColumn']!r} is {t}",
                fix="use REPLACE_WITH_NULL for other types",
            )

    def replacement(self, p: Mapping[str, Any], ctx: Ctx, d: Dual) -> str:
        return "''"


@register
class ReplaceWithNull(_Replace):
    name = "REPLACE_WITH_NULL"
    doc = "Replace invalid values with NULL."
    examples = ({"parameters": {"sourceColumn": "signup", "columnDataType": "date"}},)

    def replacement(self, p: Mapping[str, Any], ctx: Ctx, d: Dual) -> str:
        return value_sql(ctx, p["sourceColumn"], None)


@register
class ReplaceWithLastValid(_Replace):
    name = "REPLACE_WITH_LAST_VALID"
    doc = "Replace invalid values with the last valid value before them in row order."
    examples = ({"parameters": {"sourceColumn": "signup", "columnDataType": "date"}},)

    def replacement(self, p: Mapping[str, Any], ctx: Ctx, d: Dual) -> str:
        col = p["sourceColumn"]
        bad = invalid(d, ctx, col, p["columnDataType"], p.get("advancedDataType"))
        return last_valid(ctx, col, f"({bad} OR {is_missing(ctx, col)})")


class _ReplaceRolling(_Replace):
    agg = "avg"
    params = {**PARAMS, "period": Param("int", doc="how many previous rows to use")}

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        if p["period"] < 1:
            raise ConfigError("period must be at least 1", fix="give period as e.g. 3")

    def replacement(self, p: Mapping[str, Any], ctx: Ctx, d: Dual) -> str:
        col = p["sourceColumn"]
        window = f"OVER (ORDER BY {ROW} ROWS BETWEEN {p['period']} PRECEDING AND 1 PRECEDING)"
        value = f"{self.agg}({valid_number(ctx, col)}) {window}"
        if ctx.is_string(col):
            return f"CAST({value} AS VARCHAR)"
        return f"CAST({value} AS DOUBLE)" if pa.types.is_floating(ctx.type_of(col)) else value

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        col = p["sourceColumn"]
        if ctx.is_string(col):
            raise ConfigError(
                f"{self.name} needs a numeric column; {col!r} is text",
                fix="convert it first (TO_DOUBLE_COLUMN), then replace",
            )
        d = Dual(ctx)
        bad = invalid(d, ctx, col, "number", None)
        expr = (
            f"CASE WHEN {bad} OR {is_missing(ctx, col)} THEN {self.replacement(p, ctx, d)} "
            f"ELSE {quote(col)} END"
        )
        if pa.types.is_integer(ctx.type_of(col)):
            expr = f"CAST({expr} AS DOUBLE)"
        return d.done(ctx.project(replace={col: expr}))


@register
class ReplaceWithRollingAverage(_ReplaceRolling):
    name = "REPLACE_WITH_ROLLING_AVERAGE"
    doc = (
        "Replace invalid or missing numbers with the average of the valid values in the "
        "previous `period` rows (row order); NULL when there are none."
    )
    examples = (
        {"parameters": {"sourceColumn": "price", "columnDataType": "number", "period": "2"}},
    )


@register
class ReplaceWithRollingSum(_ReplaceRolling):
    name = "REPLACE_WITH_ROLLING_SUM"
    doc = "Replace invalid or missing numbers with the sum of the previous `period` rows' values."
    agg = "sum"
    examples = (
        {"parameters": {"sourceColumn": "price", "columnDataType": "number", "period": "3"}},
    )


@register
class RemoveInvalid(Operation):
    name = "REMOVE_INVALID"
    category = CATEGORY
    doc = "Remove the rows whose sourceColumn value is invalid for columnDataType."
    params = PARAMS
    examples = (
        {"parameters": {"sourceColumn": "signup", "columnDataType": "date"}},
        {"parameters": {"sourceColumn": "email", "advancedDataType": "Email"}},
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        bad = invalid(d, ctx, p["sourceColumn"], p["columnDataType"], p.get("advancedDataType"))
        if ctx.condition is not None:
            bad = f"({ctx.condition}) AND {bad}"
        return d.done(ctx.where(f"NOT coalesce({bad}, FALSE)"))
