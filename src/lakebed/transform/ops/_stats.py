"""Fitting helpers: column statistics computed the same way on every engine.

Statistics are learned once (``fit``) and stored with the recipe version, so applying the
recipe to new data reuses them (no train/serve skew). Definitions, identical on DuckDB and
Spark: mean is the arithmetic mean, ``std`` the sample standard deviation, quantiles are exact
with linear interpolation as DuckDB's ``quantile_cont`` (computed by :mod:`._quantiles` in
bounded memory; the median is the 0.5 quantile), the mode is the most frequent value with
ties broken by ``modeType`` (``MINIMUM``/``NONE``: the smallest, ``MAXIMUM``: the largest,
``AVERAGE``: the mean of the tied values). NULL and NaN values are ignored; an empty column
gives None.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from lakebed.transform.ops._dual import Dual
from lakebed.transform.ops._quantiles import exact_quantiles
from lakebed.transform.ops.base import Ctx, blank, quote

MODE_TYPES = ("MINIMUM", "MAXIMUM", "AVERAGE", "NONE")


def as_double(ctx: Ctx, col: str) -> str:
    """``col`` as DOUBLE (text that is not a number becomes NULL)."""
    if ctx.is_numeric(col):
        return f"CAST({quote(col)} AS DOUBLE)"
    return f"TRY_CAST({quote(col)} AS DOUBLE)"


def _clean(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def numeric_stats(
    ctx: Ctx,
    col: str,
    wanted: Sequence[str],
    quantiles: Sequence[float] = (),
    where: str | None = None,
    expr: str | None = None,
) -> dict[str, float | None]:
    """Aggregates of numeric ``col`` (or of the DOUBLE expression ``expr``): any of mean, std,
    min, max, sum, count, maxabs, and the given quantiles (keys ``q<p>``, e.g. ``q0.5``)."""
    d = Dual(ctx)
    x = "__lb_x"
    aggs = {
        "mean": f"avg({x})",
        "std": f"stddev_samp({x})",
        "min": f"min({x})",
        "max": f"max({x})",
        "sum": f"sum({x})",
        "count": f"count({x})",
        "maxabs": f"max(abs({x}))",
    }
    if quantiles:
        wanted = list(dict.fromkeys([*wanted, "count", "min", "max"]))
    filt = f"{x} IS NOT NULL AND NOT isnan({x})"
    if where:
        filt += f" AND ({where})"
    source = f"(SELECT {expr or as_double(ctx, col)} AS {x} FROM {ctx.input}) AS s WHERE {filt}"
    parts = [f"{aggs[w]} AS {w}" for w in wanted]
    row = d.query(f"SELECT {', '.join(parts)} FROM {source}")[0]
    out: dict[str, float | None] = {w: _clean(row[w]) for w in wanted}
    if quantiles:
        out.update(_quantiles(d, source, x, row, quantiles))
    return out


def _quantiles(
    d: Dual, source: str, x: str, stats: dict[str, Any], probs: Sequence[float]
) -> dict[str, float | None]:
    """Exact quantiles (keys ``q<p>``), computed in Python from the values at the ranks they
    need (:mod:`._quantiles`): the same on every engine, in memory that does not grow with
    the rows."""
    n = int(stats["count"] or 0)
    if n == 0:
        return {f"q{p}": None for p in probs}
    values = exact_quantiles(d.query, source, x, n, stats["min"], stats["max"], probs)
    return {f"q{p}": _clean(v) for p, v in zip(probs, values, strict=True)}


def mode_value(
    ctx: Ctx, col: str, mode_type: str, where: str | None = None, d: Dual | None = None
) -> Any:
    """The most frequent non-missing value of ``col`` (among rows where ``where`` holds, a
    predicate built with the Dual ``d``), ties broken by ``mode_type``."""
    c = quote(col)
    filt = f"{c} IS NOT NULL"
    if ctx.is_string(col):
        filt += f" AND NOT {blank(c)}"
    if ctx.is_numeric(col):
        filt += f" AND NOT isnan(CAST({c} AS DOUBLE))"
    if where:
        filt += f" AND ({where})"
    d = d or Dual(ctx)
    rows = d.query(
        f"SELECT v, n FROM (SELECT {c} AS v, count(*) AS n, max(count(*)) OVER () AS top "
        f"FROM {ctx.input} WHERE {filt} GROUP BY {c}) AS g WHERE n = top ORDER BY v"
    )
    values = [r["v"] for r in rows]
    if not values:
        return None
    if mode_type == "MAXIMUM":
        return _plain(values[-1])
    if mode_type == "AVERAGE" and ctx.is_numeric(col):
        return sum(float(v) for v in values) / len(values)
    return _plain(values[0])


def _plain(value: Any) -> Any:
    """A JSON-able form of a value read back from an engine."""
    import datetime as dt
    import decimal

    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return value


_INT_TYPES = {8: "TINYINT", 16: "SMALLINT", 32: "INTEGER", 64: "BIGINT"}


def sql_type(ctx: Ctx, col: str) -> str | None:
    """The DuckDB type name of a scalar column (None for nested types)."""
    import pyarrow as pa

    t = ctx.type_of(col)
    if pa.types.is_integer(t):
        return _INT_TYPES.get(t.bit_width, "BIGINT")
    if pa.types.is_floating(t):
        return "FLOAT" if t.bit_width == 32 else "DOUBLE"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision}, {t.scale})"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "VARCHAR"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP"
    return None


def value_sql(ctx: Ctx, col: str, value: Any) -> str:
    """``value`` (a fitted or given value) as a literal of ``col``'s type; NULL when None."""
    from lakebed.transform.ops._dual import num
    from lakebed.transform.ops.base import literal

    target = sql_type(ctx, col)
    if value is None:
        return f"CAST(NULL AS {target})" if target else "NULL"
    if target in ("DOUBLE", "FLOAT"):
        return f"CAST({num(value)} AS {target})"
    if target == "VARCHAR" or target is None:
        return literal(str(value) if not isinstance(value, float) else repr(value))
    if target == "BOOLEAN":
        return "TRUE" if str(value).lower() in ("true", "1") else "FALSE"
    return f"CAST({literal(str(value))} AS {target})"


def is_missing(ctx: Ctx, col: str) -> str:
    """Predicate: ``col`` is missing (NULL; for text also empty or only spaces; NaN)."""
    c = quote(col)
    if ctx.is_string(col):
        return f"({c} IS NULL OR {blank(c)})"
    import pyarrow as pa

    if pa.types.is_floating(ctx.type_of(col)):
        return f"({c} IS NULL OR isnan({c}))"
    return f"({c} IS NULL)"
