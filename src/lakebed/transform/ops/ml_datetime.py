"""Date/time featurisation (as SageMaker Data Wrangler's "featurize date/time"): numeric features
of a timestamp, date or date-text column for models that cannot read dates.

Definitions, identical on DuckDB and Spark: ``day_of_week`` is ISO (Monday 1 .. Sunday 7),
``week_of_year`` the ISO week (1..53), ``is_weekend`` 1 on Saturday and Sunday else 0,
``ordinal`` the days since 1970-01-01 (negative before). Cyclic encodings put a periodic feature
on the unit circle so that December sits next to January: for a feature with period ``P`` and
zero-based position ``v`` they are ``sin(2*pi*v/P)`` and ``cos(2*pi*v/P)``, with month
(``v = month - 1``, ``P = 12``), day of week (``v = dow - 1``, ``P = 7``), hour (``P = 24``) and
day of year (``v = doy - 1``, ``P`` = 365 or 366 in leap years). Text is parsed with the date
parsing policy of the date operations (``lakebed.transform.ops._dates``); text that is not a
date gives NULL features, as does NULL. Nothing is learned.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._dates import to_timestamp
from lakebed.transform.ops._dual import Dual
from lakebed.transform.ops.base import Ctx, Operation, Param

CATEGORY = "ml: date/time features"
TWO_PI = "6.283185307179586"
TS = "__lb_ts"

FEATURES = (
    "year", "month", "day", "day_of_week", "day_of_year", "hour", "minute", "second",
    "week_of_year", "quarter", "is_weekend", "ordinal",
)  # fmt: skip
"""The features FEATURIZE_DATETIME can add, in the order they are added."""
CYCLIC = ("month", "day_of_week", "hour", "day_of_year")
"""The features that get sin/cos encodings when ``cyclic`` is true."""
DEFAULT_FEATURES = ("year", "month", "day", "day_of_week", "hour")


def _features(p: Mapping[str, Any]) -> list[str]:
    raw = p["features"]
    if raw is None:
        return list(DEFAULT_FEATURES)
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw or not all(isinstance(f, str) for f in raw):
        raise ConfigError(
            "FEATURIZE_DATETIME: features must be a non-empty JSON list of feature names",
            fix='give features as e.g. ["year", "month", "day_of_week"]; choose from '
            + ", ".join(FEATURES),
        )
    wanted = [f.strip().lower() for f in raw]
    unknown = [f for f in wanted if f not in FEATURES]
    if unknown:
        raise ConfigError(
            f"FEATURIZE_DATETIME: unknown feature(s) {', '.join(unknown)} in features",
            fix="choose from " + ", ".join(FEATURES),
        )
    return [f for f in FEATURES if f in wanted]


def _prefix(p: Mapping[str, Any]) -> str:
    prefix = p["prefix"]
    return f"{p['sourceColumn']}_" if prefix is None else str(prefix)


def output_columns(p: Mapping[str, Any]) -> list[str]:
    """The names of the columns FEATURIZE_DATETIME adds, in order."""
    prefix = _prefix(p)
    out: list[str] = []
    for feature in _features(p):
        out.append(prefix + feature)
        if p["cyclic"] and feature in CYCLIC:
            out += [f"{prefix}{feature}_sin", f"{prefix}{feature}_cos"]
    return out


def _part(d: Dual, feature: str, ts: str) -> str:
    """The integer feature of the TIMESTAMP expression ``ts`` (DuckDB SQL with picks)."""
    iso_dow = d.pick("isodow({0})", "(weekday({0}) + 1)", ts)
    simple = {
        "year": f"year({ts})",
        "month": f"month({ts})",
        "day": f"dayofmonth({ts})",
        "day_of_year": f"dayofyear({ts})",
        "hour": f"hour({ts})",
        "minute": f"minute({ts})",
        "second": d.pick("second({0})", "second({0})", ts),
        "quarter": f"quarter({ts})",
        "week_of_year": d.pick("weekofyear({0})", "weekofyear({0})", ts),
    }
    if feature in simple:
        return f"CAST({simple[feature]} AS INTEGER)"
    if feature == "day_of_week":
        return f"CAST({iso_dow} AS INTEGER)"
    if feature == "is_weekend":
        return f"CAST(CASE WHEN {iso_dow} >= 6 THEN 1 WHEN {iso_dow} >= 1 THEN 0 END AS INTEGER)"
    if feature == "ordinal":
        days = d.pick(
            "date_diff('day', DATE '1970-01-01', CAST({0} AS DATE))",
            "datediff(CAST({0} AS DATE), DATE'1970-01-01')",
            ts,
        )
        return f"CAST({days} AS INTEGER)"
    raise AssertionError(feature)


def _angle(d: Dual, feature: str, ts: str) -> str:
    """The fraction of the feature's period (0 <= x < 1) as a DOUBLE expression."""
    if feature == "month":
        return f"(CAST({_part(d, 'month', ts)} AS DOUBLE) - 1.0) / 12.0"
    if feature == "day_of_week":
        return f"(CAST({_part(d, 'day_of_week', ts)} AS DOUBLE) - 1.0) / 7.0"
    if feature == "hour":
        return f"CAST({_part(d, 'hour', ts)} AS DOUBLE) / 24.0"
    year = _part(d, "year", ts)
    leap = f"(({year} % 4 = 0 AND {year} % 100 <> 0) OR {year} % 400 = 0)"
    days = f"(CASE WHEN {leap} THEN 366.0 ELSE 365.0 END)"
    return f"(CAST({_part(d, 'day_of_year', ts)} AS DOUBLE) - 1.0) / {days}"


@register
class FeaturizeDatetime(Operation):
    name = "FEATURIZE_DATETIME"
    category = CATEGORY
    databrew = False
    doc = (
        "Add numeric date/time features of sourceColumn (timestamp, date or date text) as new "
        "INTEGER columns <prefix><feature>: any of " + ", ".join(FEATURES) + " (day_of_week "
        "ISO: Monday 1; ordinal: days since 1970-01-01). With cyclic, month, day_of_week, hour "
        "and day_of_year also get DOUBLE <prefix><feature>_sin and _cos columns. Text that is "
        "not a date gives NULL features."
    )
    params = {
        "sourceColumn": Param("column", doc="a timestamp, date or date-text column"),
        "features": Param(
            "json",
            required=False,
            doc='JSON list, e.g. ["year", "month", "day_of_week"] (default year, month, day, '
            "day_of_week, hour)",
        ),
        "cyclic": Param("bool", required=False, default=False, doc="add sin/cos encodings"),
        "prefix": Param(
            "str", required=False, doc="prefix of the new columns (default <sourceColumn>_)"
        ),
    }
    examples = (
        {"parameters": {"sourceColumn": "ts", "features": '["year", "month", "day_of_week", '
                        '"hour", "is_weekend", "ordinal"]', "cyclic": "true"}},
        {"parameters": {"sourceColumn": "day", "features": '["day_of_year", "week_of_year", '
                        '"quarter"]', "cyclic": "true", "prefix": "d_"}},
        {"parameters": {"sourceColumn": "signup", "features": '["year", "month", "day", '
                        '"minute", "second", "ordinal"]'}},
    )  # fmt: skip

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        col = p["sourceColumn"]
        t = schema.field(col).type
        if not (
            pa.types.is_timestamp(t)
            or pa.types.is_date(t)
            or pa.types.is_string(t)
            or pa.types.is_large_string(t)
        ):
            raise ConfigError(
                f"FEATURIZE_DATETIME: sourceColumn {col!r} is {t}, not a date, timestamp or text",
                fix="pick a date/timestamp column or text holding dates",
            )
        taken = [c for c in output_columns(p) if c in schema.names]
        if taken:
            raise ConfigError(
                f"FEATURIZE_DATETIME: column(s) {', '.join(taken)} already exist",
                fix="give another prefix, or DELETE those columns first",
            )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        # the (possibly long) parsing expression is computed once, in a subquery
        inner = f"(SELECT *, {to_timestamp(d, ctx, p['sourceColumn'])} AS {TS} FROM {ctx.input})"
        ctx = dataclasses.replace(ctx, input=f"{inner} AS __lb_dt")
        ts = TS
        prefix = _prefix(p)
        add: list[tuple[str, str, str | None]] = []
        for feature in _features(p):
            add.append((prefix + feature, _part(d, feature, ts), p["sourceColumn"]))
            if p["cyclic"] and feature in CYCLIC:
                angle = f"{TWO_PI} * ({_angle(d, feature, ts)})"
                add.append((f"{prefix}{feature}_sin", f"sin({angle})", p["sourceColumn"]))
                add.append((f"{prefix}{feature}_cos", f"cos({angle})", p["sourceColumn"]))
        return d.done(ctx.project(add=add))
