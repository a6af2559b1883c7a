"""Column structure basics: rename, delete, duplicate, move, sort, change types; SQL steps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops.base import ROW, Ctx, Operation, Param, quote

CATEGORY = "column structure"


@register
class Rename(Operation):
    name = "RENAME"
    category = CATEGORY
    doc = "Rename a column."
    conditions = False
    params = {
        "sourceColumn": Param("column", doc="the column to rename"),
        "targetColumn": Param("new_column", doc="its new name"),
    }
    examples = ({"parameters": {"sourceColumn": "qty", "targetColumn": "quantity"}},)

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if p["targetColumn"] in schema.names and p["targetColumn"] != p["sourceColumn"]:
            raise ConfigError(
                f"column {p['targetColumn']!r} already exists",
                fix="pick another targetColumn, or DELETE that column first",
            )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        cols = ", ".join(
            f"{quote(c)} AS {quote(p['targetColumn'])}" if c == p["sourceColumn"] else quote(c)
            for c in ctx.columns
        )
        return f"SELECT {cols}, {ROW} FROM {ctx.input}"


@register
class Delete(Operation):
    name = "DELETE"
    category = CATEGORY
    doc = "Delete one or more columns."
    conditions = False
    params = {"sourceColumns": Param("columns", doc="the columns to delete, as a JSON list")}
    examples = ({"parameters": {"sourceColumns": '["notes", "payload"]'}},)

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if set(p["sourceColumns"]) >= set(schema.names):
            raise ConfigError("it would delete every column", fix="keep at least one column")

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        return ctx.project(drop=p["sourceColumns"])


@register
class Duplicate(Operation):
    name = "DUPLICATE"
    category = CATEGORY
    doc = "Copy a column into a new column placed after it."
    params = {
        "sourceColumn": Param("column"),
        "targetColumn": Param("new_column"),
    }
    examples = ({"parameters": {"sourceColumn": "price", "targetColumn": "price_copy"}},)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        src = p["sourceColumn"]
        return ctx.project(add=[(p["targetColumn"], quote(src), src)])


@register
class Sql(Operation):
    name = "SQL"
    category = "sql"
    doc = (
        "A SQL SELECT over the previous step, which it reads as `input` (DuckDB dialect; the "
        "Spark engine translates it). Row order is kept where the query keeps rows."
    )
    conditions = False
    databrew = False
    keeps_order = False
    params = {"query": Param("str", doc="SELECT ... FROM input")}
    examples = (
        {"parameters": {"query": "SELECT id, upper(city) AS city FROM input WHERE qty > 1"}},
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        import sqlglot
        from sqlglot import exp

        try:
            tree = sqlglot.parse_one(p["query"], read="duckdb")
        except sqlglot.errors.ParseError as exc:
            problem = exc.errors[0]["description"] if exc.errors else exc
            raise ConfigError(
                f"the query is not valid SQL: {problem}",
                fix="write one SELECT ... FROM input",
            ) from None
        if not isinstance(tree, exp.Select):
            raise ConfigError("the query must be one SELECT", fix="write SELECT ... FROM input")
        tables = [t for t in tree.find_all(exp.Table) if t.name.lower() == "input"]
        if not tables:
            raise ConfigError("the query does not read `input`", fix="select FROM input")
        for table in tables:
            table.replace(exp.to_table(ctx.input.strip('"'), alias=table.alias or "input"))
        # Carry the row order through the query when it keeps rows one-to-one: a plain SELECT
        # without aggregation, DISTINCT or joins gets the row column added; others get one
        # numbered by the output order.
        aggregated = tree.find(exp.AggFunc) is not None or tree.args.get("group") is not None
        if not aggregated and not tree.args.get("distinct") and not tree.args.get("joins"):
            tree = tree.select(exp.column(ROW, table=tables[0].alias_or_name), copy=False)
            return tree.sql(dialect="duckdb")
        inner = tree.sql(dialect="duckdb")
        return f"SELECT *, CAST(row_number() OVER () - 1 AS BIGINT) AS {ROW} FROM ({inner})"
