"""Advanced data types in text columns: detect, flag, filter, and extract details.

A value *is* of an advanced type when it matches that type's pattern (see ``_validity``:
email, URL, IP address, phone number, zip code, SSN, credit card, currency, gender, date/time).
Details that can be derived from the value itself are extracted:

- Date Time: DAY, MONTH, MONTH_NAME, WEEK (ISO), QUARTER, YEAR
- Credit Card: LENGTH (digits), NETWORK (Visa, Mastercard, American Express, Discover, by
  number prefix; other numbers: Other)
- URL: PROTOCOL, DOMAIN (the last two labels of the host), TLD
- Phone: COUNTRY_CODE (for +-prefixed numbers), AREA_CODE (North American numbers)
- Email: DOMAIN

Details that need reference data (time zones, cities or states of zip codes and phone numbers)
are rejected with an error when the recipe is loaded, never guessed. A value that is not of the
type, or has no such detail, gives NULL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._dates import parse_text
from lakebed.transform.ops._dual import Dual
from lakebed.transform.ops._stats import is_missing
from lakebed.transform.ops._validity import ADVANCED, advanced_name, matches
from lakebed.transform.ops.base import Ctx, Operation, Param, literal, quote

CATEGORY = "data quality: advanced data types"
DETAILS = {
    "DATE_TIME": ("DAY", "MONTH", "MONTH_NAME", "WEEK", "QUARTER", "YEAR"),
    "CREDIT_CARD": ("LENGTH", "NETWORK"),
    "URL": ("PROTOCOL", "DOMAIN", "TLD"),
    "PHONE_NUMBER": ("COUNTRY_CODE", "AREA_CODE"),
    "EMAIL": ("DOMAIN",),
}
DETECT_ORDER = (
    "EMAIL",
    "URL",
    "IP_ADDRESS",
    "SSN",
    "CREDIT_CARD",
    "ZIP_CODE",
    "PHONE_NUMBER",
    "CURRENCY",
    "GENDER",
    "DATE_TIME",
)


def _text(ctx: Ctx, col: str) -> str:
    return f"trim(CAST({quote(col)} AS VARCHAR))"


def _digits(d: Dual, text: str) -> str:
    return d.pick(
        "regexp_replace({0}, '[^0-9]', '', 'g')", "regexp_replace({0}, '[^0-9]', '')", text
    )


def _group(text: str, pattern: str) -> str:
    return f"nullif(regexp_extract({text}, {literal(pattern)}, 1), '')"


def detail(d: Dual, text: str, kind: str, pattern: str) -> str:
    """The text of detail ``pattern`` of advanced type ``kind`` (NULL if it has none)."""
    if kind == "DATE_TIME":
        ts = parse_text(d, text)
        part = {
            "DAY": ("day({0})", "dayofmonth({0})"),
            "MONTH": ("month({0})", "month({0})"),
            "WEEK": ("week({0})", "weekofyear({0})"),
            "QUARTER": ("quarter({0})", "quarter({0})"),
            "YEAR": ("year({0})", "year({0})"),
            "MONTH_NAME": ("monthname({0})", "date_format({0}, 'MMMM')"),
        }[pattern]
        return f"CAST({d.pick(part[0], part[1], ts)} AS VARCHAR)"
    if kind == "CREDIT_CARD":
        digits = _digits(d, text)
        if pattern == "LENGTH":
            return f"CAST(length({digits}) AS VARCHAR)"
        return (
            f"CASE WHEN {digits} LIKE '4%' THEN 'Visa' "
            f"WHEN substr({digits}, 1, 2) IN ('34', '37') THEN 'American Express' "
            f"WHEN substr({digits}, 1, 2) BETWEEN '51' AND '55' "
            f"OR substr({digits}, 1, 4) BETWEEN '2221' AND '2720' THEN 'Mastercard' "
            f"WHEN {digits} LIKE '6011%' OR {digits} LIKE '65%' THEN 'Discover' ELSE 'Other' END"
        )
    if kind == "URL":
        if pattern == "PROTOCOL":
            return f"lower({_group(text, '^([A-Za-z][A-Za-z0-9+.-]*)://')})"
        host = f"lower({_group(text, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)')})"
        if pattern == "TLD":
            return _group(host, "[.]([a-z0-9-]+)$")
        return f"coalesce({_group(host, '([^.]+[.][^.]+)$')}, {host})"
    if kind == "EMAIL":
        return f"lower({_group(text, '@(.+)$')})"
    if pattern == "COUNTRY_CODE":
        return _group(text, "^[+]([0-9]{1,3})[ (.-]")
    digits = _digits(d, text)
    nanp = (
        f"CASE WHEN length({digits}) = 10 THEN {digits} "
        f"WHEN length({digits}) = 11 AND {digits} LIKE '1%' THEN substr({digits}, 2) END"
    )
    return f"substr({nanp}, 1, 3)"


ADV: dict[str, Param] = {
    "sourceColumn": Param("column", doc="a text column"),
    "advancedDataType": Param("str", doc="Email, URL, Phone, Credit Card, Date Time, ..."),
    "pattern": Param("str", required=False, doc="the detail to compare, e.g. NETWORK"),
    "filterValues": Param("json", required=False, doc='detail values, e.g. ["Visa"]'),
}


def _check(
    p: Mapping[str, Any], schema: pa.Schema, need_pattern: bool = False
) -> tuple[str, str | None]:
    t = schema.field(p["sourceColumn"]).type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        raise ConfigError(
            f"sourceColumn {p['sourceColumn']!r} is {t}; advanced data types are in text",
            fix="convert the column with TO_STRING_COLUMN first",
        )
    kind = advanced_name(p["advancedDataType"])
    pattern = p.get("pattern")
    if pattern is None:
        if need_pattern:
            raise ConfigError("pattern is required", fix=f"give one of {DETAILS.get(kind, ())}")
        return kind, None
    pattern = str(pattern).strip().upper().replace("TIMEZONE", "TIME_ZONE")
    if pattern not in DETAILS.get(kind, ()):
        raise ConfigError(
            f"lakebed cannot extract {pattern} from {kind} values"
            + (" (it needs reference data)" if "ZONE" in pattern or kind == "ZIP_CODE" else ""),
            fix="supported: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in DETAILS.items()),
        )
    if p.get("filterValues") is not None and not isinstance(p["filterValues"], list):
        raise ConfigError("filterValues must be a JSON list", fix='give ["Visa", "Discover"]')
    return kind, pattern


def selected(p: Mapping[str, Any], ctx: Ctx, d: Dual) -> str:
    """Predicate: the value is of the type and (with pattern) its detail is in filterValues."""
    kind, pattern = _check(p, ctx.schema)
    text = _text(ctx, p["sourceColumn"])
    pred = matches(d, text, kind)
    if pattern is not None:
        values = [str(v) for v in p.get("filterValues") or []]
        inside = ", ".join(literal(v) for v in values) or "NULL"
        pred = f"({pred} AND coalesce({detail(d, text, kind, pattern)} IN ({inside}), FALSE))"
    return f"coalesce({pred}, FALSE)"


@register
class AdvancedDatatypeFlag(Operation):
    name = "ADVANCED_DATATYPE_FLAG"
    category = CATEGORY
    doc = (
        "A new column saying whether each value is of advancedDataType (and, with pattern, "
        "whether that detail is one of filterValues)."
    )
    params: ClassVar[Mapping[str, Param]] = {
        **ADV,
        "targetColumn": Param("new_column"),
        "trueString": Param("str", required=False, default="True"),
        "falseString": Param("str", required=False, default="False"),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "email",
                "advancedDataType": "Email",
                "targetColumn": "email_ok",
            }
        },
        {
            "parameters": {
                "sourceColumn": "notes",
                "advancedDataType": "URL",
                "pattern": "TLD",
                "filterValues": '["com"]',
                "targetColumn": "dotcom",
                "trueString": "yes",
                "falseString": "no",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        _check(p, schema)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        yes, no = literal(p["trueString"]), literal(p["falseString"])
        expr = f"CASE WHEN {selected(p, ctx, d)} THEN {yes} ELSE {no} END"
        return d.done(ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])]))


STRATEGIES = ("KEEP_ROWS", "DISCARD_ROWS", "CLEAR_FILTERS", "CLEAR_OTHERS")


@register
class AdvancedDatatypeFilter(Operation):
    name = "ADVANCED_DATATYPE_FILTER"
    category = CATEGORY
    doc = (
        "Keep or discard the rows whose value is of advancedDataType (and, with pattern, has a "
        "detail in filterValues), or clear those values (CLEAR_FILTERS) or the others "
        "(CLEAR_OTHERS) to NULL, or to empty with clearWithEmpty."
    )
    params: ClassVar[Mapping[str, Param]] = {
        **ADV,
        "strategy": Param("choice", required=False, default="KEEP_ROWS", choices=STRATEGIES),
        "clearWithEmpty": Param("bool", required=False, default=False),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "email",
                "advancedDataType": "Email",
                "strategy": "KEEP_ROWS",
            }
        },
        {
            "parameters": {
                "sourceColumn": "phone",
                "advancedDataType": "Phone",
                "pattern": "AREA_CODE",
                "filterValues": '["555"]',
                "strategy": "CLEAR_OTHERS",
                "clearWithEmpty": "true",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        _check(p, schema)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        hit = selected(p, ctx, d)
        strategy = p["strategy"]
        col = p["sourceColumn"]
        if strategy in ("KEEP_ROWS", "DISCARD_ROWS"):
            drop = f"NOT {hit}" if strategy == "KEEP_ROWS" else hit
            if ctx.condition is not None:
                drop = f"coalesce({ctx.condition}, FALSE) AND {drop}"
            return d.done(ctx.where(f"NOT ({drop})"))
        clear = hit if strategy == "CLEAR_FILTERS" else f"NOT {hit}"
        cleared = "''" if p["clearWithEmpty"] else "CAST(NULL AS VARCHAR)"
        expr = (
            f"CASE WHEN {clear} AND NOT {is_missing(ctx, col)} THEN {cleared} ELSE {quote(col)} END"
        )
        return d.done(ctx.project(replace={col: expr}))


@register
class ExtractAdvancedDatatypeDetails(Operation):
    name = "EXTRACT_ADVANCED_DATATYPE_DETAILS"
    category = CATEGORY
    doc = "A new text column with a detail (pattern) of each value of advancedDataType."
    params: ClassVar[Mapping[str, Param]] = {
        "sourceColumn": Param("column"),
        "advancedDataType": Param("str"),
        "pattern": Param("str"),
        "targetColumn": Param("new_column"),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "notes",
                "advancedDataType": "URL",
                "pattern": "DOMAIN",
                "targetColumn": "site",
            }
        },
        {
            "parameters": {
                "sourceColumn": "signup",
                "advancedDataType": "Date Time",
                "pattern": "MONTH_NAME",
                "targetColumn": "signup_month",
            }
        },
        {
            "parameters": {
                "sourceColumn": "phone",
                "advancedDataType": "Phone",
                "pattern": "AREA_CODE",
                "targetColumn": "area",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        _check(p, schema, need_pattern=True)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        kind, pattern = _check(p, ctx.schema, need_pattern=True)
        assert pattern is not None
        text = _text(ctx, p["sourceColumn"])
        expr = f"CASE WHEN {matches(d, text, kind)} THEN {detail(d, text, kind, pattern)} END"
        return d.done(ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])]))


@register
class GetAdvancedDatatype(Operation):
    name = "GET_ADVANCED_DATATYPE"
    category = CATEGORY
    learns = True
    doc = (
        "Detect the column's advanced data type at fit time (the first type, in a fixed order, "
        "that at least half of the non-missing values match, as DataBrew does) and add it as a "
        "text column <sourceColumn>_advanced_data_type (NULL when none)."
    )
    params: ClassVar[Mapping[str, Param]] = {"sourceColumn": Param("column")}
    examples = ({"parameters": {"sourceColumn": "email"}}, {"parameters": {"sourceColumn": "name"}})

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        _check({**p, "advancedDataType": "Email"}, schema)

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        d = Dual(ctx)
        col = p["sourceColumn"]
        text = _text(ctx, col)
        counts = ", ".join(
            f"sum(CASE WHEN {matches(d, text, kind)} THEN 1 ELSE 0 END) AS {kind.lower()}"
            for kind in DETECT_ORDER
        )
        row = d.query(
            f"SELECT count(*) AS n, {counts} FROM {ctx.input} WHERE NOT {is_missing(ctx, col)}"
        )[0]
        for kind in DETECT_ORDER:
            if row["n"] and (row[kind.lower()] or 0) * 2 >= row["n"]:
                return {"type": kind}
        return {"type": None}

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        found = (ctx.state or {}).get("type")
        value = literal(found) if found else "CAST(NULL AS VARCHAR)"
        col = p["sourceColumn"]
        return ctx.project(add=[(f"{col}_advanced_data_type", value, col)])


assert set(DETECT_ORDER) == {*ADVANCED, "DATE_TIME"}
