"""JSON_TO_STRUCTS: parse JSON text columns into typed structs, lists and scalars.

The type is inferred when the step is fitted (the merged structure of the valid JSON values in
the first 100,000 rows; conflicting types become text) and stored with the recipe version, so
DuckDB and Spark parse with the same schema and new data gets the same type.
Objects deeper than ``unnestLevel`` stay JSON text. Text that is not valid JSON becomes NULL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops.base import ROW, Ctx, Operation, Param, literal, quote

_SCALARS = {
    "UBIGINT": ("BIGINT", "BIGINT"), "BIGINT": ("BIGINT", "BIGINT"),
    "DOUBLE": ("DOUBLE", "DOUBLE"), "BOOLEAN": ("BOOLEAN", "BOOLEAN"),
    "VARCHAR": ("VARCHAR", "STRING"),
}  # fmt: skip


SAMPLE = 100_000
"""Rows (the first, in row order) the JSON structure is inferred from."""
_NOTHING = object()


def _structure(value: Any) -> Any:
    """The structure of one JSON value, in json_group_structure's notation."""
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "BIGINT"
    if isinstance(value, float):
        return "DOUBLE"
    if isinstance(value, str):
        return "VARCHAR"
    if isinstance(value, dict):
        return {k: _structure(v) for k, v in value.items()}
    if isinstance(value, list):
        inner: Any = _NOTHING
        for item in value:
            inner = _merge(inner, _structure(item))
        return [] if inner is _NOTHING else [inner]
    return "NULL"


def _merge(a: Any, b: Any) -> Any:
    """The most specific structure both ``a`` and ``b`` fit (VARCHAR when they conflict)."""
    if a is _NOTHING or a == "NULL":
        return b
    if b == "NULL" or a == b:
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = _merge(out[k], v) if k in out else v
        return out
    if isinstance(a, list) and isinstance(b, list):
        if not a or not b:
            return a or b
        return [_merge(a[0], b[0])]
    if isinstance(a, str) and isinstance(b, str) and {a, b} == {"BIGINT", "DOUBLE"}:
        return "DOUBLE"
    return "VARCHAR"


def _types(structure: Any, level: int) -> tuple[Any, str]:
    """(DuckDB json_transform structure, Spark DDL type) for a json_group_structure node."""
    if isinstance(structure, dict):
        if level <= 0 or not structure:
            return "VARCHAR", "STRING"
        fields = {k: _types(v, level - 1) for k, v in structure.items()}
        spark = ", ".join("`" + k.replace("`", "``") + "`: " + v[1] for k, v in fields.items())
        return {k: v[0] for k, v in fields.items()}, f"STRUCT<{spark}>"
    if isinstance(structure, list) and structure:
        inner = _types(structure[0], level)
        return [inner[0]], f"ARRAY<{inner[1]}>"
    return _SCALARS.get(str(structure), ("VARCHAR", "STRING"))


def _columns(p: Mapping[str, Any], schema: pa.Schema) -> list[str]:
    if p.get("sourceColumns"):
        return list(p["sourceColumns"])
    pattern = p.get("regexColumnSelector")
    if not pattern:
        raise ConfigError(
            "JSON_TO_STRUCTS needs sourceColumns or regexColumnSelector",
            fix='give sourceColumns as ["col"]',
        )
    try:
        cols = [c for c in schema.names if re.search(pattern, c)]
    except re.error as exc:
        raise ConfigError(
            f"regexColumnSelector {pattern!r} is not a valid regular expression ({exc})",
            fix="fix the regular expression",
        ) from None
    if not cols:
        raise ConfigError(
            f"regexColumnSelector {pattern!r} matches no column",
            fix="use one of: " + ", ".join(schema.names),
        )
    return cols


@register
class JsonToStructs(Operation):
    name = "JSON_TO_STRUCTS"
    category = "column structure"
    doc = (
        "Parse JSON text columns into typed structs (the type is learned from the data when "
        "the recipe is fitted). Levels below unnestLevel stay JSON text; invalid JSON is NULL. "
        "With removeSourceColumn the column is replaced, otherwise <column>_struct is added."
    )
    learns = True
    conditions = False
    params = {
        "sourceColumns": Param("columns", required=False),
        "regexColumnSelector": Param("str", required=False, doc="regex selecting the columns"),
        "removeSourceColumn": Param("bool", required=False, default=False),
        "unnestLevel": Param("int", required=False, default=1, doc="levels of objects to parse"),
    }
    examples = (
        {
            "parameters": {
                "sourceColumns": '["payload"]',
                "removeSourceColumn": "true",
                "unnestLevel": "2",
            }
        },
        {"parameters": {"sourceColumns": '["payload"]', "unnestLevel": "1"}},
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        for col in _columns(p, schema):
            t = schema.field(col).type
            if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
                raise ConfigError(
                    f"JSON_TO_STRUCTS: column {col!r} is {t}, not JSON text",
                    fix="pick text columns holding JSON",
                )
            if not p.get("removeSourceColumn") and f"{col}_struct" in schema.names:
                raise ConfigError(
                    f"column {col}_struct already exists", fix="set removeSourceColumn true"
                )
        if p["unnestLevel"] < 1:
            raise ConfigError("unnestLevel must be at least 1", fix="give unnestLevel >= 1")

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        state: dict[str, str | None] = {}
        for col in _columns(p, ctx.schema):
            c = quote(col)
            table = ctx.query(
                f"SELECT {c} FROM {ctx.input} WHERE {c} IS NOT NULL ORDER BY {ROW} LIMIT {SAMPLE}"
            )
            merged: Any = _NOTHING
            for text in table.column(0).to_pylist():
                try:
                    value = json.loads(text)
                except (TypeError, ValueError):
                    continue
                merged = _merge(merged, _structure(value))
            state[col] = None if merged is _NOTHING else json.dumps(merged)
        return state

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        state = ctx.state or {}
        replace: dict[str, str] = {}
        add: list[tuple[str, str, str | None]] = []
        for col in _columns(p, ctx.schema):
            structure = json.loads(state[col]) if state.get(col) else None
            duck, spark = _types(structure, p["unnestLevel"])
            c = quote(col)
            if ctx.dialect == "spark" and isinstance(duck, str):
                expr = f"CAST(get_json_object({c}, '$') AS {spark})"
            elif ctx.dialect == "spark":
                expr = (
                    f"CASE WHEN get_json_object({c}, '$') IS NOT NULL "
                    f"THEN from_json({c}, {literal(spark)}) END"
                )
            elif isinstance(duck, str):
                value = f"json_extract_string({c}, '$')"
                if duck != "VARCHAR":
                    value = f"CAST({value} AS {duck})"
                expr = f"CASE WHEN json_valid({c}) THEN {value} END"
            else:
                expr = (
                    f"CASE WHEN json_valid({c}) THEN from_json({c}, "
                    f"{literal(json.dumps(duck))}) END"
                )
            if p.get("removeSourceColumn"):
                replace[col] = expr
            else:
                add.append((f"{col}_struct", expr, col))
        return ctx.project(replace=replace, add=add)
