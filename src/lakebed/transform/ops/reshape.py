"""Reshaping: group by, pivot, unpivot, joins and unions with other lake tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops.base import ROW, Ctx, Operation, Param, literal, quote

CATEGORY = "reshape"

AGGREGATES = {
    "SUM": "sum({x})",
    "AVERAGE": "avg({x})",
    "MEAN": "avg({x})",
    "MIN": "min({x})",
    "MAX": "max({x})",
    "COUNT": "count({x})",
    "COUNT_DISTINCT": "count(DISTINCT {x})",
    "COLLECT_LIST": "list({x} ORDER BY " + ROW + ")",
}
MAX_PIVOT_VALUES = 10


def _aggregate(function: str, column: str, where: str) -> str:
    template = AGGREGATES.get(function.upper())
    if template is None:
        raise ConfigError(
            f"{where}: unknown aggregate function {function!r}",
            fix="use one of " + ", ".join(AGGREGATES),
        )
    return template.format(x=quote(column))


def _renumber(order: str) -> str:
    """A fresh row-order column numbering rows by ``order``."""
    return f"CAST(row_number() OVER (ORDER BY {order}) - 1 AS BIGINT) AS {ROW}"


@register
class GroupBy(Operation):
    name = "GROUP_BY"
    category = CATEGORY
    doc = (
        "Aggregate rows by key columns. groupByAggFunctionOptions lists "
        '{"sourceColumnName", "targetColumnName", "functionName"} (SUM, AVERAGE, MIN, MAX, '
        "COUNT, COUNT_DISTINCT, COLLECT_LIST). With useNewDataFrame the result is one row per "
        "group; without, every row gets its group's aggregates."
    )
    conditions = False
    params = {
        "sourceColumns": Param("columns", doc="the key columns"),
        "groupByAggFunctionOptions": Param("json", doc="the aggregates, as a JSON list"),
        "useNewDataFrame": Param("bool", required=False, default=True),
    }
    examples = (
        {
            "parameters": {
                "sourceColumns": '["category"]',
                "groupByAggFunctionOptions": '[{"sourceColumnName": "price", "targetColumnName"'
                ': "total", "functionName": "SUM"}, {"sourceColumnName": "id", '
                '"targetColumnName": "n", "functionName": "COUNT"}]',
                "useNewDataFrame": "true",
            }
        },
        {
            "parameters": {
                "sourceColumns": '["city"]',
                "groupByAggFunctionOptions": '[{"sourceColumnName": "price", "targetColumnName"'
                ': "city_avg", "functionName": "AVERAGE"}]',
                "useNewDataFrame": "false",
            }
        },
    )

    def _aggs(self, p: Mapping[str, Any], schema: pa.Schema) -> list[tuple[str, str, str]]:
        options = p["groupByAggFunctionOptions"]
        if not isinstance(options, list) or not options:
            raise ConfigError(
                "groupByAggFunctionOptions must be a non-empty JSON list",
                fix='e.g. [{"sourceColumnName": "x", "targetColumnName": "x_sum", '
                '"functionName": "SUM"}]',
            )
        out = []
        for option in options:
            if not isinstance(option, dict) or not {"sourceColumnName", "functionName"} <= set(
                option
            ):
                raise ConfigError(
                    f"aggregate {option!r} needs sourceColumnName and functionName",
                    fix='e.g. {"sourceColumnName": "x", "functionName": "SUM"}',
                )
            source = option["sourceColumnName"]
            if source not in schema.names:
                raise ConfigError(
                    f"aggregate on column {source!r}, which the input does not have",
                    fix="use one of " + ", ".join(schema.names),
                )
            fn = str(option["functionName"]).upper()
            target = option.get("targetColumnName") or f"{source}_{fn.lower()}"
            out.append((source, fn, target))
        return out

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        for _, fn, _ in self._aggs(p, schema):
            _aggregate(fn, "x", "groupByAggFunctionOptions")

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        keys = [quote(c) for c in p["sourceColumns"]]
        aggs = [
            (_aggregate(fn, src, "GROUP_BY"), tgt) for src, fn, tgt in self._aggs(p, ctx.schema)
        ]
        if p["useNewDataFrame"]:
            items = ", ".join(keys + [f"{expr} AS {quote(tgt)}" for expr, tgt in aggs])
            return (
                f"SELECT {items}, min({ROW}) AS {ROW} FROM {ctx.input} GROUP BY {', '.join(keys)}"
            )
        over = f"OVER (PARTITION BY {', '.join(keys)})"
        windows = [
            (tgt, f"{expr.replace(' ORDER BY ' + ROW, '')} {over}", None) for expr, tgt in aggs
        ]
        return ctx.project(add=windows, guard=False)


@register
class Pivot(Operation):
    name = "PIVOT"
    category = CATEGORY
    doc = (
        "Turn the values of sourceColumn (at most 10 distinct, learned when fitted) into "
        "columns holding the aggregate of valueColumn: one row in all."
    )
    conditions = False
    learns = True
    params = {
        "sourceColumn": Param("column", doc="the column whose values become columns"),
        "valueColumn": Param("column", doc="the column aggregated into them"),
        "aggregateFunction": Param("str", doc="SUM, AVERAGE, MIN, MAX, COUNT, COLLECT_LIST"),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "category",
                "valueColumn": "price",
                "aggregateFunction": "SUM",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        _aggregate(p["aggregateFunction"], "x", "aggregateFunction")

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        src = quote(p["sourceColumn"])
        values = ctx.query(
            f"SELECT DISTINCT CAST({src} AS VARCHAR) AS v FROM {ctx.input} "
            f"WHERE {src} IS NOT NULL ORDER BY v LIMIT {MAX_PIVOT_VALUES + 1}"
        ).column("v")
        found = values.to_pylist()
        if len(found) > MAX_PIVOT_VALUES:
            raise ConfigError(
                f"column {p['sourceColumn']!r} has more than {MAX_PIVOT_VALUES} distinct values",
                fix="pivot a column with fewer values, or GROUP_BY it instead",
            )
        return {"values": found}

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        values = (ctx.state or {}).get("values") or []
        src, val = quote(p["sourceColumn"]), p["valueColumn"]
        fn = p["aggregateFunction"].upper()
        cols = []
        for value in values:
            agg = _aggregate(fn, val, "PIVOT").replace(
                quote(val),
                f"CASE WHEN CAST({src} AS VARCHAR) = {literal(value)} THEN {quote(val)} END",
                1,
            )
            if fn == "COLLECT_LIST":
                agg = f"list_filter({agg}, x -> x IS NOT NULL)"
            cols.append(f"{agg} AS {quote(str(value))}")
        if not cols:
            cols = [f"CAST(NULL AS VARCHAR) AS {quote(p['sourceColumn'])}"]
        return f"SELECT {', '.join(cols)}, CAST(0 AS BIGINT) AS {ROW} FROM {ctx.input}"


@register
class Unpivot(Operation):
    name = "UNPIVOT"
    category = CATEGORY
    doc = (
        "Turn columns into rows: one row per source column, its name in unpivotColumn and its "
        "value in valueColumn (values of mixed types become text)."
    )
    conditions = False
    params = {
        "sourceColumns": Param("columns", doc="the columns to turn into rows"),
        "unpivotColumn": Param("new_column", doc="the column for the source column names"),
        "valueColumn": Param("new_column", doc="the column for their values"),
    }
    examples = (
        {
            "parameters": {
                "sourceColumns": '["price", "qty"]',
                "unpivotColumn": "measure",
                "valueColumn": "amount",
            }
        },
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        cols = p["sourceColumns"]
        types = {ctx.type_of(c) for c in cols}
        numeric = all(ctx.is_numeric(c) for c in cols)
        cast = None if len(types) == 1 else "DOUBLE" if numeric else "VARCHAR"
        keep = [quote(c) for c in ctx.columns if c not in cols]
        parts = []
        for i, col in enumerate(cols):
            value = f"CAST({quote(col)} AS {cast})" if cast else quote(col)
            parts.append(
                f"SELECT {', '.join([*keep, ''])}{literal(col)} AS {quote(p['unpivotColumn'])}, "
                f"{value} AS {quote(p['valueColumn'])}, {ROW} AS __lb_parent, {i} AS __lb_pos "
                f"FROM {ctx.input}"
            )
        names = [*keep, quote(p["unpivotColumn"]), quote(p["valueColumn"])]
        return (
            f"SELECT {', '.join(names)}, {_renumber('__lb_parent, __lb_pos')} "
            f"FROM ({' UNION ALL '.join(parts)})"
        )


JOIN_TYPES = (
    "INNER_JOIN", "LEFT_JOIN", "RIGHT_JOIN", "OUTER_JOIN",
    "LEFT_EXCLUDING_JOIN", "RIGHT_EXCLUDING_JOIN", "OUTER_EXCLUDING_JOIN",
)  # fmt: skip


def _secondary(ctx: Ctx, table: str | None) -> tuple[str, pa.Schema]:
    """Load another lake table into the engine; its relation and visible schema."""
    load = ctx.extra.get("secondary")
    if not table:
        raise ConfigError(
            "no second input: name a lake table in secondaryDatasetName",
            fix="set secondaryDatasetName to DB.TABLE (secondInputLocation is not read)",
        )
    if load is None:
        raise ConfigError(f"cannot read table {table} here", fix="run the recipe on a lake")
    relation = load(table)
    result = ctx.query(f"SELECT * FROM {quote(relation)} LIMIT 0").schema
    return relation, pa.schema([f for f in result if f.name != ROW])


_JOIN_SQL = {
    "INNER_JOIN": "INNER",
    "LEFT_JOIN": "LEFT",
    "RIGHT_JOIN": "RIGHT",
    "OUTER_JOIN": "FULL",
    "LEFT_EXCLUDING_JOIN": "LEFT",
    "RIGHT_EXCLUDING_JOIN": "RIGHT",
    "OUTER_EXCLUDING_JOIN": "FULL",
}


@register
class Join(Operation):
    name = "JOIN"
    category = CATEGORY
    doc = (
        "Join another lake table (secondaryDatasetName = DB.TABLE) on joinKeys "
        '([{"key": left, "value": right}]). Right columns whose names are taken get the '
        "suffix _right. Rows come in left-table order. secondaryDatasetName SELF joins the "
        "input to itself."
    )
    conditions = False
    params = {
        "joinKeys": Param("json", doc='[{"key": "left col", "value": "right col"}]'),
        "joinType": Param("choice", choices=JOIN_TYPES),
        "leftColumns": Param("columns", required=False, doc="left columns to keep (all)"),
        "rightColumns": Param("json", required=False, doc="right columns to keep (all)"),
        "secondaryDatasetName": Param("str", doc="the other table, DB.TABLE"),
        "secondInputLocation": Param("str", required=False, doc="not read by lakebed"),
    }
    examples = (
        {
            "parameters": {
                "joinKeys": '[{"key": "city", "value": "city"}]',
                "joinType": "LEFT_JOIN",
                "secondaryDatasetName": "SELF",
                "rightColumns": '["city", "price"]',
            }
        },
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        if p["secondaryDatasetName"] == "SELF":  # the example joins the input to itself
            right, rschema = ctx.input.strip('"'), ctx.schema
        else:
            right, rschema = _secondary(ctx, p["secondaryDatasetName"])
        keys = p["joinKeys"]
        if (
            not isinstance(keys, list)
            or not keys
            or not all(isinstance(k, dict) and {"key", "value"} <= set(k) for k in keys)
        ):
            raise ConfigError(
                "joinKeys must be a JSON list of {key, value} pairs",
                fix='e.g. [{"key": "id", "value": "customer_id"}]',
            )
        left_cols = p["leftColumns"] or ctx.columns
        right_cols = p["rightColumns"] or rschema.names
        for k in keys:
            if k["key"] not in ctx.columns or k["value"] not in rschema.names:
                raise ConfigError(
                    f"join key {k['key']!r} = {k['value']!r}: a column is missing",
                    fix=f"left has {', '.join(ctx.columns)}; right has {', '.join(rschema.names)}",
                )
        on = " AND ".join(f"l.{quote(k['key'])} = r.{quote(k['value'])}" for k in keys)
        kind = p["joinType"]
        sql_kind = _JOIN_SQL[kind]
        where = {
            "LEFT_EXCLUDING_JOIN": f" WHERE r.{ROW} IS NULL",
            "RIGHT_EXCLUDING_JOIN": f" WHERE l.{ROW} IS NULL",
            "OUTER_EXCLUDING_JOIN": f" WHERE l.{ROW} IS NULL OR r.{ROW} IS NULL",
        }.get(kind, "")
        items = [f"l.{quote(c)}" for c in left_cols]
        taken = set(left_cols)
        for c in right_cols:
            name = c if c not in taken else f"{c}_right"
            items.append(f"r.{quote(c)} AS {quote(name)}")
            taken.add(name)
        order = f"l.{ROW} NULLS LAST, r.{ROW} NULLS LAST"
        return (
            f"SELECT {', '.join(items)}, {_renumber(order)} FROM {ctx.input} l "
            f"{sql_kind} JOIN {quote(right)} r ON {on}{where}"
        )


@register
class Union(Operation):
    name = "UNION"
    category = CATEGORY
    doc = (
        "Append the rows of other lake tables (secondaryDatasetNames). datasetsColumns lists, "
        "per dataset (this one first), the column feeding each of targetColumnNames (null: "
        "none). Rows keep dataset order."
    )
    conditions = False
    params = {
        "datasetsColumns": Param("json", doc="[[cols of this table], [cols of the next]...]"),
        "secondaryDatasetNames": Param("json", doc='["db.other"]'),
        "targetColumnNames": Param("json", doc="names of the result's columns"),
        "secondaryInputs": Param("json", required=False, doc="not read by lakebed"),
    }
    examples = (
        {
            "parameters": {
                "datasetsColumns": '[["id", "city"], ["id", null]]',
                "secondaryDatasetNames": '["SELF"]',
                "targetColumnNames": '["id", "place"]',
            }
        },
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        datasets, targets = p["datasetsColumns"], p["targetColumnNames"]
        names = p["secondaryDatasetNames"]
        if (
            not isinstance(datasets, list)
            or not isinstance(targets, list)
            or not isinstance(names, list)
            or len(datasets) != len(names) + 1
            or any(not isinstance(d, list) or len(d) != len(targets) for d in datasets)
        ):
            raise ConfigError(
                "datasetsColumns needs one list per dataset (this one first), each as long as "
                "targetColumnNames",
                fix='e.g. [["a", "b"], ["a", null]] with targetColumnNames ["a", "b"]',
            )
        relations = [(ctx.input, ctx.schema)]
        for name in names:
            if name == "SELF":
                relations.append((ctx.input, ctx.schema))
            else:
                rel, schema = _secondary(ctx, name)
                relations.append((quote(rel), schema))
        types: list[str | None] = []
        for i in range(len(targets)):
            found = {
                str(schema.field(cols[i]).type)
                for (_, schema), cols in zip(relations, datasets, strict=True)
                if cols[i] is not None
            }
            types.append(None if len(found) <= 1 else "VARCHAR")
        parts = []
        for k, ((rel, schema), cols) in enumerate(zip(relations, datasets, strict=True)):
            items = []
            for i, (col, target) in enumerate(zip(cols, targets, strict=True)):
                if col is not None and col not in schema.names:
                    raise ConfigError(
                        f"dataset {k + 1} has no column {col!r}",
                        fix="use one of " + ", ".join(schema.names),
                    )
                expr = "NULL" if col is None else quote(col)
                if types[i] or col is None:
                    expr = f"CAST({expr} AS {types[i] or _sql_type(relations, datasets, i)})"
                items.append(f"{expr} AS {quote(target)}")
            parts.append(f"SELECT {', '.join(items)}, {k} AS __lb_k, {ROW} AS __lb_r FROM {rel}")
        cols = ", ".join(quote(t) for t in targets)
        return f"SELECT {cols}, {_renumber('__lb_k, __lb_r')} FROM ({' UNION ALL '.join(parts)})"


def _sql_type(relations: list[tuple[str, pa.Schema]], datasets: list[Any], i: int) -> str:
    """The DuckDB type of target column ``i`` (from the first dataset that feeds it)."""
    from lakebed.query.sources import duckdb_type

    for (_, schema), cols in zip(relations, datasets, strict=True):
        if cols[i] is not None:
            return duckdb_type(schema.field(cols[i]).type)
    return "VARCHAR"
