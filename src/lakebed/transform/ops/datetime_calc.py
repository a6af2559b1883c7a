"""Date arithmetic and construction: add to dates, differences, time zone conversion, and
dates/times built from parts.

Sources are text (parsed per ``_dates``; unparseable text is NULL), dates or timestamps.
Results are TIMESTAMP (DATE for DATE) unless a ``dateTimeFormat`` asks for text. Adding months
clamps to the month's last day (Jan 31 + 1 month = Feb 29 in 2024). DATE_DIFF counts whole
units from the first date to the second (negative when the second is earlier).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._dates import format_ts, parse_text, to_timestamp
from lakebed.transform.ops._dual import Dual, spark_lit
from lakebed.transform.ops.base import Ctx, Operation, Param, literal, quote
from lakebed.transform.ops.datetime_parts import SOURCE, source_ts

CATEGORY = "dates and times"
UNITS = (
    "YEARS",
    "QUARTERS",
    "MONTHS",
    "WEEKS",
    "DAYS",
    "HOURS",
    "MINUTES",
    "SECONDS",
    "MILLISECONDS",
    "MICROSECONDS",
)
_SINGULAR = {u: u[:-1] for u in UNITS}


def add_units(d: Dual, ts: str, amount: int, unit: str) -> str:
    """``ts`` plus ``amount`` ``unit`` (DataBrew unit names)."""
    part = _SINGULAR[unit]
    n = amount
    if part == "QUARTER":
        part, n = "MONTH", amount * 3
    elif part == "WEEK":
        part, n = "DAY", amount * 7
    return d.pick(
        f"{{0}} + INTERVAL ({n}) {part}", f"timestampadd({_SINGULAR[unit]}, {amount}, {{0}})", ts
    )


def _formatted(d: Dual, ts: str, fmt: str | None) -> str:
    return ts if fmt is None else format_ts(d, ts, fmt)


@register
class DateAdd(Operation):
    name = "DATE_ADD"
    category = CATEGORY
    doc = "A new column with dateAddValue units added to the date (text when dateTimeFormat)."
    params = {
        **SOURCE,
        "units": Param("choice", choices=UNITS),
        "dateAddValue": Param("int"),
        "dateTimeFormat": Param("str", required=False),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "signup",
                "units": "DAYS",
                "dateAddValue": "14",
                "targetColumn": "signup_plus_14",
            }
        },
        {
            "parameters": {
                "sourceColumn": "ts",
                "units": "MONTHS",
                "dateAddValue": "-1",
                "dateTimeFormat": "mm/dd/yyyy",
                "targetColumn": "ts_minus_month",
            }
        },
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        ts = add_units(d, source_ts(p, ctx, d), p["dateAddValue"], p["units"])
        expr = _formatted(d, ts, p["dateTimeFormat"])
        return d.done(ctx.project(add=[(p["targetColumn"], expr, p.get("sourceColumn"))]))


@register
class DateDiff(Operation):
    name = "DATE_DIFF"
    category = CATEGORY
    doc = (
        "A new BIGINT column with the whole units from the first date (sourceColumn1 or "
        "value1) to the second (sourceColumn2 or value2)."
    )
    params = {
        "sourceColumn1": Param("column", required=False),
        "sourceColumn2": Param("column", required=False),
        "value1": Param("str", required=False),
        "value2": Param("str", required=False),
        "units": Param("choice", choices=UNITS),
        "targetColumn": Param("new_column"),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn1": "signup",
                "sourceColumn2": "day",
                "units": "DAYS",
                "targetColumn": "days_to_day",
            }
        },
        {
            "parameters": {
                "sourceColumn1": "ts",
                "value2": "2024-12-31",
                "units": "HOURS",
                "targetColumn": "hours_left",
            }
        },
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        a = source_ts(p, ctx, d, "sourceColumn1", "value1")
        b = source_ts(p, ctx, d, "sourceColumn2", "value2")
        part = _SINGULAR[p["units"]]
        expr = d.pick(
            f"date_sub({literal(part.lower())}, {{0}}, {{1}})",
            f"timestampdiff({part}, {{0}}, {{1}})",
            a,
            b,
        )
        after = p.get("sourceColumn2") or p.get("sourceColumn1")
        return d.done(ctx.project(add=[(p["targetColumn"], f"CAST({expr} AS BIGINT)", after)]))


_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*(?:([+-])(\d{1,2})(?::?(\d{2}))?)?$", re.IGNORECASE)


def _offset_minutes(zone: str) -> int | None:
    """Minutes east of UTC for ``UTC``, ``UTC+08:00``, ``+0530``, ``GMT-5``; None otherwise."""
    m = _OFFSET.match(zone.strip())
    if not m:
        return None
    if m.group(1) is None:
        return 0
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    return -minutes if m.group(1) == "-" else minutes


@register
class ConvertTimezone(Operation):
    name = "CONVERT_TIMEZONE"
    category = CATEGORY
    doc = (
        "A new column with the date and time moved from fromTimeZone to toTimeZone (UTC "
        "offsets like UTC+08:00, or IANA names like Europe/Paris, with daylight saving); "
        "text when dateTimeFormat is given."
    )
    params = {
        "sourceColumn": Param("column"),
        "fromTimeZone": Param("str", required=False, default="UTC"),
        "toTimeZone": Param("str", required=False, default="UTC"),
        "targetColumn": Param("new_column"),
        "dateTimeFormat": Param("str", required=False),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "ts",
                "fromTimeZone": "UTC",
                "toTimeZone": "UTC+08:00",
                "targetColumn": "ts_sg",
            }
        },
        {
            "parameters": {
                "sourceColumn": "signup",
                "fromTimeZone": "UTC-05:00",
                "toTimeZone": "UTC+01:00",
                "dateTimeFormat": "yyyy-mm-dd HH:MM",
                "targetColumn": "signup_cet",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        for key in ("fromTimeZone", "toTimeZone"):
            zone = p[key]
            if _offset_minutes(zone) is None and not re.fullmatch(
                r"[A-Za-z_]+(/[A-Za-z_+-]+)*", zone
            ):
                raise ConfigError(
                    f"{key} {zone!r} is not a time zone",
                    fix="give an offset like UTC+08:00 or a name like Europe/Paris",
                )

    def _to_utc(self, d: Dual, ts: str, zone: str) -> str:
        minutes = _offset_minutes(zone)
        if minutes is not None:
            return add_units(d, ts, -minutes, "MINUTES") if minutes else ts
        return d.pick(
            f"timezone('UTC', timezone({literal(zone)}, {{0}}))",
            f"to_utc_timestamp({{0}}, {spark_lit(zone)})",
            ts,
        )

    def _from_utc(self, d: Dual, ts: str, zone: str) -> str:
        minutes = _offset_minutes(zone)
        if minutes is not None:
            return add_units(d, ts, minutes, "MINUTES") if minutes else ts
        return d.pick(
            f"timezone({literal(zone)}, timezone('UTC', {{0}}))",
            f"from_utc_timestamp({{0}}, {spark_lit(zone)})",
            ts,
        )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        ts = to_timestamp(d, ctx, p["sourceColumn"])
        moved = self._from_utc(d, self._to_utc(d, ts, p["fromTimeZone"]), p["toTimeZone"])
        if (
            _offset_minutes(p["fromTimeZone"]) is not None
            and _offset_minutes(p["toTimeZone"]) is not None
        ):
            moved = d.pick("CAST({0} AS TIMESTAMP)", "CAST({0} AS TIMESTAMP_NTZ)", moved)
        expr = _formatted(d, moved, p["dateTimeFormat"])
        return d.done(ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])]))


_PARTS = (
    ("year", 4, 1, 9999),
    ("month", 2, 1, 12),
    ("day", 2, 1, 31),
    ("hour", 2, 0, 23),
    ("minute", 2, 0, 59),
    ("second", 2, 0, 59),
)


class _Build(Operation):
    """Build a date/time from dateTimeParameters: each part {"sourceColumn": c} or
    {"value": v} (or {} for the default: 1970-01-01 00:00:00 parts)."""

    category = CATEGORY
    params = {
        "dateTimeParameters": Param("json", doc='{"year": {"value": "2024"}, "month": {...}}'),
        "dateTimeFormat": Param("str", required=False),
        "targetColumn": Param("new_column"),
    }
    default_format: str | None = None
    date_parts = True

    def _part(self, spec: Any, name: str, schema: pa.Schema) -> str:
        default = {"year": "1970", "month": "1", "day": "1"}.get(name, "0")
        if not isinstance(spec, Mapping) or not spec:
            return literal(default)
        if "sourceColumn" in spec:
            col = spec["sourceColumn"]
            if col not in schema.names:
                raise ConfigError(
                    f"dateTimeParameters.{name} names column {col!r}, which the input lacks",
                    fix="use one of: " + ", ".join(schema.names),
                )
            return f"CAST({quote(col)} AS VARCHAR)"
        if "value" in spec:
            return literal(str(spec["value"]))
        raise ConfigError(
            f"dateTimeParameters.{name} must have sourceColumn or value",
            fix=f'write "{name}": {{"value": "{default}"}}',
        )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if not isinstance(p["dateTimeParameters"], Mapping):
            raise ConfigError(
                "dateTimeParameters must be a JSON object of parts",
                fix='give {"year": {"value": "2024"}, "month": {"value": "5"}, ...}',
            )
        for name, *_ in _PARTS:
            self._part(p["dateTimeParameters"].get(name), name, schema)

    def _text(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        pieces = []
        for name, width, low, high in _PARTS:
            spec = p["dateTimeParameters"].get(name)
            if not self.date_parts and name in ("year", "month", "day"):
                spec = None
            n = f"TRY_CAST(trim({self._part(spec, name, ctx.schema)}) AS BIGINT)"
            padded = f"lpad(CAST({n} AS VARCHAR), {width}, '0')"
            pieces.append(f"CASE WHEN {n} BETWEEN {low} AND {high} THEN {padded} END")
        y, mo, da, h, mi, s = pieces
        return f"concat({y}, '-', {mo}, '-', {da}, ' ', {h}, ':', {mi}, ':', {s})"

    def timestamp(self, p: Mapping[str, Any], ctx: Ctx, d: Dual) -> str:
        return parse_text(d, self._text(p, ctx))

    def finish(self, p: Mapping[str, Any], ctx: Ctx, d: Dual, ts: str) -> str:
        fmt = p["dateTimeFormat"] or self.default_format
        return ts if fmt is None else format_ts(d, ts, fmt)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        expr = self.finish(p, ctx, d, self.timestamp(p, ctx, d))
        return d.done(ctx.project(add=[(p["targetColumn"], expr, None)]))


_PARTS_EXAMPLE = (
    '{"year": {"value": "2024"}, "month": {"sourceColumn": "qty"}, "day": {"sourceColumn": "id"},'
    ' "hour": {"value": "13"}, "minute": {"value": "34"}, "second": {}}'
)


@register
class DateTime(_Build):
    name = "DATE_TIME"
    doc = "A TIMESTAMP from parts (columns or values); impossible dates are NULL. " + (
        _Build.__doc__ or ""
    )
    examples = ({"parameters": {"dateTimeParameters": _PARTS_EXAMPLE, "targetColumn": "made"}},)


@register
class Date(_Build):
    name = "DATE"
    doc = "A DATE from year, month and day parts (text when dateTimeFormat is given)."
    examples = (
        {"parameters": {"dateTimeParameters": _PARTS_EXAMPLE, "targetColumn": "made_date"}},
        {
            "parameters": {
                "dateTimeParameters": _PARTS_EXAMPLE,
                "dateTimeFormat": "mm/dd/yy",
                "targetColumn": "made_text",
            }
        },
    )

    def finish(self, p: Mapping[str, Any], ctx: Ctx, d: Dual, ts: str) -> str:
        if p["dateTimeFormat"] is None:
            return f"CAST({ts} AS DATE)"
        return format_ts(d, ts, p["dateTimeFormat"])


@register
class Time(_Build):
    name = "TIME"
    doc = "A text column with a time of day from hour, minute and second parts (HH:MM:SS)."
    default_format = "HH:MM:SS"
    date_parts = False
    examples = ({"parameters": {"dateTimeParameters": _PARTS_EXAMPLE, "targetColumn": "at"}},)
