"""Row filters as strings, e.g. ``"ts >= '2024-01-01' and country = 'DE'"``.

pyiceberg's filter parser wants full ISO-8601 timestamps (``'2024-01-01T00:00:00'``, with a zone
for zoned columns). People write dates and ``'2024-01-01 10:00'``; this module parses the filter
and rewrites such literals by the column's type, so the common forms just work.
"""

from __future__ import annotations

import re
from typing import Any

from pyiceberg.expressions import (
    AlwaysTrue,
    And,
    BooleanExpression,
    LiteralPredicate,
    Not,
    Or,
    SetPredicate,
    UnboundPredicate,
)
from pyiceberg.expressions.literals import StringLiteral
from pyiceberg.expressions.parser import parse
from pyiceberg.expressions.visitors import bind
from pyiceberg.schema import Schema
from pyiceberg.types import TimestampType, TimestamptzType

from lakebed.catalog.naming import did_you_mean
from lakebed.errors import QueryError

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(.*)")
_HELP = "write filters like \"ts >= '2024-01-01' and country = 'DE'\""


def _fix_timestamp(value: str, zoned: bool) -> str:
    if _DATE.fullmatch(value):
        value = f"{value}T00:00:00"
    match = _DATETIME.fullmatch(value)
    if not match:
        return value
    day, clock, zone = match.groups()
    if clock.count(":") == 1:
        clock += ":00"
    zone = zone.strip()
    if zone in ("Z", "z", "UTC"):
        zone = "+00:00"
    if zoned and not zone:
        zone = "+00:00"
    return f"{day}T{clock}{zone}"


def _rewrite_literal(value: Any, column_type: Any) -> Any:
    if isinstance(value, StringLiteral) and isinstance(
        column_type, TimestampType | TimestamptzType
    ):
        return _fix_timestamp(value.value, isinstance(column_type, TimestamptzType))
    return value


def _rewrite(expr: BooleanExpression, schema: Schema) -> BooleanExpression:
    if isinstance(expr, And):
        return And(_rewrite(expr.left, schema), _rewrite(expr.right, schema))
    if isinstance(expr, Or):
        return Or(_rewrite(expr.left, schema), _rewrite(expr.right, schema))
    if isinstance(expr, Not):
        return Not(_rewrite(expr.child, schema))
    if not isinstance(expr, UnboundPredicate):
        return expr
    name = expr.term.name if hasattr(expr.term, "name") else str(expr.term)
    try:
        column_type = schema.find_field(name, case_sensitive=False).field_type
    except ValueError:
        names = [f.name for f in schema.fields]
        raise QueryError(
            f"filter names column {name!r}, which the table does not have"
            f"{did_you_mean(name, names)}",
            fix=f"use one of: {', '.join(names)}",
        ) from None
    if isinstance(expr, LiteralPredicate):
        return type(expr)(expr.term, _rewrite_literal(expr.literal, column_type))
    if isinstance(expr, SetPredicate):
        values = [_rewrite_literal(lit, column_type) for lit in expr.literals]
        return type(expr)(expr.term, values)
    return expr


def parse_filter(text: str | None, schema: Schema) -> BooleanExpression:
    """The pyiceberg expression for ``text`` against ``schema``; QueryError if it is invalid."""
    if text is None or not text.strip():
        return AlwaysTrue()
    try:
        expr = parse(text)
    except Exception as exc:  # the parser raises pyparsing errors of several kinds
        raise QueryError(f"invalid filter {text!r}: {exc}", fix=_HELP) from None
    rewritten = _rewrite(expr, schema)
    try:
        bind(schema, rewritten, case_sensitive=False)
    except (ValueError, TypeError) as exc:
        raise QueryError(f"invalid filter {text!r}: {exc}", fix=_HELP) from None
    return rewritten
