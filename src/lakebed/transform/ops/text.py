"""Text functions: each reads a column (sourceColumn) or a constant (value) and writes the result
to a new column (targetColumn), placed after the source column.

Positions count from 1. Patterns are regular expressions in the subset DuckDB and Spark share.
``ignoreCase`` ignores the case of ASCII letters on both engines (DuckDB also folds other
letters, Spark's Java regex does not). Comparisons are by Unicode code point.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._common import (
    OPT_SOURCE,
    OPT_VALUE,
    TARGET,
    WHITESPACE,
    after,
    check_regex,
    new_column,
    one_of,
    operand,
    positions,
    positive,
    text_of,
)
from lakebed.transform.ops.base import Ctx, Operation, Param, literal, quote
from lakebed.transform.ops.cleaning import capital_case

CATEGORY = "text"
ANY = "(?s:.)"


class _Func(Operation):
    """sourceColumn or value in, targetColumn out."""

    category = CATEGORY
    extra: Mapping[str, Param] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.params = {
            "sourceColumn": OPT_SOURCE,
            "value": OPT_VALUE,
            **cls.extra,
            "targetColumn": TARGET,
        }

    def expr(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> str:
        raise NotImplementedError

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        one_of(p, "sourceColumn", "value", self.name)
        new_column(p, schema)
        for name in ("position", "count"):
            positive(p, self.name, name, zero=name == "count")
        if "startPosition" in p:
            positions(p, self.name)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        expr = self.expr(p, ctx, operand(ctx, p))
        return ctx.project(add=[(p["targetColumn"], expr, after(p))])


def _func(name: str, doc: str, template: str, example: str = "name", **extra: Param) -> None:
    def expr(self: _Func, p: Mapping[str, Any], ctx: Ctx, s: str) -> str:
        return template.format(s=s, **{k: p[k] for k in extra})

    params = {k: v for k, v in extra.items()}
    ex_params = {"sourceColumn": example, "targetColumn": f"{example}_{name.lower()}"}
    ex_params.update({k: str(v.default) for k, v in extra.items() if v.default is not None})
    cls = type(
        name.title().replace("_", ""),
        (_Func,),
        {
            "name": name,
            "doc": doc,
            "extra": params,
            "expr": expr,
            "examples": ({"parameters": ex_params},),
        },
    )
    register(cls)


_func("LOWER", "Lower-case text.", "lower({s})")
_func("UPPER", "Upper-case text.", "upper({s})")
_func("PROPER", "Capitalise each space-separated word.", capital_case("{s}"))
_func("TRIM", "Remove leading and trailing spaces.", "trim({s})")
_func("LEN", "The number of characters.", "CAST(length({s}) AS BIGINT)")
_func(
    "REMOVE_WHITESPACE",
    "Remove every whitespace character.",
    "regexp_replace({s}, '" + WHITESPACE + "+', '', 'g')",
    example="notes",
)
_func(
    "REMOVE_SYMBOLS",
    "Remove every character that is not a letter, a digit or whitespace.",
    r"regexp_replace({s}, '[^\p{{L}}\p{{N}} \t\n\r\f]+', '', 'g')",
    example="notes",
)
_func(
    "LEFT",
    "The first `position` characters.",
    "left({s}, {position})",
    position=Param("int", default=3, doc="how many characters"),
)
_func(
    "RIGHT",
    "The last `position` characters.",
    "right({s}, {position})",
    position=Param("int", default=3, doc="how many characters"),
)
_func(
    "REPEAT_STRING",
    "The text repeated `count` times.",
    "repeat({s}, {count})",
    example="city",
    count=Param("int", default=2),
)
_func(
    "SUBSTRING",
    "Characters startPosition to endPosition (from 1, inclusive).",
    "substr({s}, {startPosition}, {endPosition} - {startPosition} + 1)",
    startPosition=Param("int", default=2),
    endPosition=Param("int", default=4),
)


def _utf8_hex(n: str) -> str:
    """SQL giving the UTF-8 bytes of code point ``n`` as hex (Spark's chr() is Latin-1 only)."""

    def byte(value: str) -> str:
        return f"lpad(hex({value}), 2, '0')"

    def cont(shift: int) -> str:
        return byte(f"128 + floor({n} / {64**shift}) % 64")

    return (
        f"CASE WHEN {n} < 128 THEN {byte(n)} "
        f"WHEN {n} < 2048 THEN {byte(f'192 + floor({n} / 64)')} || {cont(0)} "
        f"WHEN {n} < 65536 THEN {byte(f'224 + floor({n} / 4096)')} || {cont(1)} || {cont(0)} "
        f"ELSE {byte(f'240 + floor({n} / 262144)')} || {cont(2)} || {cont(1)} || {cont(0)} END"
    )


@register
class Char(_Func):
    name = "CHAR"
    doc = "The character with the given Unicode code point (NULL for invalid code points)."
    examples = (
        {"parameters": {"sourceColumn": "qty", "targetColumn": "qty_char"}},
        {"parameters": {"value": "233", "targetColumn": "e_acute"}},
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        if p.get("sourceColumn") is not None:
            col = p["sourceColumn"]
            n = (
                quote(col)
                if ctx.is_numeric(col)
                else f"TRY_CAST(trim({text_of(ctx, col)}) AS DOUBLE)"
            )
        else:
            n = f"TRY_CAST({literal(p['value'])} AS DOUBLE)"
        code = f"CAST(floor({n}) AS INTEGER)"
        valid = f"({n} >= 1 AND {n} < 1114112 AND NOT ({n} >= 55296 AND {n} < 57344))"
        if ctx.dialect == "spark":
            char = f"CAST(unhex({_utf8_hex(code)}) AS VARCHAR)"
        else:
            char = f"chr({code})"
        return ctx.project(
            add=[(p["targetColumn"], f"CASE WHEN {valid} THEN {char} END", after(p))]
        )


@register
class Unicode(_Func):
    name = "UNICODE"
    doc = "The Unicode code point of the first character (NULL for empty text)."
    examples = ({"parameters": {"sourceColumn": "name", "targetColumn": "name_code"}},)

    def expr(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> str:
        fn = "ascii" if ctx.dialect == "spark" else "unicode"
        return f"CASE WHEN length({s}) > 0 THEN CAST({fn}({s}) AS BIGINT) END"


class _Pattern(_Func):
    extra = {"pattern": Param("str", doc="a regular expression")}

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        check_regex(p["pattern"], "pattern", self.name)


@register
class StartsWith(_Pattern):
    name = "STARTS_WITH"
    doc = "True when the text starts with a match of pattern."
    examples = (
        {
            "parameters": {
                "sourceColumn": "city",
                "pattern": "[A-Z]",
                "targetColumn": "city_capital",
            }
        },
    )

    def expr(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> str:
        return f"regexp_matches({s}, {literal('^(?:' + p['pattern'] + ')')})"


@register
class EndsWith(_Pattern):
    name = "ENDS_WITH"
    doc = "True when the text ends with a match of pattern."
    examples = (
        {"parameters": {"sourceColumn": "email", "pattern": "\\.com", "targetColumn": "is_com"}},
    )

    def expr(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> str:
        return f"regexp_matches({s}, {literal('(?:' + p['pattern'] + ')$')})"


class _Find(_Pattern):
    extra = {
        "pattern": Param("str", doc="a regular expression"),
        "position": Param("int", required=False, default=1, doc="where to start, from 1"),
        "ignoreCase": Param("bool", required=False, default=False),
    }

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        positive(p, self.name, "position")


@register
class Find(_Find):
    name = "FIND"
    doc = (
        "The position (from 1) of the first match of pattern at or after `position`, "
        "or NULL when there is none."
    )
    examples = (
        {
            "parameters": {
                "sourceColumn": "name",
                "pattern": "[aeiou]",
                "position": "2",
                "ignoreCase": "true",
                "targetColumn": "first_vowel",
            }
        },
    )

    def expr(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> str:
        flags = "(?i)" if p["ignoreCase"] else ""
        start = p["position"]
        rest = f"substr({s}, {start})"
        pattern = literal(f"{flags}(?:{p['pattern']})")
        prefix = literal(f"{flags}^({ANY}*?)(?:{p['pattern']})")
        return (
            f"CASE WHEN regexp_matches({rest}, {pattern}) THEN CAST({start} + "
            f"length(regexp_extract({rest}, {prefix}, 1)) AS BIGINT) END"
        )


@register
class RightFind(_Find):
    name = "RIGHT_FIND"
    doc = (
        "Searching from the right, the position (from 1, counted from the left) of the last "
        "match of pattern that ends at least `position` - 1 characters before the end."
    )
    examples = (
        {"parameters": {"sourceColumn": "email", "pattern": "\\.", "targetColumn": "last_dot"}},
    )

    def expr(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> str:
        flags = "(?i)" if p["ignoreCase"] else ""
        head = f"substr({s}, 1, length({s}) - {p['position'] - 1})"
        pattern = literal(f"{flags}(?:{p['pattern']})")
        prefix = literal(f"{flags}^({ANY}*)(?:{p['pattern']})")
        return (
            f"CASE WHEN regexp_matches({head}, {pattern}) THEN CAST(1 + "
            f"length(regexp_extract({head}, {prefix}, 1)) AS BIGINT) END"
        )


class _TwoOperands(Operation):
    """Functions of two strings: sourceColumn1/value1 and sourceColumn2/value2."""

    category = CATEGORY
    params = {
        "sourceColumn1": Param("column", required=False),
        "sourceColumn2": Param("column", required=False),
        "value1": Param("value", required=False),
        "value2": Param("value", required=False),
        "targetColumn": TARGET,
    }
    op = "="

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        for n in ("1", "2"):
            if (p.get("sourceColumn" + n) is None) == (p.get("value" + n) is None):
                raise ConfigError(
                    f"{self.name}: give either sourceColumn{n} or value{n}",
                    fix=f"set sourceColumn{n} to a column or value{n} to a constant",
                )
        new_column(p, schema)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        a = operand(ctx, p, "sourceColumn1", "value1")
        b = operand(ctx, p, "sourceColumn2", "value2")
        expr = f"coalesce({a} {self.op} {b}, FALSE)"
        where = p.get("sourceColumn2") or p.get("sourceColumn1")
        return ctx.project(add=[(p["targetColumn"], expr, where)])


for _name, _op, _doc in (
    ("EXACT", "=", "True when both texts are exactly equal (case-sensitive); NULL gives false."),
    ("STRING_GREATER_THAN", ">", "True when the first text sorts after the second."),
    (
        "STRING_GREATER_THAN_EQUAL",
        ">=",
        "True when the first text sorts after or equals the second.",
    ),
    ("STRING_LESS_THAN", "<", "True when the first text sorts before the second."),
    ("STRING_LESS_THAN_EQUAL", "<=", "True when the first text sorts before or equals the second."),
):
    register(
        type(
            _name.title().replace("_", ""),
            (_TwoOperands,),
            {
                "name": _name,
                "op": _op,
                "doc": _doc,
                "examples": (
                    {
                        "parameters": {
                            "sourceColumn1": "name",
                            "sourceColumn2": "city",
                            "targetColumn": "cmp",
                        }
                    },
                    {
                        "parameters": {
                            "sourceColumn1": "city",
                            "value2": "Oslo",
                            "targetColumn": "cmp",
                        }
                    },
                ),
            },
        )
    )


def merge(ctx: Ctx, p: Mapping[str, Any]) -> str:
    """The source columns' text joined by the delimiter, NULLs skipped (NULL when all are)."""
    cols = p["sourceColumns"]
    parts = ", ".join(text_of(ctx, c) for c in cols)
    nulls = " AND ".join(f"{quote(c)} IS NULL" for c in cols)
    joined = f"concat_ws({literal(p.get('delimiter') or '')}, {parts})"
    return f"CASE WHEN {nulls} THEN NULL ELSE {joined} END"
