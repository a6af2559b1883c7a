"""Helpers shared by the cleaning, text, split, formatting and PII operations.

Regular expressions: DuckDB uses RE2 and Spark Java's regex engine. Patterns are accepted only in
their common subset (no look-around, back-references, possessive quantifiers or atomic groups),
so a recipe matches the same text on both engines. Positions in DataBrew operations are
1-based and inclusive (``startPosition`` 3 and ``endPosition`` 9 is characters 3 to 9).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops.base import NUMERIC, Ctx, Param, literal, quote

WHITESPACE = r"[ \t\n\r\f]"
"""Whitespace as both regex engines read it (RE2's and Java's ``\\s`` differ on \\v)."""
SPECIAL = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
"""The punctuation DataBrew calls special characters."""

_UNPORTABLE = (
    (re.compile(r"\(\?<?[=!]"), "look-around (?=, ?!, ?<=, ?<!)"),
    (re.compile(r"\(\?>"), "atomic groups (?>...)"),
    (re.compile(r"(?<!\\)\\[1-9]"), "back-references \\1..\\9"),
    (re.compile(r"[*+?}][+]"), "possessive quantifiers (*+, ++, ?+)"),
    (re.compile(r"\\[zZGAQE]"), "\\A, \\z, \\Z, \\G, \\Q and \\E"),
)


def check_regex(pattern: str, param: str, op: str) -> None:
    """ConfigError unless ``pattern`` is a regex both engines read the same way."""
    if not pattern:
        raise ConfigError(f"{op}: {param} is empty", fix=f"give {param} as a regular expression")
    for test, what in _UNPORTABLE:
        if test.search(pattern):
            raise ConfigError(
                f"{op}: {param} {pattern!r} uses {what}, which DuckDB's RE2 does not support",
                fix="rewrite the pattern without it (lakebed runs it on DuckDB and Spark alike)",
            )
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigError(
            f"{op}: {param} {pattern!r} is not a valid regular expression ({exc})",
            fix=f"fix the regular expression in {param}",
        ) from None


def groups(pattern: str) -> int:
    """The number of capturing groups in ``pattern`` (checked with :func:`check_regex`)."""
    return re.compile(pattern).groups


def escape_regex(text: str) -> str:
    """``text`` as a regex matching it literally (portable between RE2 and Java)."""
    return "".join("\\" + c if c in r"\^$.|?*+()[]{}" else c for c in text)


def char_class(chars: str) -> str:
    """A regex character class body matching any of ``chars`` literally."""
    return "".join("\\" + c if c in "\\]^-[" else c for c in chars)


def replacement_text(ctx: Ctx, text: str) -> str:
    """``text`` escaped for a regexp_replace replacement on the engine (not yet a literal)."""
    if ctx.dialect == "spark":
        return text.replace("\\", "\\\\").replace("$", "\\$")
    return text.replace("\\", "\\\\")


def replacement(ctx: Ctx, text: str) -> str:
    """``text`` as a literal replacement string for regexp_replace on the engine."""
    return literal(replacement_text(ctx, text))


def backref(ctx: Ctx, n: int) -> str:
    """A back-reference to group ``n`` inside a regexp_replace replacement."""
    return f"${n}" if ctx.dialect == "spark" else f"\\{n}"


def text_of(ctx: Ctx, col: str) -> str:
    """Column ``col`` as text (cast when it is not a string column)."""
    return quote(col) if ctx.is_string(col) else f"CAST({quote(col)} AS VARCHAR)"


def regex_replace(ctx: Ctx, expr: str, pattern: str, repl_sql: str) -> str:
    """Replace every match of ``pattern`` in ``expr`` by ``repl_sql`` (a SQL string)."""
    flags = "" if ctx.dialect == "spark" else ", 'g'"
    return f"regexp_replace({expr}, {literal(pattern)}, {repl_sql}{flags})"


def new_column(p: Mapping[str, Any], schema: pa.Schema, param: str = "targetColumn") -> None:
    """ConfigError when the column a step would create already exists."""
    name = p.get(param)
    if name is not None and name in schema.names:
        raise ConfigError(
            f"column {name!r} ({param}) already exists",
            fix=f"pick another {param}, or DELETE the existing column first",
        )


def require_string(p: Mapping[str, Any], schema: pa.Schema, param: str, op: str) -> None:
    """ConfigError when the column named by ``param`` is not a string column."""
    name = p.get(param)
    if name is None or name not in schema.names:
        return
    t = schema.field(name).type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        raise ConfigError(
            f"{op}: column {name!r} is {t}, not text",
            fix=f"convert it first (CHANGE_DATA_TYPE to string) or pick a text column for {param}",
        )


def require_numeric(
    p: Mapping[str, Any], schema: pa.Schema, op: str, param: str = "sourceColumn"
) -> None:
    """ConfigError when the column named by ``param`` is not a numeric column."""
    col = p[param]
    t = schema.field(col).type
    if not any(test(t) for test in NUMERIC):
        raise ConfigError(
            f"{op}: {param} {col!r} is {t}, not a number",
            fix="pick a numeric column, or convert it first (TO_DOUBLE_COLUMN)",
        )


def positive(p: Mapping[str, Any], op: str, *names: str, zero: bool = False) -> None:
    """ConfigError unless each named integer parameter is >= 1 (or >= 0 with ``zero``)."""
    low = 0 if zero else 1
    for name in names:
        value = p.get(name)
        if value is not None and value < low:
            raise ConfigError(
                f"{op}: {name} must be at least {low}, got {value}",
                fix=f"give {name} as a whole number >= {low} (positions count from 1)",
            )


def positions(p: Mapping[str, Any], op: str) -> None:
    """ConfigError unless startPosition and endPosition are >= 1 and in order."""
    positive(p, op, "startPosition", "endPosition")
    if p["endPosition"] < p["startPosition"]:
        raise ConfigError(
            f"{op}: endPosition {p['endPosition']} is before startPosition {p['startPosition']}",
            fix="give endPosition >= startPosition",
        )


# Parameters most text functions share.
SOURCE = Param("column", doc="the column to read")
TARGET = Param("new_column", doc="the column to create")
OPT_SOURCE = Param("column", required=False, doc="the column to read (or give value)")
OPT_VALUE = Param("value", required=False, doc="a constant to use instead of sourceColumn")


def one_of(
    p: Mapping[str, Any], column: str, value: str, op: str = "", what: str = "a constant"
) -> None:
    """ConfigError unless exactly one of ``column`` and ``value`` is given.

    ``what`` says what belongs in ``value`` (for the fix); ``op`` prefixes the message.
    """
    if (p.get(column) is None) == (p.get(value) is None):
        prefix = f"{op}: " if op else ""
        raise ConfigError(
            f"{prefix}give exactly one of {column} and {value}: either {column} or {value}, "
            "not both",
            fix=f"name a column in {column}, or put {what} in {value}",
        )


def operand(ctx: Ctx, p: Mapping[str, Any], col: str = "sourceColumn", val: str = "value") -> str:
    """The text operand of a function step: the column (as text) or the constant."""
    if p.get(col) is not None:
        return text_of(ctx, p[col])
    return literal(p[val])


def after(p: Mapping[str, Any], col: str = "sourceColumn") -> str | None:
    """Where a created column goes: right after the source column (or at the end)."""
    value = p.get(col)
    return value if isinstance(value, str) else None
