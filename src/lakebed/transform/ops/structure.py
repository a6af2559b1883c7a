"""Basic column operations: move columns, sort rows, change types, parse JSON text.

Type changes never fail at run time: a value that cannot be converted becomes NULL (as
DataBrew does). Text is converted with the same rules on every engine: numbers in plain decimal
notation, dates as ``yyyy-mm-dd``, timestamps as ``yyyy-mm-dd[ hh:mm[:ss[.fff]]]``, booleans as
true/false, yes/no, t/f, y/n or 1/0 (case-insensitive). Numbers become integers by truncating
toward zero.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops.base import ROW, Ctx, Operation, Param, literal, quote

CATEGORY = "column structure"

_TYPES = {
    "byte": "TINYINT", "short": "SMALLINT", "int": "INTEGER", "integer": "INTEGER",
    "long": "BIGINT", "float": "FLOAT", "double": "DOUBLE", "number": "DOUBLE",
    "decimal": "DECIMAL(38, 18)", "string": "VARCHAR", "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP", "date": "DATE",
}  # fmt: skip
_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT")
_DATE_RE = r"^\d{4}-\d{1,2}-\d{1,2}$"
_TS_RE = r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$"
_TRUE = "('true', 't', 'yes', 'y', '1')"
_FALSE = "('false', 'f', 'no', 'n', '0')"


def convert(ctx: Ctx, col: str, target: str) -> str:
    """SQL converting column ``col`` to DuckDB type ``target`` the same way on every engine."""
    c = quote(col)
    t = ctx.type_of(col)
    text = pa.types.is_string(t) or pa.types.is_large_string(t)
    numeric = ctx.is_numeric(col)
    if target == "VARCHAR":
        return f"CAST({c} AS VARCHAR)"
    if target == "BOOLEAN":
        if numeric:
            return f"({c} <> 0)"
        if pa.types.is_boolean(t):
            return c
        s = f"lower(trim(CAST({c} AS VARCHAR)))"
        return f"CASE WHEN {s} IN {_TRUE} THEN TRUE WHEN {s} IN {_FALSE} THEN FALSE END"
    if target in ("DATE", "TIMESTAMP"):
        if pa.types.is_temporal(t):
            return f"TRY_CAST({c} AS {target})"
        s = f"trim(CAST({c} AS VARCHAR))"
        pattern = _DATE_RE if target == "DATE" else _TS_RE
        # the LIKE (a dash fifth) rules most other texts out at a fraction of the regexp's cost
        shaped = f"{s} LIKE '____-%' AND regexp_matches({s}, {literal(pattern)})"
        return f"CASE WHEN {shaped} THEN TRY_CAST({s} AS {target}) END"
    # numbers
    if pa.types.is_boolean(t):
        return f"CAST(CASE WHEN {c} THEN 1 WHEN NOT {c} THEN 0 END AS {target})"
    if numeric:
        source = c
    elif text:
        source = f"TRY_CAST(trim({c}) AS DOUBLE)"
        if target in _INTEGERS:
            whole = f"CASE WHEN regexp_matches(trim({c}), '^[+-]?[0-9]+$') THEN trim({c}) END"
            exact = f"TRY_CAST({whole} AS {target})"
            trunc = f"CASE WHEN {source} >= 0 THEN floor({source}) ELSE ceil({source}) END"
            return f"coalesce({exact}, TRY_CAST({trunc} AS {target}))"
    else:
        return f"CAST(NULL AS {target})"
    if target in _INTEGERS and not pa.types.is_integer(t):
        # fractional numbers truncate toward zero, as Spark and DataBrew do
        source = f"CASE WHEN {source} >= 0 THEN floor({source}) ELSE ceil({source}) END"
    return f"TRY_CAST({source} AS {target})"


@register
class ChangeDataType(Operation):
    name = "CHANGE_DATA_TYPE"
    category = CATEGORY
    doc = (
        "Change a column's type (byte, short, int, long, float, double, decimal, string, "
        "boolean, timestamp, date). Values that cannot be converted become NULL."
    )
    conditions = False
    params = {
        "sourceColumn": Param("column"),
        "columnDataType": Param("choice", choices=tuple(_TYPES), doc="the new type"),
    }
    examples = (
        {"parameters": {"sourceColumn": "signup", "columnDataType": "date"}},
        {"parameters": {"sourceColumn": "price", "columnDataType": "int"}},
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        expr = convert(ctx, p["sourceColumn"], _TYPES[p["columnDataType"]])
        return ctx.project(replace={p["sourceColumn"]: expr})


def _fixed(name: str, kind: str, doc: str) -> type[Operation]:
    class ToType(Operation):
        category = CATEGORY
        conditions = False
        params = {
            "sourceColumn": Param("column"),
            "columnDataType": Param("choice", required=False, choices=(kind,), default=kind),
        }
        examples = ({"parameters": {"sourceColumn": "qty", "columnDataType": kind}},)

        def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
            return ChangeDataType().sql({**p, "columnDataType": kind}, ctx)

    ToType.name = name
    ToType.doc = doc
    ToType.__name__ = ToType.__qualname__ = name.title().replace("_", "")
    return register(ToType)


_fixed("TO_STRING_COLUMN", "string", "Change a column's type to string (CHANGE_DATA_TYPE string).")
_fixed("TO_DOUBLE_COLUMN", "number", "Change a column's type to double; bad values become NULL.")
_fixed("TO_NUMBER_COLUMN", "number", "Change a column's type to number (double); bad values NULL.")
_fixed(
    "TO_BOOLEAN_COLUMN", "boolean", "Change a column's type to boolean (true/yes/1, false/no/0)."
)


class _Move(Operation):
    category = CATEGORY
    conditions = False

    def order(self, p: Mapping[str, Any], cols: list[str]) -> list[str]:
        raise NotImplementedError

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        cols = [c for c in ctx.columns if c != p["sourceColumn"]]
        return ctx.project(order=self.order(p, cols))


@register
class MoveAfter(_Move):
    name = "MOVE_AFTER"
    doc = "Move a column to just after another column."
    params = {"sourceColumn": Param("column"), "targetColumn": Param("column")}
    examples = ({"parameters": {"sourceColumn": "id", "targetColumn": "city"}},)

    def order(self, p: Mapping[str, Any], cols: list[str]) -> list[str]:
        if p["targetColumn"] == p["sourceColumn"]:
            return self._same(p, cols)
        i = cols.index(p["targetColumn"]) + 1
        return [*cols[:i], p["sourceColumn"], *cols[i:]]

    @staticmethod
    def _same(p: Mapping[str, Any], cols: list[str]) -> list[str]:
        raise ConfigError(
            f"sourceColumn and targetColumn are both {p['sourceColumn']!r}",
            fix="name two different columns",
        )


@register
class MoveBefore(_Move):
    name = "MOVE_BEFORE"
    doc = "Move a column to just before another column."
    params = {"sourceColumn": Param("column"), "targetColumn": Param("column")}
    examples = ({"parameters": {"sourceColumn": "price", "targetColumn": "name"}},)

    def order(self, p: Mapping[str, Any], cols: list[str]) -> list[str]:
        if p["targetColumn"] == p["sourceColumn"]:
            return MoveAfter._same(p, cols)
        i = cols.index(p["targetColumn"])
        return [*cols[:i], p["sourceColumn"], *cols[i:]]


@register
class MoveToStart(_Move):
    name = "MOVE_TO_START"
    doc = "Move a column to the first position."
    params = {"sourceColumn": Param("column")}
    examples = ({"parameters": {"sourceColumn": "email"}},)

    def order(self, p: Mapping[str, Any], cols: list[str]) -> list[str]:
        return [p["sourceColumn"], *cols]


@register
class MoveToEnd(_Move):
    name = "MOVE_TO_END"
    doc = "Move a column to the last position."
    params = {"sourceColumn": Param("column")}
    examples = ({"parameters": {"sourceColumn": "id"}},)

    def order(self, p: Mapping[str, Any], cols: list[str]) -> list[str]:
        return [*cols, p["sourceColumn"]]


@register
class MoveToIndex(_Move):
    name = "MOVE_TO_INDEX"
    doc = "Move a column to a position counted from 0 (0 is the first column)."
    params = {"sourceColumn": Param("column"), "targetIndex": Param("int")}
    examples = ({"parameters": {"sourceColumn": "id", "targetIndex": "2"}},)

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if not 0 <= p["targetIndex"] < len(schema.names):
            raise ConfigError(
                f"targetIndex {p['targetIndex']} is outside 0..{len(schema.names) - 1}",
                fix="count positions from 0 for the first column",
            )

    def order(self, p: Mapping[str, Any], cols: list[str]) -> list[str]:
        i = p["targetIndex"]
        return [*cols[:i], p["sourceColumn"], *cols[i:]]


@register
class Sort(Operation):
    name = "SORT"
    category = CATEGORY
    doc = (
        "Sort rows by one or more columns (ASCENDING or DESCENDING, nulls at the top or "
        "bottom, optionally a custom order of values). Ties keep their previous order."
    )
    conditions = False
    params = {
        "expressions": Param(
            "json",
            doc='[{"sourceColumn": "a", "ordering": "ASCENDING", "nullsOrdering": "NULLS_TOP", '
            '"customOrder": [...], "isCustomOrderCaseSensitive": false}]',
        )
    }
    examples = (
        {
            "parameters": {
                "expressions": json.dumps(
                    [
                        {
                            "sourceColumn": "city",
                            "ordering": "ASCENDING",
                            "nullsOrdering": "NULLS_BOTTOM",
                        },
                        {
                            "sourceColumn": "price",
                            "ordering": "DESCENDING",
                            "nullsOrdering": "NULLS_TOP",
                        },
                    ]
                )
            }
        },
        {
            "parameters": {
                "expressions": json.dumps(
                    [
                        {
                            "sourceColumn": "category",
                            "ordering": "ASCENDING",
                            "customOrder": ["c", "a"],
                        }
                    ]
                )
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        self._parse(p, schema)

    @staticmethod
    def _parse(p: Mapping[str, Any], schema: pa.Schema) -> list[dict[str, Any]]:
        exprs = p["expressions"]
        fix = 'give expressions as [{"sourceColumn": "col", "ordering": "ASCENDING"}]'
        if isinstance(exprs, dict):
            exprs = [exprs]
        if not isinstance(exprs, list) or not exprs:
            raise ConfigError("SORT: expressions must be a non-empty JSON list", fix=fix)
        out = []
        for e in exprs:
            if not isinstance(e, dict) or e.get("sourceColumn") not in schema.names:
                raise ConfigError(
                    f"SORT: expression {e!r} must name an existing sourceColumn",
                    fix=fix + "; columns: " + ", ".join(schema.names),
                )
            ordering = str(e.get("ordering", "ASCENDING")).upper()
            nulls = str(e.get("nullsOrdering", "NULLS_TOP")).upper()
            custom = e.get("customOrder") or []
            if ordering not in ("ASCENDING", "DESCENDING") or nulls not in (
                "NULLS_TOP",
                "NULLS_BOTTOM",
            ):
                raise ConfigError(
                    f"SORT: bad ordering {ordering!r} or nullsOrdering {nulls!r}",
                    fix="use ASCENDING/DESCENDING and NULLS_TOP/NULLS_BOTTOM",
                )
            if not isinstance(custom, list):
                raise ConfigError("SORT: customOrder must be a list of values", fix=fix)
            out.append(
                {
                    "col": e["sourceColumn"],
                    "desc": ordering == "DESCENDING",
                    "nulls_first": nulls == "NULLS_TOP",
                    "custom": [str(v) for v in custom],
                    "case": bool(e.get("isCustomOrderCaseSensitive", False)),
                }
            )
        return out

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        keys = []
        for e in self._parse(p, ctx.schema):
            c = quote(e["col"])
            direction = "DESC" if e["desc"] else "ASC"
            keys.append(
                f"CASE WHEN {c} IS NULL THEN {0 if e['nulls_first'] else 1} ELSE "
                f"{1 if e['nulls_first'] else 0} END ASC"
            )
            if e["custom"]:
                value = f"CAST({c} AS VARCHAR)"
                values = e["custom"]
                if not e["case"]:
                    value = f"lower({value})"
                    values = [v.lower() for v in values]
                whens = " ".join(f"WHEN {literal(v)} THEN {i}" for i, v in enumerate(values))
                keys.append(f"CASE {value} {whens} ELSE {len(values)} END {direction}")
            keys.append(f"{c} {direction}")
        keys.append(f"{ROW} ASC")
        cols = ", ".join(quote(c) for c in ctx.columns)
        return (
            f"SELECT {cols}, CAST(row_number() OVER (ORDER BY {', '.join(keys)}) - 1 AS BIGINT) "
            f"AS {ROW} FROM {ctx.input}"
        )
