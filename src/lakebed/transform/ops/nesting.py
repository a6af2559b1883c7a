"""Nesting and unnesting: columns into arrays, maps and structs, and back (as Glue's
relationalize flattens nested JSON: structs into dotted columns, arrays into rows)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops.base import NUMERIC, ROW, Ctx, Native, Operation, Param, literal, quote

CATEGORY = "nesting"

_NEST = {
    "sourceColumns": Param("columns", doc="the columns to nest, as a JSON list"),
    "targetColumn": Param("new_column", doc="the new nested column"),
    "removeSourceColumns": Param("bool", required=False, default=False),
}


def _common(ctx: Ctx, cols: list[str]) -> str | None:
    """The SQL type every value of ``cols`` is cast to, None when they already agree."""
    types = {ctx.type_of(c) for c in cols}
    if len(types) == 1:
        return None
    if all(any(test(t) for test in NUMERIC) for t in types):
        return "DOUBLE"
    return "VARCHAR"


def _nested(p: Mapping[str, Any], ctx: Ctx, expr: str) -> str:
    cols = p["sourceColumns"]
    drop = cols if p["removeSourceColumns"] else []
    after = None if drop else cols[-1]
    return ctx.project(add=[(p["targetColumn"], expr, after)], drop=drop)


@register
class NestToArray(Operation):
    name = "NEST_TO_ARRAY"
    category = CATEGORY
    doc = "Put the values of several columns into one array column, in the order given."
    params = _NEST
    examples = ({"parameters": {"sourceColumns": '["price", "qty"]', "targetColumn": "pq"}},)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        cast = _common(ctx, p["sourceColumns"])
        items = [f"CAST({quote(c)} AS {cast})" if cast else quote(c) for c in p["sourceColumns"]]
        return _nested(p, ctx, f"list_value({', '.join(items)})")


@register
class NestToMap(Operation):
    name = "NEST_TO_MAP"
    category = CATEGORY
    doc = "Put several columns into one map column: column name -> value."
    params = _NEST
    examples = (
        {
            "parameters": {
                "sourceColumns": '["name", "city"]',
                "targetColumn": "m",
                "removeSourceColumns": "true",
            }
        },
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        cols = p["sourceColumns"]
        cast = _common(ctx, cols)
        keys = ", ".join(literal(c) for c in cols)
        values = ", ".join(f"CAST({quote(c)} AS {cast})" if cast else quote(c) for c in cols)
        return _nested(p, ctx, f"map([{keys}], [{values}])")


@register
class NestToStruct(Operation):
    name = "NEST_TO_STRUCT"
    category = CATEGORY
    doc = "Put several columns into one struct column, keeping each column's name and type."
    params = _NEST
    examples = (
        {"parameters": {"sourceColumns": '["id", "name", "price"]', "targetColumn": "rec"}},
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        fields = ", ".join(f"{quote(c)} := {quote(c)}" for c in p["sourceColumns"])
        return _nested(p, ctx, f"struct_pack({fields})")


@register
class UnnestArray(Operation):
    name = "UNNEST_ARRAY"
    category = CATEGORY
    doc = (
        "One row per element of an array column, the element in targetColumn. A row whose "
        "array is empty or NULL is kept once, with NULL (nothing is lost)."
    )
    conditions = False
    params = {
        "sourceColumn": Param("column", doc="an array column"),
        "targetColumn": Param("new_column", doc="the column for the elements"),
    }
    examples = ({"parameters": {"sourceColumn": "tags", "targetColumn": "tag"}},)

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if not pa.types.is_list(schema.field(p["sourceColumn"]).type):
            raise ConfigError(
                f"column {p['sourceColumn']!r} is not an array",
                fix="pick an array column (or SPLIT a text column first)",
            )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        src, target = p["sourceColumn"], p["targetColumn"]
        names = [c for c in ctx.columns if c != target]
        at = names.index(src) + 1
        if ctx.dialect == "spark":
            cols = [f"i.`{c}`" for c in names]
            cols.insert(at, f"e.v AS `{target}`")
            return Native(
                f"SELECT {', '.join(cols)}, row_number() OVER (ORDER BY i.{ROW}, e.pos) - 1 "
                f"AS {ROW} FROM {ctx.input.replace(chr(34), '`')} i LATERAL VIEW OUTER "
                f"posexplode(i.`{src}`) e AS pos, v"
            )
        cols = [f"i.{quote(c)}" for c in names]
        cols.insert(at, f"e.v AS {quote(target)}")
        arr = f"i.{quote(src)}"
        return (
            f"SELECT {', '.join(cols)}, CAST(row_number() OVER (ORDER BY i.{ROW}, e.pos) - 1 "
            f"AS BIGINT) AS {ROW} FROM {ctx.input} i LEFT JOIN LATERAL (SELECT unnest({arr}) "
            f"AS v, generate_subscripts({arr}, 1) AS pos) e ON TRUE"
        )


def _struct_fields(dtype: pa.DataType) -> list[pa.Field]:
    return [dtype.field(i) for i in range(dtype.num_fields)]


def _flatten(
    path: list[str], dtype: pa.DataType, level: int, delimiter: str, name: str
) -> list[tuple[str, str]]:
    """(column name, SQL expression) for every field of a struct, ``level`` levels deep."""
    out: list[tuple[str, str]] = []
    for field in _struct_fields(dtype):
        sub = [*path, field.name]
        label = f"{name}{delimiter}{field.name}"
        if pa.types.is_struct(field.type) and level > 1:
            out.extend(_flatten(sub, field.type, level - 1, delimiter, label))
        else:
            out.append((label, ".".join(quote(part) for part in sub)))
    return out


def _require_struct(schema: pa.Schema, col: str) -> None:
    if not pa.types.is_struct(schema.field(col).type):
        raise ConfigError(
            f"column {col!r} is not a struct",
            fix="pick a struct column (or JSON_TO_STRUCTS a JSON text column first)",
        )


@register
class UnnestStruct(Operation):
    name = "UNNEST_STRUCT"
    category = CATEGORY
    doc = (
        "A column per field of a struct column (first level), named <source>.<field>, or "
        "<targetColumn><field> when targetColumn is given."
    )
    params = {
        "sourceColumn": Param("column", doc="a struct column"),
        "removeSourceColumn": Param("bool", required=False, default=False),
        "targetColumn": Param("str", required=False, doc="prefix of the new columns"),
    }
    examples = (
        {"parameters": {"sourceColumn": "address", "removeSourceColumn": "true"}},
        {"parameters": {"sourceColumn": "address", "targetColumn": "addr_"}},
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        _require_struct(schema, p["sourceColumn"])

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        src = p["sourceColumn"]
        prefix = p["targetColumn"]
        fields = _struct_fields(ctx.type_of(src))
        add = [
            (
                f"{prefix}{f.name}" if prefix else f"{src}.{f.name}",
                f"{quote(src)}.{quote(f.name)}",
                src,
            )
            for f in fields
        ]
        return ctx.project(add=add, drop=[src] if p["removeSourceColumn"] else [])


@register
class UnnestStructN(Operation):
    name = "UNNEST_STRUCT_N"
    category = CATEGORY
    doc = (
        "Flatten struct columns up to unnestLevel levels deep: a column per leaf field, named "
        "by its path joined with delimiter (user.address.state), as Glue's relationalize does."
    )
    params = {
        "sourceColumns": Param("columns", required=False, doc="struct columns to flatten"),
        "regexColumnSelector": Param("str", required=False, doc="or: a regex choosing them"),
        "removeSourceColumn": Param("bool", required=False, default=False),
        "unnestLevel": Param("int", required=False, default=1),
        "delimiter": Param("str", required=False, default="."),
    }
    examples = (
        {
            "parameters": {
                "sourceColumns": '["address"]',
                "removeSourceColumn": "true",
                "unnestLevel": "2",
                "delimiter": "/",
            }
        },
    )

    def _columns(self, p: Mapping[str, Any], schema: pa.Schema) -> list[str]:
        if p["sourceColumns"]:
            return list(p["sourceColumns"])
        if p["regexColumnSelector"]:
            try:
                pattern = re.compile(p["regexColumnSelector"])
            except re.error as exc:
                raise ConfigError(
                    f"regexColumnSelector is not a valid regex: {exc}", fix="fix the pattern"
                ) from None
            return [f.name for f in schema if pattern.search(f.name) and pa.types.is_struct(f.type)]
        raise ConfigError(
            "give sourceColumns or regexColumnSelector", fix='e.g. sourceColumns: ["address"]'
        )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if p["unnestLevel"] < 1:
            raise ConfigError("unnestLevel must be 1 or more", fix="e.g. unnestLevel: 2")
        for col in self._columns(p, schema):
            if col not in schema.names:
                raise ConfigError(f"no column {col!r}", fix="use one of " + ", ".join(schema.names))
            _require_struct(schema, col)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        add: list[tuple[str, str, str | None]] = []
        cols = self._columns(p, ctx.schema)
        for col in cols:
            flat = _flatten([col], ctx.type_of(col), p["unnestLevel"], p["delimiter"], col)
            add.extend((name, expr, col) for name, expr in flat)
        return ctx.project(add=add, drop=cols if p["removeSourceColumn"] else [])
