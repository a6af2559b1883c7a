"""Aggregate functions (DataBrew's AGGREGATE category): across the ``sourceColumns`` of each row.

As in DataBrew, these combine several columns of the same row into a new ``targetColumn`` (for
aggregation over rows, see GROUP_BY). Values are read as numbers; anything that is not a number
(text that does not parse, missing values) is ignored. With no numbers left the result is NULL
(COUNT and COUNT_DISTINCT: 0). STANDARD_DEVIATION and VARIANCE are the sample statistics (n - 1),
NULL below two numbers. Everything is written as plain, order-independent SQL over the columns,
so DuckDB and Spark give the same bits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops.base import Ctx, Operation, Param, quote
from lakebed.transform.ops.math import TARGET, as_number

CATEGORY = "aggregate"


def _count(values: Sequence[str]) -> str:
    return "(" + " + ".join(f"CASE WHEN {v} IS NOT NULL THEN 1 ELSE 0 END" for v in values) + ")"


def _sum(values: Sequence[str]) -> str:
    return "(" + " + ".join(f"coalesce({v}, 0.0)" for v in values) + ")"


def _first_of_kind(values: Sequence[str], i: int) -> str:
    """True when values[i] is a number not seen among values[:i]."""
    earlier = [f"coalesce({values[i]} = {values[j]}, FALSE)" for j in range(i)]
    unseen = f" AND NOT ({' OR '.join(earlier)})" if earlier else ""
    return f"({values[i]} IS NOT NULL{unseen})"


def _kth(values: Sequence[str], k: str, unique: bool = False) -> str:
    """The k-th largest of ``values`` (``k`` an SQL expression, 1 = largest)."""
    picks = []
    for v in values:
        if unique:
            above = " + ".join(
                f"CASE WHEN {_first_of_kind(values, j)} AND {values[j]} > {v} THEN 1 ELSE 0 END"
                for j in range(len(values))
            )
            cond = f"({above}) = {k} - 1"
        else:
            above = " + ".join(f"CASE WHEN {w} > {v} THEN 1 ELSE 0 END" for w in values)
            at_least = " + ".join(f"CASE WHEN {w} >= {v} THEN 1 ELSE 0 END" for w in values)
            cond = f"({above}) < {k} AND ({at_least}) >= {k}"
        picks.append(f"CASE WHEN {v} IS NOT NULL AND {cond} THEN {v} END")
    return _greatest(picks)


def _greatest(exprs: Sequence[str]) -> str:
    return exprs[0] if len(exprs) == 1 else f"greatest({', '.join(exprs)})"


def _least(exprs: Sequence[str]) -> str:
    return exprs[0] if len(exprs) == 1 else f"least({', '.join(exprs)})"


class Across(Operation):
    """Combines the numbers in ``sourceColumns`` of each row into ``targetColumn``."""

    category = CATEGORY
    params = {
        "sourceColumns": Param("columns", doc="the columns to combine, as a JSON list"),
        "targetColumn": TARGET,
    }
    examples: ClassVar[Sequence[Mapping[str, Any]]] = (
        {"parameters": {"sourceColumns": '["price", "qty", "id"]', "targetColumn": "agg"}},
    )

    def combine(self, values: list[str], p: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def inputs(self, p: Mapping[str, Any], ctx: Ctx) -> list[str]:
        return [as_number(ctx, c) for c in p["sourceColumns"]]

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        expr = self.combine(self.inputs(p, ctx), p)
        return ctx.project(add=[(p["targetColumn"], expr, p["sourceColumns"][-1])])


@register
class Sum(Across):
    name = "SUM"
    doc = "The sum of the numbers in the columns of each row."

    def combine(self, values: list[str], p: Mapping[str, Any]) -> str:
        return f"CASE WHEN {_count(values)} > 0 THEN {_sum(values)} END"


@register
class Average(Across):
    name = "AVERAGE"
    doc = "The mean of the numbers in the columns of each row."

    def combine(self, values: list[str], p: Mapping[str, Any]) -> str:
        return f"CASE WHEN {_count(values)} > 0 THEN {_sum(values)} / {_count(values)} END"


@register
class Count(Across):
    name = "COUNT"
    doc = "How many of the columns hold a number, in each row."

    def combine(self, values: list[str], p: Mapping[str, Any]) -> str:
        return f"CAST({_count(values)} AS BIGINT)"


@register
class CountDistinct(Across):
    name = "COUNT_DISTINCT"
    doc = "How many different numbers the columns hold, in each row."

    def combine(self, values: list[str], p: Mapping[str, Any]) -> str:
        parts = [
            f"CASE WHEN {_first_of_kind(values, i)} THEN 1 ELSE 0 END" for i in range(len(values))
        ]
        return f"CAST(({' + '.join(parts)}) AS BIGINT)"


@register
class Max(Across):
    name = "MAX"
    doc = "The largest number in the columns of each row."

    def combine(self, values: list[str], p: Mapping[str, Any]) -> str:
        return _greatest(values)


@register
class Min(Across):
    name = "MIN"
    doc = "The smallest number in the columns of each row."

    def combine(self, values: list[str], p: Mapping[str, Any]) -> str:
        return _least(values)


@register
class Median(Across):
    name = "MEDIAN"
    doc = "The median of the numbers in the columns of each row (the mean of the middle two)."

    def combine(self, values: list[str], p: Mapping[str, Any]) -> str:
        n = _count(values)
        low = _kth(values, f"(CAST(floor({n} / 2.0) AS BIGINT) + 1)")
        high = _kth(values, f"CAST(ceil({n} / 2.0) AS BIGINT)")
        return f"CASE WHEN {n} > 0 THEN ({low} + {high}) / 2.0 END"


class Kth(Across):
    params = {**Across.params, "value": Param("int", doc="k: 1 is the largest")}
    examples = (
        {
            "parameters": {
                "sourceColumns": '["price", "qty", "id"]',
                "targetColumn": "kth",
                "value": "2",
            }
        },
    )
    unique = False

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if p["value"] < 1:
            raise ConfigError(f"{self.name}: value (k) must be 1 or more", fix="value=1")

    def combine(self, values: list[str], p: Mapping[str, Any]) -> str:
        return _kth(values, str(p["value"]), unique=self.unique)


@register
class KthLargest(Kth):
    name = "KTH_LARGEST"
    doc = "The k-th largest number (``value`` = k) in the columns of each row; repeats count."


@register
class KthLargestUnique(Kth):
    name = "KTH_LARGEST_UNIQUE"
    doc = "The k-th largest different number (``value`` = k) in the columns of each row."
    unique = True


@register
class Mode(Across):
    name = "MODE"
    doc = (
        "The most frequent number in the columns of each row. Ties by ``modeType``: MINIMUM "
        "(default), MAXIMUM, AVERAGE of the tied numbers, or NONE (NULL when tied)."
    )
    params = {
        **Across.params,
        "modeType": Param(
            "choice",
            required=False,
            default="MINIMUM",
            choices=("MINIMUM", "MAXIMUM", "AVERAGE", "NONE"),
        ),
    }
    examples = (
        {"parameters": {"sourceColumns": '["qty", "id", "price"]', "targetColumn": "m"}},
        {
            "parameters": {
                "sourceColumns": '["qty", "id"]',
                "targetColumn": "m",
                "modeType": "AVERAGE",
            }
        },
    )

    def combine(self, values: list[str], p: Mapping[str, Any]) -> str:
        freq = [
            "(" + " + ".join(f"CASE WHEN {w} = {v} THEN 1 ELSE 0 END" for w in values) + ")"
            for v in values
        ]
        top = _greatest(
            [f"CASE WHEN {v} IS NOT NULL THEN {f} END" for v, f in zip(values, freq, strict=True)]
        )
        tied = [
            f"CASE WHEN {_first_of_kind(values, i)} AND {freq[i]} = {top} THEN {values[i]} END"
            for i in range(len(values))
        ]
        kind = p["modeType"]
        if kind == "MINIMUM":
            return _least(tied)
        if kind == "MAXIMUM":
            return _greatest(tied)
        if kind == "AVERAGE":
            return f"CASE WHEN {_count(tied)} > 0 THEN {_sum(tied)} / {_count(tied)} END"
        return f"CASE WHEN {_count(tied)} = 1 THEN {_greatest(tied)} END"


class Spread(Across):
    def variance(self, values: list[str]) -> str:
        n = _count(values)
        mean = f"({_sum(values)} / {n})"
        squares = " + ".join(f"coalesce(({v} - {mean}) * ({v} - {mean}), 0.0)" for v in values)
        return f"CASE WHEN {n} > 1 THEN ({squares}) / ({n} - 1) END"


@register
class Variance(Spread):
    name = "VARIANCE"
    doc = "The sample variance of the numbers in the columns of each row."

    def combine(self, values: list[str], p: Mapping[str, Any]) -> str:
        return self.variance(values)


@register
class StandardDeviation(Spread):
    name = "STANDARD_DEVIATION"
    doc = "The sample standard deviation of the numbers in the columns of each row."

    def combine(self, values: list[str], p: Mapping[str, Any]) -> str:
        return f"sqrt({self.variance(values)})"


@register
class Any_(Across):
    name = "ANY"
    doc = (
        "The first value in the columns of each row that is neither missing nor empty text. "
        "Columns of one type keep it; mixed types give text."
    )
    examples = (
        {"parameters": {"sourceColumns": '["name", "city"]', "targetColumn": "any"}},
        {"parameters": {"sourceColumns": '["qty", "id"]', "targetColumn": "any"}},
    )

    def inputs(self, p: Mapping[str, Any], ctx: Ctx) -> list[str]:
        cols = p["sourceColumns"]
        types = {ctx.type_of(c) for c in cols}
        same = len(types) == 1
        out = []
        for c in cols:
            text = ctx.is_string(c)
            expr = quote(c) if same else f"CAST({quote(c)} AS VARCHAR)"
            out.append(f"NULLIF({expr}, '')" if text or not same else expr)
        return out

    def combine(self, values: list[str], p: Mapping[str, Any]) -> str:
        return f"coalesce({', '.join(values)})" if len(values) > 1 else values[0]
