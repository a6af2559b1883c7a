"""Date and time parts: year, month, day, hour, ..., week day and number, month name, Unix
time, formatting, and the job's current time (NOW, TODAY).

The source is ``sourceColumn`` (text, date or timestamp) or a literal ``value``; text is parsed
with the documented list of layouts (see ``_dates``), and text that is not a date gives NULL.
Parts are INTEGER; WEEK_DAY is ISO (1 = Monday ... 7 = Sunday) and WEEK_NUMBER the ISO week.
Times are in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._common import after, one_of
from lakebed.transform.ops._dates import DEFAULT_FORMAT, format_ts, to_timestamp, value_timestamp
from lakebed.transform.ops._dual import Dual
from lakebed.transform.ops.base import NUMERIC, Ctx, Operation, Param, literal, quote

CATEGORY = "dates and times"
SOURCE: dict[str, Param] = {
    "sourceColumn": Param("column", required=False, doc="a text, date or timestamp column"),
    "value": Param("str", required=False, doc="a date as text, instead of sourceColumn"),
    "targetColumn": Param("new_column"),
}


_DATE = "a date like 2024-01-31"


def source_ts(
    p: Mapping[str, Any], ctx: Ctx, d: Dual, col: str = "sourceColumn", val: str = "value"
) -> str:
    """The TIMESTAMP the step reads: parameter ``col`` or ``val``, exactly one of them."""
    one_of(p, col, val, what=_DATE)
    if p.get(col) is not None:
        return to_timestamp(d, ctx, p[col])
    return value_timestamp(d, p[val])


class _Part(Operation):
    category = CATEGORY
    params: ClassVar[Mapping[str, Param]] = SOURCE
    duck = ""
    spark = ""
    kind = "INTEGER"

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        one_of(p, "sourceColumn", "value", what=_DATE)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        ts = source_ts(p, ctx, d)
        expr = d.pick(self.duck, self.spark, ts)
        if self.kind:
            expr = f"CAST({expr} AS {self.kind})"
        return d.done(ctx.project(add=[(p["targetColumn"], expr, after(p))]))


def _part(name: str, duck: str, spark: str, doc: str, kind: str = "INTEGER") -> None:
    cls = type(
        name.title().replace("_", ""),
        (_Part,),
        {
            "name": name,
            "duck": duck,
            "spark": spark,
            "kind": kind,
            "doc": doc,
            "__doc__": doc,
            "examples": (
                {
                    "parameters": {
                        "sourceColumn": "signup",
                        "targetColumn": f"signup_{name.lower()}",
                    }
                },
                {"parameters": {"sourceColumn": "ts", "targetColumn": f"ts_{name.lower()}"}},
            ),
        },
    )
    register(cls)


_part("YEAR", "year({0})", "year({0})", "The year of a date.")
_part("MONTH", "month({0})", "month({0})", "The month (1-12) of a date.")
_part("DAY", "day({0})", "dayofmonth({0})", "The day of the month (1-31) of a date.")
_part("HOUR", "hour({0})", "hour({0})", "The hour (0-23) of a date and time.")
_part("MINUTE", "minute({0})", "minute({0})", "The minute (0-59) of a date and time.")
_part("SECOND", "second({0})", "second({0})", "The second (0-59) of a date and time.")
_part(
    "MILLISECOND",
    "millisecond({0}) % 1000",
    "CAST(date_format({0}, 'SSS') AS INT)",
    "The millisecond (0-999) within the second.",
)
_part("QUARTER", "quarter({0})", "quarter({0})", "The quarter (1-4) of a date.")
_part(
    "WEEK_DAY",
    "isodow({0})",
    "(dayofweek({0}) + 5) % 7 + 1",
    "The ISO day of the week: 1 = Monday ... 7 = Sunday.",
)
_part("WEEK_NUMBER", "week({0})", "weekofyear({0})", "The ISO week number (1-53).")
_part(
    "MONTH_NAME",
    "monthname({0})",
    "date_format({0}, 'MMMM')",
    "The month's English name (January ... December).",
    kind="VARCHAR",
)
_part(
    "UNIX_TIME",
    "floor(epoch({0}))",
    "unix_timestamp({0})",
    "Seconds since 1970-01-01 00:00:00 UTC.",
    kind="BIGINT",
)


@register
class DateFormat(Operation):
    name = "DATE_FORMAT"
    category = CATEGORY
    doc = (
        "A new text column with the date formatted by dateTimeFormat (DataBrew letters: yyyy, "
        "yy, mm month, dd, HH, MM minute, SS second)."
    )
    params = {**SOURCE, "dateTimeFormat": Param("str", required=False, default=DEFAULT_FORMAT)}
    examples = (
        {
            "parameters": {
                "sourceColumn": "signup",
                "dateTimeFormat": "dd/mm/yyyy",
                "targetColumn": "signup_text",
            }
        },
        {
            "parameters": {
                "sourceColumn": "ts",
                "dateTimeFormat": "yyyy-mm-dd HH:MM",
                "targetColumn": "ts_text",
            }
        },
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        expr = format_ts(d, source_ts(p, ctx, d), p["dateTimeFormat"])
        return d.done(ctx.project(add=[(p["targetColumn"], expr, after(p))]))


@register
class UnixTimeFormat(Operation):
    name = "UNIX_TIME_FORMAT"
    category = CATEGORY
    doc = "A new text column with Unix seconds (a number column) formatted by dateTimeFormat."
    params = {
        "sourceColumn": Param("column"),
        "targetColumn": Param("new_column"),
        "dateTimeFormat": Param("str", required=False, default=DEFAULT_FORMAT),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "id",
                "dateTimeFormat": "yyyy-mm-dd HH:MM:SS",
                "targetColumn": "id_time",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        t = schema.field(p["sourceColumn"]).type
        if not any(test(t) for test in NUMERIC):
            raise ConfigError(
                f"sourceColumn {p['sourceColumn']!r} is {t}, not Unix seconds",
                fix="pick a numeric column of seconds since 1970",
            )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        secs = f"CAST({quote(p['sourceColumn'])} AS DOUBLE)"
        ts = d.pick(
            "make_timestamp(CAST(round({0} * 1000000) AS BIGINT))",
            "CAST(timestamp_micros(CAST(round({0} * 1000000) AS BIGINT)) AS TIMESTAMP_NTZ)",
            secs,
        )
        expr = format_ts(d, ts, p["dateTimeFormat"])
        return d.done(ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])]))


def _start(p: Mapping[str, Any]) -> dt.datetime:
    raw = p.get("startTime")
    if raw is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    try:
        value = dt.datetime.fromisoformat(str(raw).strip())
    except ValueError:
        raise ConfigError(
            f"startTime {raw!r} is not an ISO date and time",
            fix="give startTime as 2024-05-01T12:00:00",
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


NOW_PARAMS = {
    "targetColumn": Param("new_column"),
    "startTime": Param(
        "str",
        required=False,
        doc="lakebed: the job's start time (ISO, UTC); by default the time the step is built",
    ),
}


@register
class Now(Operation):
    name = "NOW"
    category = CATEGORY
    doc = (
        "A TIMESTAMP column with the job's start time (UTC), the same on every row and engine: "
        "read once when the step is built, or given as startTime."
    )
    params = NOW_PARAMS
    examples = ({"parameters": {"targetColumn": "now", "startTime": "2024-05-01T12:30:00"}},)

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        _start(p)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        text = _start(p).isoformat(sep=" ")
        d = Dual(ctx)
        expr = d.pick(
            f"CAST({literal(text)} AS TIMESTAMP)", f"CAST({literal(text)} AS TIMESTAMP_NTZ)"
        )
        return d.done(ctx.project(add=[(p["targetColumn"], expr, None)]))


@register
class Today(Now):
    name = "TODAY"
    doc = "A DATE column with the job's start date (UTC); see NOW."
    examples = ({"parameters": {"targetColumn": "today", "startTime": "2024-05-01T23:59:00"}},)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        text = _start(p).date().isoformat()
        return ctx.project(add=[(p["targetColumn"], f"CAST({literal(text)} AS DATE)", None)])
