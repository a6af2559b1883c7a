"""Duplicates: delete or flag rows equal to an earlier row, or rows repeating a column value.

"Earlier" is row order (the input's order), so the first occurrence is kept or left unflagged,
as DataBrew does. Whole-row comparison uses every visible column, with NULL equal to NULL; for
a single column, NULL values are never duplicates of each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.transform.ops import register
from lakebed.transform.ops.base import ROW, Ctx, Operation, Param, literal, quote

CATEGORY = "data quality: duplicates"
FLAGS = {
    "trueString": Param("str", required=False, default="True", doc="value for duplicates"),
    "falseString": Param("str", required=False, default="False", doc="value for the others"),
}


def _keys(ctx: Ctx) -> str:
    cols = [c for c in ctx.columns if not pa.types.is_map(ctx.type_of(c))]
    return ", ".join(quote(c) for c in cols)


def _unless(ctx: Ctx) -> str:
    """The step's condition as an extra filter on the rows it deletes."""
    return "" if ctx.condition is None else f" AND coalesce({ctx.condition}, FALSE)"


class _Deleting(Operation):
    """A step that deletes the rows :meth:`deletes` selects."""

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        return ctx.without(self.deletes(p, ctx))

    def deletes(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        raise NotImplementedError


@register
class DeleteDuplicateRows(_Deleting):
    name = "DELETE_DUPLICATE_ROWS"
    category = CATEGORY
    doc = "Delete every row that exactly matches an earlier row (the first one stays)."
    examples = ({"parameters": {}},)

    def deletes(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        # A hash aggregation finds each key's first row; every other row goes.
        firsts = f"SELECT min({ROW}) FROM {ctx.input} GROUP BY {_keys(ctx)}"
        return f"SELECT {ROW} FROM {ctx.input} WHERE {ROW} NOT IN ({firsts}){_unless(ctx)}"


@register
class RemoveDuplicates(_Deleting):
    name = "REMOVE_DUPLICATES"
    category = CATEGORY
    doc = "Delete every row whose sourceColumn value already appeared in an earlier row."
    params = {"sourceColumn": Param("column")}
    examples = ({"parameters": {"sourceColumn": "city"}},)

    def deletes(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        # Two plans; NULL keys never match. Where most keys are distinct, numbering each
        # key's rows in row order (a partitioned sort) costs DuckDB less than aggregating
        # millions of keys; where they repeat, aggregating the few repeated keys and joining
        # the rows to them costs less than sorting every row.
        c = quote(p["sourceColumn"])
        if ctx.dialect == "duckdb" and _mostly_distinct(ctx, c):
            cond = "TRUE" if ctx.condition is None else f"coalesce({ctx.condition}, FALSE)"
            numbered = (
                f"SELECT {ROW}, {cond} AS __lb_if, "
                f"row_number() OVER (PARTITION BY {c} ORDER BY {ROW}) AS __lb_n "
                f"FROM {ctx.input} WHERE {c} IS NOT NULL"
            )
            return f"SELECT {ROW} FROM ({numbered}) AS __lb_in WHERE __lb_n > 1 AND __lb_if"
        repeated = (
            f"SELECT {c} AS __lb_key, min({ROW}) AS __lb_first FROM {ctx.input} "
            f"WHERE {c} IS NOT NULL GROUP BY {c} HAVING count(*) > 1"
        )
        return (
            f"SELECT __lb_in.{ROW} FROM {ctx.input} AS __lb_in JOIN ({repeated}) AS __lb_dup "
            f"ON __lb_in.{c} = __lb_dup.__lb_key WHERE __lb_in.{ROW} <> __lb_dup.__lb_first"
            f"{_unless(ctx)}"
        )


def _mostly_distinct(ctx: Ctx, column: str) -> bool:
    """Whether most non-NULL values of ``column`` are distinct (an estimate; False when the
    engine can't be asked)."""
    if ctx.run is None:
        return False
    sql = f"SELECT approx_count_distinct({column}) AS d, count({column}) AS n FROM {ctx.input}"
    found = ctx.run(sql).to_pylist()[0]
    return bool(found["n"]) and found["d"] * 2 > found["n"]


@register
class FlagDuplicateRows(Operation):
    name = "FLAG_DUPLICATE_ROWS"
    category = CATEGORY
    doc = "Add a column saying whether each row exactly matches an earlier row."
    params = {**FLAGS, "targetColumn": Param("new_column")}
    examples = (
        {"parameters": {"targetColumn": "is_dup", "trueString": "yes", "falseString": "no"}},
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        rn = f"row_number() OVER (PARTITION BY {_keys(ctx)} ORDER BY {ROW})"
        expr = (
            f"CASE WHEN {rn} > 1 THEN {literal(p['trueString'])} "
            f"ELSE {literal(p['falseString'])} END"
        )
        return ctx.project(add=[(p["targetColumn"], expr, None)])


@register
class FlagDuplicatesInColumn(Operation):
    name = "FLAG_DUPLICATES_IN_COLUMN"
    category = CATEGORY
    doc = "Add a column saying whether sourceColumn's value already appeared in an earlier row."
    params = {**FLAGS, "sourceColumn": Param("column"), "targetColumn": Param("new_column")}
    examples = ({"parameters": {"sourceColumn": "name", "targetColumn": "name_dup"}},)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        c = quote(p["sourceColumn"])
        rn = f"row_number() OVER (PARTITION BY {c} ORDER BY {ROW})"
        expr = (
            f"CASE WHEN {c} IS NOT NULL AND {rn} > 1 THEN {literal(p['trueString'])} "
            f"ELSE {literal(p['falseString'])} END"
        )
        return ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])])
