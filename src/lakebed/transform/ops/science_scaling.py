"""Scaling and numeric feature transforms: normalisation, robust and max-abs scaling,
binarisation, bucketing and skew reduction.

Scalers learn their statistics (min, max, mean, sample std, exact median and quartiles) at fit
time and store them with the recipe version: new data is scaled with the training data's
statistics. A column without spread (max = min, std = 0, IQR = 0) scales to NULL rather than
dividing by zero. Results are DOUBLE; NULL stays NULL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._common import require_numeric
from lakebed.transform.ops._dual import num
from lakebed.transform.ops._stats import numeric_stats
from lakebed.transform.ops.base import Ctx, Operation, Param, literal, quote
from lakebed.transform.ops.outliers import SKEW_FUNCTIONS, skew_expr

CATEGORY = "data science: scaling"
SRC_TGT = {"sourceColumn": Param("column"), "targetColumn": Param("new_column")}


def _x(p: Mapping[str, Any]) -> str:
    return f"CAST({quote(p['sourceColumn'])} AS DOUBLE)"


def _ratio(top: str, bottom: float | None) -> str:
    """``top / bottom``, NULL when bottom is 0 or unknown."""
    return f"({top}) / {num(bottom if bottom else None)}"


class _Scaler(Operation):
    category = CATEGORY
    learns = True
    params: ClassVar[Mapping[str, Param]] = SRC_TGT

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        require_numeric(p, schema, self.name)

    def expr(self, p: Mapping[str, Any], s: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        expr = self.expr(p, ctx.state or {})
        return ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])])


STRATEGIES = ("MIN_MAX", "SCALE_BETWEEN", "MEAN_NORMALIZATION", "Z_SCORE")


@register
class Normalization(_Scaler):
    name = "NORMALIZATION"
    doc = (
        "Scale a numeric column into a new one: MIN_MAX to [0, 1], SCALE_BETWEEN to "
        "[lowerBound, upperBound], MEAN_NORMALIZATION (x - mean) / (max - min), Z_SCORE "
        "(x - mean) / std."
    )
    params = {
        **SRC_TGT,
        "strategy": Param("choice", required=False, default="MIN_MAX", choices=STRATEGIES),
        "lowerBound": Param("float", required=False, default=0.0),
        "upperBound": Param("float", required=False, default=1.0),
    }
    examples = (
        {"parameters": {"sourceColumn": "price", "strategy": "MIN_MAX", "targetColumn": "p_mm"}},
        {
            "parameters": {
                "sourceColumn": "qty",
                "strategy": "SCALE_BETWEEN",
                "lowerBound": "-1",
                "upperBound": "1",
                "targetColumn": "q_sb",
            }
        },
        {"parameters": {"sourceColumn": "price", "strategy": "Z_SCORE", "targetColumn": "p_z"}},
        {
            "parameters": {
                "sourceColumn": "qty",
                "strategy": "MEAN_NORMALIZATION",
                "targetColumn": "q_mn",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        if p["strategy"] == "SCALE_BETWEEN" and not p["lowerBound"] < p["upperBound"]:
            raise ConfigError(
                "SCALE_BETWEEN needs lowerBound < upperBound",
                fix='give e.g. lowerBound "0" and upperBound "10"',
            )

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        return numeric_stats(ctx, p["sourceColumn"], ["min", "max", "mean", "std"])

    def expr(self, p: Mapping[str, Any], s: Mapping[str, Any]) -> str:
        x = _x(p)
        lo, hi = s.get("min"), s.get("max")
        span = None if lo is None or hi is None else hi - lo
        strategy = p["strategy"]
        if strategy == "Z_SCORE":
            return _ratio(f"{x} - {num(s.get('mean'))}", s.get("std"))
        if strategy == "MEAN_NORMALIZATION":
            return _ratio(f"{x} - {num(s.get('mean'))}", span)
        unit = _ratio(f"{x} - {num(lo)}", span)
        if strategy == "MIN_MAX":
            return unit
        a, b = p["lowerBound"], p["upperBound"]
        return f"{num(a)} + {unit} * {num(b - a)}"


@register
class RobustScale(_Scaler):
    name = "ROBUST_SCALE"
    databrew = False
    doc = "Scale to (x - median) / IQR, robust to outliers (as scikit-learn's RobustScaler)."
    examples = ({"parameters": {"sourceColumn": "price", "targetColumn": "p_robust"}},)

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        return numeric_stats(ctx, p["sourceColumn"], [], [0.25, 0.5, 0.75])

    def expr(self, p: Mapping[str, Any], s: Mapping[str, Any]) -> str:
        q1, q3 = s.get("q0.25"), s.get("q0.75")
        iqr = None if q1 is None or q3 is None else q3 - q1
        return _ratio(f"{_x(p)} - {num(s.get('q0.5'))}", iqr)


@register
class MaxAbsScale(_Scaler):
    name = "MAX_ABS_SCALE"
    databrew = False
    doc = "Scale to x / max(|x|), into [-1, 1] keeping zero and sparsity."
    examples = ({"parameters": {"sourceColumn": "price", "targetColumn": "p_maxabs"}},)

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        return numeric_stats(ctx, p["sourceColumn"], ["maxabs"])

    def expr(self, p: Mapping[str, Any], s: Mapping[str, Any]) -> str:
        return _ratio(_x(p), s.get("maxabs"))


@register
class Binarization(Operation):
    name = "BINARIZATION"
    category = CATEGORY
    doc = (
        "A new INTEGER column: 1 where the value is above threshold, else 0 (flip: 1 where it "
        "is at or below). NULL stays NULL."
    )
    params = {
        **SRC_TGT,
        "threshold": Param("float"),
        "flip": Param("bool", required=False, default=False),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "price",
                "targetColumn": "expensive",
                "threshold": "11",
                "flip": "false",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        require_numeric(p, schema, self.name)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        x, t = _x(p), num(p["threshold"])
        above = f"{x} <= {t}" if p["flip"] else f"{x} > {t}"
        expr = f"CAST(CASE WHEN {x} IS NULL THEN NULL WHEN {above} THEN 1 ELSE 0 END AS INTEGER)"
        return ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])])


@register
class Skewness(Operation):
    name = "SKEWNESS"
    category = CATEGORY
    doc = (
        "A new column with a skew-reducing transform of the values: LOG (base `value`, "
        "default e; NULL for values <= 0), ROOT (degree `value`, default 2; odd roots keep "
        "the sign, even roots of negatives are NULL) or SQUARE."
    )
    params = {
        **SRC_TGT,
        "skewFunction": Param("choice", choices=SKEW_FUNCTIONS),
        "value": Param("float", required=False),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "price",
                "targetColumn": "p_log",
                "skewFunction": "LOG",
                "value": "2.718281828",
            }
        },
        {
            "parameters": {
                "sourceColumn": "price",
                "targetColumn": "p_cbrt",
                "skewFunction": "ROOT",
                "value": "3",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        require_numeric(p, schema, self.name)
        value = p["value"]
        if value is not None and (value <= 0 or (p["skewFunction"] == "LOG" and value == 1)):
            raise ConfigError(
                f"value {value} is not a usable {p['skewFunction']} argument",
                fix="give a positive base (not 1) for LOG, a positive degree for ROOT",
            )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        expr = skew_expr(_x(p), p["skewFunction"], p["value"])
        return ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])])


def _split(raw: Any) -> float:
    text = str(raw).strip().lower()
    if text in ("-infinity", "-inf"):
        return -math.inf
    if text in ("infinity", "inf", "+infinity"):
        return math.inf
    return float(text)


def _edge_json(edge: float) -> float | str:
    """An edge as strict JSON (infinities as the strings DataBrew uses)."""
    if math.isinf(edge):
        return "Infinity" if edge > 0 else "-Infinity"
    return edge


@register
class Bucketization(Operation):
    name = "BUCKETIZATION"
    category = CATEGORY
    learns = True
    doc = (
        "A new column naming each value's bin. With `splits` (n + 1 ascending edges, "
        "-Infinity / Infinity allowed) bin i holds edge[i] <= x < edge[i+1], the last bin also "
        "its upper edge; with `percentage` the edges are learned quantiles every `percentage` "
        "percent. Values outside every bin, and NULL, get NULL."
    )
    params = {
        **SRC_TGT,
        "bucketNames": Param("json", required=False, doc='["low", "mid", "high"]'),
        "splits": Param("json", required=False, doc='["-Infinity", "2", "20", "Infinity"]'),
        "percentage": Param("float", required=False),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "price",
                "targetColumn": "price_bin",
                "bucketNames": '["low", "mid", "high"]',
                "splits": '["-Infinity", "10", "12", "Infinity"]',
            }
        },
        {
            "parameters": {
                "sourceColumn": "price",
                "targetColumn": "price_half",
                "bucketNames": '["bottom", "top"]',
                "percentage": "50",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        require_numeric(p, schema, self.name)
        if (p["splits"] is None) == (p["percentage"] is None):
            raise ConfigError(
                "BUCKETIZATION needs exactly one of splits and percentage",
                fix='give splits as ["-Infinity", "10", "Infinity"] or percentage as "25"',
            )
        if p["splits"] is not None:
            try:
                edges = [_split(v) for v in p["splits"]]
            except (TypeError, ValueError):
                raise ConfigError(
                    f"splits {p['splits']!r} are not numbers",
                    fix='give splits as a JSON list like ["-Infinity", "10", "Infinity"]',
                ) from None
            if len(edges) < 2 or edges != sorted(edges) or len(set(edges)) != len(edges):
                raise ConfigError(
                    "splits must be at least two strictly ascending edges",
                    fix='give e.g. ["-Infinity", "10", "20", "Infinity"]',
                )
            count = len(edges) - 1
        else:
            pct = p["percentage"]
            if not 0 < pct <= 100 or not (100 / pct).is_integer():
                raise ConfigError(
                    f"percentage {pct} must divide 100 (e.g. 10, 25, 50)",
                    fix='give percentage as "25" for quartile bins',
                )
            count = int(100 / pct)
        names = p["bucketNames"]
        if names is not None and (not isinstance(names, list) or len(names) != count):
            raise ConfigError(
                f"bucketNames must list {count} names, one per bin",
                fix="give one name per bin, or leave bucketNames out to number the bins",
            )

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        if p["splits"] is not None:
            return {"splits": [_edge_json(_split(v)) for v in p["splits"]]}
        count = int(100 / p["percentage"])
        qs = [i / count for i in range(1, count)]
        st = numeric_stats(ctx, p["sourceColumn"], [], qs)
        return {"splits": ["-Infinity", *[st[f"q{q}"] for q in qs], "Infinity"]}

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        raw = (ctx.state or {}).get("splits") or ["-Infinity", "Infinity"]
        edges = [None if e is None else _split(e) for e in raw]
        x = _x(p)
        count = len(edges) - 1
        names = p["bucketNames"] or [str(i) for i in range(count)]
        whens = []
        for i in range(count):
            lo, hi = edges[i], edges[i + 1]
            if lo is None or hi is None:
                continue
            upper = "<=" if i == count - 1 else "<"
            whens.append(
                f"WHEN {x} >= {num(lo)} AND {x} {upper} {num(hi)} THEN {literal(str(names[i]))}"
            )
        expr = f"CASE {' '.join(whens)} END" if whens else "CAST(NULL AS VARCHAR)"
        return ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])])
