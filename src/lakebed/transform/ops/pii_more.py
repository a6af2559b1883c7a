"""PII, continued: mask dates, replace with seeded random values, shuffle values, redact.

Random values come from :meth:`Ctx.rand` (an MD5 of the seed, the column and the row position),
so both engines and every re-run with the same seed give the same values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._common import check_regex, regex_replace, replacement, text_of
from lakebed.transform.ops.base import ROW, Ctx, Operation, Param, literal, quote
from lakebed.transform.ops.structure import convert

CATEGORY = "pii"
_SOURCES = Param("columns", doc="the columns to change")
_SEED = Param("int", required=False, default=0, doc="random seed (lakebed)")
_PARTS = ("YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND", "MILLISECOND")


@register
class MaskDate(Operation):
    name = "MASK_DATE"
    category = CATEGORY
    doc = (
        "Write dates as yyyy-mm-dd (timestamps as yyyy-mm-dd hh:mm:ss) with the parts in "
        "redact (YEAR, MONTH, DAY, HOUR, MINUTE, SECOND) replaced by maskSymbol. Text columns "
        "must hold ISO dates; other text becomes NULL."
    )
    params = {
        "sourceColumns": _SOURCES,
        "maskSymbol": Param("str", required=False, default="#"),
        "redact": Param("json", doc='date parts to mask, e.g. ["YEAR"]'),
        "locale": Param("str", required=False, doc="ignored: dates are written with digits"),
    }
    examples = (
        {"parameters": {"sourceColumns": '["day", "signup"]', "redact": '["YEAR"]'}},
        {
            "parameters": {
                "sourceColumns": '["ts"]',
                "redact": '["DAY", "MINUTE", "SECOND"]',
                "maskSymbol": "*",
            }
        },
    )

    def _redact(self, p: Mapping[str, Any]) -> set[str]:
        raw = p["redact"]
        raw = [raw] if isinstance(raw, str) else raw
        if not isinstance(raw, list) or not raw or any(str(x).upper() not in _PARTS for x in raw):
            raise ConfigError(
                f"MASK_DATE: redact {p['redact']!r} must list date parts",
                fix="give redact as a JSON list of " + ", ".join(_PARTS),
            )
        return {str(x).upper() for x in raw}

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        self._redact(p)
        if len(p["maskSymbol"] or "") != 1:
            raise ConfigError("maskSymbol must be one character", fix='give maskSymbol as "#"')
        for col in p["sourceColumns"]:
            t = schema.field(col).type
            if not (pa.types.is_temporal(t) or pa.types.is_string(t)):
                raise ConfigError(
                    f"MASK_DATE: column {col!r} is {t}, not a date",
                    fix="pick date, timestamp or ISO date text columns",
                )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        redact, sym = self._redact(p), p["maskSymbol"]
        replace = {}
        for col in p["sourceColumns"]:
            t = ctx.type_of(col)
            value = quote(col) if pa.types.is_temporal(t) else convert(ctx, col, "TIMESTAMP")

            def part(name: str, fn: str, width: int, v: str = value) -> str:
                if name in redact:
                    return literal(sym * width)
                return f"lpad(CAST({fn}({v}) AS VARCHAR), {width}, '0')"

            date = " || '-' || ".join(
                (part("YEAR", "year", 4), part("MONTH", "month", 2), part("DAY", "day", 2))
            )
            time = " || ':' || ".join(
                (part("HOUR", "hour", 2), part("MINUTE", "minute", 2), part("SECOND", "second", 2))
            )
            if pa.types.is_date(t):
                expr = date
            elif pa.types.is_timestamp(t):
                expr = f"{date} || ' ' || {time}"
            else:
                short = f"length(trim({quote(col)})) <= 10"
                expr = f"CASE WHEN {short} THEN {date} ELSE {date} || ' ' || {time} END"
            replace[col] = f"CASE WHEN {value} IS NOT NULL THEN {expr} END"
        return ctx.project(replace=replace)


@register
class ReplaceWithRandomBetween(Operation):
    name = "REPLACE_WITH_RANDOM_BETWEEN"
    category = CATEGORY
    doc = (
        "Replace values (not NULLs) with random numbers from lowerBound to upperBound: whole "
        "numbers when both bounds are whole (inclusive), decimals otherwise."
    )
    params = {
        "sourceColumns": _SOURCES,
        "lowerBound": Param("float"),
        "upperBound": Param("float"),
        "seed": _SEED,
    }
    examples = (
        {
            "parameters": {
                "sourceColumns": '["qty", "price"]',
                "lowerBound": "1",
                "upperBound": "100",
            }
        },
        {
            "parameters": {
                "sourceColumns": '["price"]',
                "lowerBound": "0.5",
                "upperBound": "2.5",
                "seed": "7",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if p["upperBound"] < p["lowerBound"]:
            raise ConfigError("upperBound is below lowerBound", fix="give lowerBound <= upperBound")

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        lo, hi = p["lowerBound"], p["upperBound"]
        whole = lo.is_integer() and hi.is_integer()
        replace = {}
        for col in p["sourceColumns"]:
            r = ctx.rand(p["seed"], col)
            if whole:
                value = f"CAST({int(lo)} + floor({r} * {int(hi) - int(lo) + 1}) AS BIGINT)"
            else:
                value = f"CAST({lo!r} + {r} * {hi - lo!r} AS DOUBLE)"
            replace[col] = f"CASE WHEN {quote(col)} IS NOT NULL THEN {value} END"
        return ctx.project(replace=replace)


def _when(text: str, param: str) -> tuple[dt.datetime, bool]:
    """A bound as a datetime, and whether it was a date without a time."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"{param} {text!r} is not a date",
            fix=f"give {param} as yyyy-mm-dd or yyyy-mm-dd hh:mm:ss",
        ) from None
    return value.replace(tzinfo=None), len(text.strip()) <= 10


@register
class ReplaceWithRandomDateBetween(Operation):
    name = "REPLACE_WITH_RANDOM_DATE_BETWEEN"
    category = CATEGORY
    doc = (
        "Replace values (not NULLs) with random dates from startDate to endDate (inclusive): "
        "dates when both bounds are dates, timestamps (whole seconds) otherwise."
    )
    params = {
        "sourceColumns": _SOURCES,
        "startDate": Param("str"),
        "endDate": Param("str"),
        "seed": _SEED,
    }
    examples = (
        {
            "parameters": {
                "sourceColumns": '["day"]',
                "startDate": "2020-01-01",
                "endDate": "2020-12-31",
            }
        },
        {
            "parameters": {
                "sourceColumns": '["ts", "signup"]',
                "startDate": "2020-12-12 12:12:12",
                "endDate": "2021-12-12 12:12:12",
                "seed": "3",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        start, _ = _when(p["startDate"], "startDate")
        end, _ = _when(p["endDate"], "endDate")
        if end < start:
            raise ConfigError("endDate is before startDate", fix="give startDate <= endDate")

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        start, start_is_date = _when(p["startDate"], "startDate")
        end, end_is_date = _when(p["endDate"], "endDate")
        dates = start_is_date and end_is_date
        replace = {}
        for col in p["sourceColumns"]:
            r = ctx.rand(p["seed"], col)
            if dates:
                k = f"CAST(floor({r} * {(end - start).days + 1}) AS INTEGER)"
                base = f"CAST({literal(start.date().isoformat())} AS DATE)"
                value = f"date_add({base}, {k})" if ctx.dialect == "spark" else f"({base} + {k})"
            else:
                span = int((end - start).total_seconds())
                k = f"CAST(floor({r} * {span + 1}) AS BIGINT)"
                base = f"CAST({literal(start.isoformat(sep=' '))} AS TIMESTAMP)"
                if ctx.dialect == "spark":
                    value = f"({base} + make_interval(0, 0, 0, 0, 0, 0, {k}))"
                else:
                    value = f"({base} + to_seconds({k}))"
            replace[col] = f"CASE WHEN {quote(col)} IS NOT NULL THEN {value} END"
        return ctx.project(replace=replace)


@register
class ShuffleRows(Operation):
    name = "SHUFFLE_ROWS"
    category = CATEGORY
    doc = (
        "Shuffle the values of sourceColumns between rows (within groups of groupByColumns), "
        "seeded: the other columns stay where they are."
    )
    conditions = False
    params = {
        "sourceColumns": _SOURCES,
        "groupByColumns": Param("columns", required=False),
        "seed": _SEED,
    }
    examples = (
        {"parameters": {"sourceColumns": '["name", "email"]'}},
        {
            "parameters": {
                "sourceColumns": '["price"]',
                "groupByColumns": '["category"]',
                "seed": "5",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        overlap = set(p["sourceColumns"]) & set(p.get("groupByColumns") or [])
        if overlap:
            raise ConfigError(
                f"SHUFFLE_ROWS: {', '.join(sorted(overlap))} both shuffled and grouped by",
                fix="a column is either in sourceColumns or in groupByColumns",
            )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        groups = [quote(g) for g in p.get("groupByColumns") or []]
        part = f"PARTITION BY {', '.join(groups)} " if groups else ""
        r = ctx.rand(p["seed"], "shuffle")
        base = (
            f"SELECT *, row_number() OVER ({part}ORDER BY {ROW}) AS __lb_pos, "
            f"row_number() OVER ({part}ORDER BY {r}, {ROW}) AS __lb_pick FROM {ctx.input}"
        )
        on = " AND ".join(
            [*(f"t.{g} IS NOT DISTINCT FROM s.{g}" for g in groups), "t.__lb_pos = s.__lb_pick"]
        )
        cols = ", ".join(
            f"{'s' if c in p['sourceColumns'] else 't'}.{quote(c)}" for c in ctx.columns
        )
        return f"WITH b AS ({base}) SELECT {cols}, t.{ROW} FROM b AS t JOIN b AS s ON {on}"


@register
class Redact(Operation):
    name = "REDACT"
    category = CATEGORY
    databrew = False
    doc = (
        "Replace whole values (not NULLs), or only the matches of pattern, with a fixed text "
        "('[REDACTED]' by default)."
    )
    params = {
        "sourceColumns": _SOURCES,
        "pattern": Param("str", required=False, doc="redact only the matches of this regex"),
        "replacement": Param("str", required=False, default="[REDACTED]"),
    }
    examples = (
        {"parameters": {"sourceColumns": '["name"]'}},
        {"parameters": {"sourceColumns": '["notes"]', "pattern": "[0-9]+", "replacement": "<n>"}},
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if p.get("pattern") is not None:
            check_regex(p["pattern"], "pattern", self.name)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        replace = {}
        for col in p["sourceColumns"]:
            c = quote(col)
            if p.get("pattern"):
                replace[col] = regex_replace(
                    ctx, text_of(ctx, col), p["pattern"], replacement(ctx, p["replacement"])
                )
            else:
                replace[col] = f"CASE WHEN {c} IS NOT NULL THEN {literal(p['replacement'])} END"
        return ctx.project(replace=replace)
