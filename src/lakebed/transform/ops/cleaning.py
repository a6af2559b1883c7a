"""Cleaning operations that rewrite a column in place: case, quotes, prefixes, removing
characters, formatting dates; and REMOVE_VALUES, the row filter driven by a condition.

Non-text columns are read as text (the column becomes text). NULL stays NULL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._common import (
    SPECIAL,
    WHITESPACE,
    char_class,
    regex_replace,
    replacement,
    text_of,
)
from lakebed.transform.ops.base import Ctx, Operation, Param, literal, quote
from lakebed.transform.ops.structure import convert

CATEGORY = "cleaning"


def capital_case(expr: str) -> str:
    """Every space-separated word with its first letter upper case and the rest lower case."""
    return (
        f"array_to_string(list_transform(string_split(lower({expr}), ' '), "
        "lambda w: upper(left(w, 1)) || substr(w, 2)), ' ')"
    )


def sentence_case(expr: str) -> str:
    """The first character upper case, the rest lower case."""
    return f"(upper(left({expr}, 1)) || lower(substr({expr}, 2)))"


class _InPlace(Operation):
    """A text function applied to ``sourceColumn`` in place."""

    category = CATEGORY
    params = {"sourceColumn": Param("column")}
    examples: ClassVar[Sequence[Mapping[str, Any]]] = ({"parameters": {"sourceColumn": "name"}},)

    def expr(self, p: Mapping[str, Any], ctx: Ctx, text: str) -> str:
        raise NotImplementedError

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        col = p["sourceColumn"]
        text = text_of(ctx, col)
        # rows outside the condition keep their value, as text (a column has one type)
        return ctx.project(replace={col: ctx.guarded(self.expr(p, ctx, text), text)}, guard=False)


def _simple(name: str, doc: str, template: str, **extra: Param) -> None:
    def expr(self: _InPlace, p: Mapping[str, Any], ctx: Ctx, text: str) -> str:
        values = {k: literal(p[k]) for k in extra}
        return template.format(s=text, **values)

    params = {"sourceColumn": Param("column"), **extra}
    attrs: dict[str, Any] = {"name": name, "doc": doc, "params": params, "expr": expr}
    if extra:
        attrs["examples"] = ({"parameters": {"sourceColumn": "city", "pattern": "x-"}},)
    register(type(name.title().replace("_", ""), (_InPlace,), attrs))


_simple("UPPER_CASE", "Change every letter to upper case.", "upper({s})")
_simple("LOWER_CASE", "Change every letter to lower case.", "lower({s})")
_simple("ADD_DOUBLE_QUOTES", 'Enclose values in double quotes (")', "('\"' || {s} || '\"')")
_simple("ADD_SINGLE_QUOTES", "Enclose values in single quotes (').", "('''' || {s} || '''')")
_simple(
    "ADD_PREFIX",
    "Put pattern in front of every value.",
    "({pattern} || {s})",
    pattern=Param("str", doc="the text to put in front"),
)
_simple(
    "ADD_SUFFIX",
    "Put pattern after every value.",
    "({s} || {pattern})",
    pattern=Param("str", doc="the text to append"),
)


@register
class CapitalCase(_InPlace):
    name = "CAPITAL_CASE"
    doc = "Capitalise every word (words split on spaces): 'aLICE smith' -> 'Alice Smith'."

    def expr(self, p: Mapping[str, Any], ctx: Ctx, text: str) -> str:
        return capital_case(text)


@register
class SentenceCase(_InPlace):
    name = "SENTENCE_CASE"
    doc = "Upper-case the first character and lower-case the rest: 'hELLO World' -> 'Hello world'."

    def expr(self, p: Mapping[str, Any], ctx: Ctx, text: str) -> str:
        return sentence_case(text)


_PUNCTUATION = char_class(".!,?")
_QUOTES = char_class("\"'")
_BOOL = Param("bool", required=False, default=False)


@register
class RemoveCombined(_InPlace):
    name = "REMOVE_COMBINED"
    doc = (
        "Remove kinds of characters: letters, numbers, special characters, punctuation "
        "(. ! , ?), quotes, whitespace (all, leading/trailing, or collapse runs to one space), "
        "custom characters or a custom value."
    )
    params = {
        "sourceColumn": Param("column"),
        "customCharacters": Param("str", required=False),
        "customValue": Param("str", required=False),
        **{
            k: _BOOL
            for k in (
                "removeCustomCharacters",
                "removeCustomValue",
                "removeLetters",
                "removeNumbers",
                "removeSpecialCharacters",
                "removeAllPunctuation",
                "removeAllQuotes",
                "removeLeadingAndTrailingPunctuation",
                "removeLeadingAndTrailingQuotes",
                "removeAllWhitespace",
                "removeLeadingAndTrailingWhitespace",
                "collapseConsecutiveWhitespace",
            )
        },
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "notes",
                "removeSpecialCharacters": "true",
                "collapseConsecutiveWhitespace": "true",
                "removeLeadingAndTrailingWhitespace": "true",
            }
        },
        {
            "parameters": {
                "sourceColumn": "phone",
                "removeLetters": "true",
                "removeCustomCharacters": "true",
                "customCharacters": "()+",
                "removeAllWhitespace": "true",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        for flag, value in (
            ("removeCustomCharacters", "customCharacters"),
            ("removeCustomValue", "customValue"),
        ):
            if p.get(flag) and not p.get(value):
                raise ConfigError(
                    f"REMOVE_COMBINED: {flag} is true but {value} is empty",
                    fix=f"give {value}, or set {flag} to false",
                )

    def expr(self, p: Mapping[str, Any], ctx: Ctx, text: str) -> str:
        e = text
        if p.get("removeCustomValue"):
            e = f"replace({e}, {literal(p['customValue'])}, '')"
        steps: list[tuple[str, str, str]] = [
            ("removeCustomCharacters", f"[{char_class(p.get('customCharacters') or ' ')}]", ""),
            ("removeLetters", "[A-Za-z]", ""),
            ("removeNumbers", "[0-9]", ""),
            ("removeSpecialCharacters", f"[{char_class(SPECIAL)}]", ""),
            ("removeAllPunctuation", f"[{_PUNCTUATION}]", ""),
            ("removeAllQuotes", f"[{_QUOTES}]", ""),
            ("removeLeadingAndTrailingPunctuation", f"^[{_PUNCTUATION}]+|[{_PUNCTUATION}]+$", ""),
            ("removeLeadingAndTrailingQuotes", f"^[{_QUOTES}]+|[{_QUOTES}]+$", ""),
            ("removeAllWhitespace", f"{WHITESPACE}+", ""),
            ("removeLeadingAndTrailingWhitespace", f"^{WHITESPACE}+|{WHITESPACE}+$", ""),
            ("collapseConsecutiveWhitespace", f"{WHITESPACE}{{2,}}", " "),
        ]
        for flag, pattern, repl in steps:
            if p.get(flag):
                e = regex_replace(ctx, e, pattern, replacement(ctx, repl))
        return _spaces_shortcut(p, text, e) if ctx.is_string(p["sourceColumn"]) else e


_SPACES = ("removeLeadingAndTrailingWhitespace", "collapseConsecutiveWhitespace")


def _spaces_shortcut(p: Mapping[str, Any], text: str, full: str) -> str:
    """``full`` (the regular expressions) only for the values that need them, when the step
    trims or collapses whitespace and does nothing else: text whose only whitespace is single
    spaces is just trimmed (or kept as it is). Regular expressions cost far more per row than
    ``contains`` and ``trim``, and most values are clean already."""
    flags = {k for k, v in p.items() if v is True}
    if not flags or not flags <= set(_SPACES):
        return full
    rare = [f"contains({text}, chr({n}))" for n in (9, 10, 12, 13)]
    if "collapseConsecutiveWhitespace" in flags:
        rare.insert(0, f"contains({text}, '  ')")
    fast = f"trim({text})" if "removeLeadingAndTrailingWhitespace" in flags else text
    return f"CASE WHEN {' OR '.join(rare)} THEN {full} ELSE {fast} END"


_FORMAT_TOKENS = (
    ("yyyy", "%Y"), ("yy", "%y"), ("month", "%B"), ("mon", "%b"), ("mm", "%m"),
    ("dd", "%d"), ("HH", "%H"), ("MM", "%M"), ("SS", "%S"),
)  # fmt: skip


def strftime_format(fmt: str, param: str = "targetDateFormat") -> str:
    """A DataBrew date format (yyyy, yy, month, mon, mm, dd, HH, MM, SS) as strftime format."""
    out, i = [], 0
    while i < len(fmt):
        for token, code in _FORMAT_TOKENS:
            if fmt.startswith(token, i):
                out.append(code)
                i += len(token)
                break
        else:
            c = fmt[i]
            if c.isalpha() or c in "%'[]{}#":
                raise ConfigError(
                    f"{param} {fmt!r}: {c!r} at position {i + 1} is not a date part",
                    fix="build the format from yyyy, yy, month, mon, mm, dd, HH, MM, SS and "
                    "separators such as - / . : , or spaces, e.g. mm/dd/yyyy",
                )
            out.append(c)
            i += 1
    return "".join(out)


@register
class FormatDate(_InPlace):
    name = "FORMAT_DATE"
    doc = (
        "Format a date, timestamp or ISO date text as text, e.g. mm/dd/yyyy, mm-dd-yyyy, "
        "'dd month yyyy', 'month yyyy', 'dd month' (English month names). Text that is not an "
        "ISO date (yyyy-mm-dd[ hh:mm:ss]) becomes NULL."
    )
    params = {"sourceColumn": Param("column"), "targetDateFormat": Param("str")}
    examples = (
        {"parameters": {"sourceColumn": "signup", "targetDateFormat": "mm/dd/yyyy"}},
        {"parameters": {"sourceColumn": "day", "targetDateFormat": "dd month yyyy"}},
        {"parameters": {"sourceColumn": "ts", "targetDateFormat": "yyyy-mm-dd HH:MM"}},
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        strftime_format(p["targetDateFormat"])
        t = schema.field(p["sourceColumn"]).type
        if not (pa.types.is_temporal(t) or pa.types.is_string(t) or pa.types.is_large_string(t)):
            raise ConfigError(
                f"FORMAT_DATE: column {p['sourceColumn']!r} is {t}, not a date",
                fix="pick a date, timestamp or text column",
            )

    def expr(self, p: Mapping[str, Any], ctx: Ctx, text: str) -> str:
        col = p["sourceColumn"]
        value = quote(col) if ctx.is_temporal(col) else convert(ctx, col, "TIMESTAMP")
        return f"strftime({value}, {literal(strftime_format(p['targetDateFormat']))})"


@register
class RemoveValues(Operation):
    name = "REMOVE_VALUES"
    category = "filtering"
    doc = (
        "Remove the rows where the step's conditions hold (rows where a condition is unknown, "
        "e.g. compares NULL, stay). Needs ConditionExpressions."
    )
    params = {"sourceColumn": Param("column", doc="the column the condition is about")}
    examples = (
        {
            "parameters": {"sourceColumn": "city"},
            "conditions": [
                {"Condition": "IS", "TargetColumn": "city", "Value": '["Paris", "Rome"]'}
            ],
        },
        {
            "parameters": {"sourceColumn": "price"},
            "conditions": [{"Condition": "GREATER_THAN", "TargetColumn": "price", "Value": "100"}],
        },
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        if ctx.condition is None:
            raise ConfigError(
                "REMOVE_VALUES needs ConditionExpressions saying which rows to remove",
                fix='add e.g. "ConditionExpressions": [{"Condition": "IS_MISSING", '
                f'"TargetColumn": "{p["sourceColumn"]}"}}]',
            )
        return ctx.where(f"NOT coalesce({ctx.condition}, FALSE)")
