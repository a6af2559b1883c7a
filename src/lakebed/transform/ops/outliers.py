"""Outliers: flag, remove, replace or rescale values far from the rest of a numeric column.

Detection (``outlierStrategy``, with ``threshold``, default 3), learned at fit time:

- ``Z_SCORE``: ``|x - mean| / std > threshold`` (sample standard deviation).
- ``MODIFIED_Z_SCORE``: ``0.6745 * |x - median| / MAD > threshold`` (MAD: median absolute
  deviation from the median).
- ``IQR``: ``x < Q1 - threshold * IQR`` or ``x > Q3 + threshold * IQR`` (exact quartiles).

With ``trimValue`` true, only outliers that also fall outside the ``minValue``..``maxValue``
percentiles (0-100) count. A column without spread (std, MAD or IQR of 0) has no outliers.
The bounds and any replacement statistic are stored with the recipe version, so new data is
judged by the same bounds. Statistics are over all non-missing values of the column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._common import require_numeric
from lakebed.transform.ops._dual import num
from lakebed.transform.ops._stats import mode_value, numeric_stats
from lakebed.transform.ops.base import Ctx, Operation, Param, literal, quote

CATEGORY = "outliers"
STRATEGIES = ("Z_SCORE", "MODIFIED_Z_SCORE", "IQR")
DETECT: dict[str, Param] = {
    "sourceColumn": Param("column", doc="a numeric column"),
    "outlierStrategy": Param("choice", required=False, default="Z_SCORE", choices=STRATEGIES),
    "threshold": Param("float", required=False, default=3.0),
    "trimValue": Param("bool", required=False, default=False),
    "minValue": Param("float", required=False, default=5.0, doc="lower percentile, 0-100"),
    "maxValue": Param("float", required=False, default=95.0, doc="upper percentile, 0-100"),
}
REPLACE_TYPES = (
    "WINSORIZE_VALUES",
    "REPLACE_WITH_CUSTOM",
    "REPLACE_WITH_EMPTY",
    "REPLACE_WITH_NULL",
    "REPLACE_WITH_MODE",
    "REPLACE_WITH_AVERAGE",
    "REPLACE_WITH_MEDIAN",
    "REPLACE_WITH_SUM",
    "REPLACE_WITH_MAX",
)


def fit_bounds(p: Mapping[str, Any], ctx: Ctx) -> dict[str, Any]:
    """The learned outlier bounds (low, high; None when undefined) and percentiles."""
    col, t, strategy = p["sourceColumn"], p["threshold"], p["outlierStrategy"]
    pmin, pmax = p["minValue"] / 100, p["maxValue"] / 100
    # each quantile is a pass over the data: only those the step uses
    qs = {"IQR": [0.25, 0.75], "MODIFIED_Z_SCORE": [0.5]}.get(strategy, [])
    if p["trimValue"] or p.get("replaceType") == "WINSORIZE_VALUES":
        qs += [pmin, pmax]
    if p.get("replaceType") == "REPLACE_WITH_MEDIAN":
        qs.append(0.5)
    st = numeric_stats(ctx, col, ["mean", "std", "min", "max", "sum"], list(dict.fromkeys(qs)))
    low = high = None
    if strategy == "Z_SCORE" and st["std"]:
        assert st["mean"] is not None
        low, high = st["mean"] - t * st["std"], st["mean"] + t * st["std"]
    elif strategy == "IQR" and st["q0.25"] is not None and st["q0.75"] is not None:
        iqr = st["q0.75"] - st["q0.25"]
        if iqr > 0:
            low, high = st["q0.25"] - t * iqr, st["q0.75"] + t * iqr
    elif strategy == "MODIFIED_Z_SCORE" and st["q0.5"] is not None:
        med = st["q0.5"]
        x = f"abs(CAST({quote(col)} AS DOUBLE) - {num(med)})"
        mad = numeric_stats(ctx, col, [], [0.5], expr=x)["q0.5"]
        if mad:
            low, high = med - t * mad / 0.6745, med + t * mad / 0.6745
    return {
        "low": low,
        "high": high,
        "pmin": st.get(f"q{pmin}"),
        "pmax": st.get(f"q{pmax}"),
        "mean": st["mean"],
        "std": st["std"],
        "median": st.get("q0.5"),
        "sum": st["sum"],
        "max": st["max"],
    }


def outlier(p: Mapping[str, Any], ctx: Ctx) -> str:
    """Predicate: the row's value is an outlier by the fitted bounds (FALSE for NULL)."""
    s = ctx.state or {}
    if s.get("low") is None or s.get("high") is None:
        return "FALSE"
    x = f"CAST({quote(p['sourceColumn'])} AS DOUBLE)"
    pred = f"({x} < {num(s['low'])} OR {x} > {num(s['high'])})"
    if p["trimValue"] and s.get("pmin") is not None and s.get("pmax") is not None:
        pred = f"({pred} AND ({x} < {num(s['pmin'])} OR {x} > {num(s['pmax'])}))"
    return f"coalesce({pred}, FALSE)"


class _Outliers(Operation):
    category = CATEGORY
    learns = True
    params: ClassVar[Mapping[str, Param]] = DETECT

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        require_numeric(p, schema, self.name)
        if p["threshold"] <= 0:
            raise ConfigError("threshold must be positive", fix="give threshold as e.g. 3")
        if not 0 <= p["minValue"] <= p["maxValue"] <= 100:
            raise ConfigError(
                "minValue and maxValue must be percentiles with 0 <= minValue <= maxValue <= 100",
                fix='give e.g. minValue "5" and maxValue "95"',
            )

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        return fit_bounds(p, ctx)


EXAMPLE = {"sourceColumn": "price", "outlierStrategy": "IQR", "threshold": "1.5"}


@register
class FlagOutliers(_Outliers):
    name = "FLAG_OUTLIERS"
    doc = "Add a column saying whether each value of sourceColumn is an outlier."
    params = {
        **DETECT,
        "targetColumn": Param("new_column"),
        "trueString": Param("str", required=False, default="True"),
        "falseString": Param("str", required=False, default="False"),
    }
    examples = (
        {"parameters": {**EXAMPLE, "targetColumn": "price_outlier"}},
        {
            "parameters": {
                "sourceColumn": "price",
                "outlierStrategy": "MODIFIED_Z_SCORE",
                "targetColumn": "o",
                "trueString": "yes",
                "falseString": "no",
            }
        },
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        col = quote(p["sourceColumn"])
        expr = (
            f"CASE WHEN {col} IS NULL THEN NULL WHEN {outlier(p, ctx)} THEN "
            f"{literal(p['trueString'])} ELSE {literal(p['falseString'])} END"
        )
        return ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])])


@register
class RemoveOutliers(_Outliers):
    name = "REMOVE_OUTLIERS"
    doc = "Delete the rows with outliers (removeType DELETE_ROWS) or clear the values (CLEAR)."
    params = {
        **DETECT,
        "removeType": Param(
            "choice", required=False, default="DELETE_ROWS", choices=("DELETE_ROWS", "CLEAR")
        ),
    }
    examples = (
        {"parameters": {**EXAMPLE}},
        {"parameters": {"sourceColumn": "price", "threshold": "2", "removeType": "CLEAR"}},
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        pred = outlier(p, ctx)
        if p["removeType"] == "CLEAR":
            col = p["sourceColumn"]
            return ctx.project(replace={col: f"CASE WHEN {pred} THEN NULL ELSE {quote(col)} END"})
        if ctx.condition is not None:
            pred = f"coalesce({ctx.condition}, FALSE) AND {pred}"
        return ctx.where(f"NOT ({pred})")


@register
class ReplaceOutliers(_Outliers):
    name = "REPLACE_OUTLIERS"
    doc = (
        "Replace outliers per replaceType: WINSORIZE_VALUES caps them at the minValue / "
        "maxValue percentiles; the others use a custom value, NULL, or the column's mode "
        "(modeType MIN, MAX or AVERAGE for ties), average, median, sum or max. The column "
        "becomes DOUBLE."
    )
    params = {
        **DETECT,
        "replaceType": Param(
            "choice", required=False, default="WINSORIZE_VALUES", choices=REPLACE_TYPES
        ),
        "modeType": Param(
            "choice",
            required=False,
            default="MIN",
            choices=("MIN", "MAX", "AVERAGE", "MINIMUM", "MAXIMUM", "NONE"),
        ),
        "value": Param("float", required=False, doc="the value for REPLACE_WITH_CUSTOM"),
    }
    examples = (
        {"parameters": {**EXAMPLE, "replaceType": "WINSORIZE_VALUES"}},
        {"parameters": {**EXAMPLE, "replaceType": "REPLACE_WITH_MEDIAN"}},
        {"parameters": {**EXAMPLE, "replaceType": "REPLACE_WITH_CUSTOM", "value": "0"}},
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        if p["replaceType"] == "REPLACE_WITH_CUSTOM" and p["value"] is None:
            raise ConfigError("REPLACE_WITH_CUSTOM needs value", fix='give value, e.g. "0"')

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        state = fit_bounds(p, ctx)
        if p["replaceType"] == "REPLACE_WITH_MODE":
            kind = {"MIN": "MINIMUM", "MAX": "MAXIMUM", "NONE": "MINIMUM"}
            value = mode_value(ctx, p["sourceColumn"], kind.get(p["modeType"], p["modeType"]))
            state["mode"] = None if value is None else float(value)
        return state

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        s = ctx.state or {}
        col = p["sourceColumn"]
        x = f"CAST({quote(col)} AS DOUBLE)"
        kind = p["replaceType"]
        if kind == "WINSORIZE_VALUES":
            low, pmin, pmax = num(s.get("low")), num(s.get("pmin")), num(s.get("pmax"))
            new = f"CASE WHEN {x} < {low} THEN {pmin} ELSE {pmax} END"
        elif kind == "REPLACE_WITH_CUSTOM":
            new = num(p["value"])
        elif kind in ("REPLACE_WITH_NULL", "REPLACE_WITH_EMPTY"):
            new = num(None)
        else:
            key = {
                "REPLACE_WITH_MODE": "mode",
                "REPLACE_WITH_AVERAGE": "mean",
                "REPLACE_WITH_MEDIAN": "median",
                "REPLACE_WITH_SUM": "sum",
                "REPLACE_WITH_MAX": "max",
            }[kind]
            new = num(s.get(key))
        expr = f"CASE WHEN {outlier(p, ctx)} THEN {new} ELSE {x} END"
        return ctx.project(replace={col: ctx.guarded(expr, x)}, guard=False)


@register
class RescaleOutliersWithZScore(_Outliers):
    name = "RESCALE_OUTLIERS_WITH_Z_SCORE"
    doc = (
        "A new column with the z-score of each value ((x - mean) / std), outliers first capped "
        "at the outlier bounds, so they end up at most `threshold` standard deviations out "
        "(Z_SCORE strategy)."
    )
    params = {**DETECT, "targetColumn": Param("new_column")}
    examples = ({"parameters": {"sourceColumn": "price", "threshold": "2", "targetColumn": "pz"}},)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        s = ctx.state or {}
        x = f"CAST({quote(p['sourceColumn'])} AS DOUBLE)"
        capped = x
        if s.get("low") is not None and s.get("high") is not None:
            capped = f"least(greatest({x}, {num(s['low'])}), {num(s['high'])})"
            capped = f"CASE WHEN {outlier(p, ctx)} THEN {capped} ELSE {x} END"
        std = s.get("std")
        expr = f"({capped} - {num(s.get('mean'))}) / {num(std if std else None)}"
        return ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])])


SKEW_FUNCTIONS = ("LOG", "ROOT", "SQUARE")


def skew_expr(x: str, function: str, value: float | None) -> str:
    """``x`` transformed to reduce skew: LOG base ``value`` (e; NULL for x <= 0), signed
    ROOT of degree ``value`` (default 2; NULL for negative x with an even degree), SQUARE."""
    if function == "SQUARE":
        return f"({x} * {x})"
    if function == "LOG":
        base = value or 2.718281828459045
        return f"CASE WHEN {x} > 0 THEN ln({x}) / ln({num(base)}) END"
    degree = value or 2.0
    root = f"power(abs({x}), {num(1 / degree)})"
    if degree.is_integer() and int(degree) % 2 == 0:
        return f"CASE WHEN {x} >= 0 THEN {root} END"
    return f"(sign({x}) * {root})"


@register
class RescaleOutliersWithSkew(_Outliers):
    name = "RESCALE_OUTLIERS_WITH_SKEW"
    doc = (
        "A new column where outliers are pulled in by a skew-reducing transform (skewFunction "
        "LOG, ROOT or SQUARE with `value` as base or degree); other values are copied."
    )
    params = {
        **DETECT,
        "targetColumn": Param("new_column"),
        "skewFunction": Param("choice", required=False, default="LOG", choices=SKEW_FUNCTIONS),
        "value": Param("float", required=False),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "price",
                "threshold": "2",
                "skewFunction": "ROOT",
                "value": "3",
                "targetColumn": "ps",
            }
        },
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        x = f"CAST({quote(p['sourceColumn'])} AS DOUBLE)"
        scaled = skew_expr(x, p["skewFunction"], p["value"])
        expr = f"CASE WHEN {outlier(p, ctx)} THEN {scaled} ELSE {x} END"
        return ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])])
