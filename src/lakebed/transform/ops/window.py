"""Window functions: previous/next values, fills and rolling statistics over neighbouring rows,
row numbers and sessions.

Rows are taken in the input's order (the hidden row position) unless ``orderByColumns`` gives
an order (ties then keep input order), within ``groupByColumns`` groups when given. A rolling
window spans ``numRowsBefore`` rows before to ``numRowsAfter`` rows after the current row and
ignores NULLs; a window without values gives NULL (count: 0). Standard deviation and variance
are the sample ones. Ties in ROLLING_MODE go to the smallest value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._common import require_numeric
from lakebed.transform.ops._dual import Dual
from lakebed.transform.ops.base import ROW, Ctx, Operation, Param, quote
from lakebed.transform.ops.datetime_calc import UNITS, add_units
from lakebed.transform.ops.datetime_parts import source_ts

CATEGORY = "window"
GROUPING = {
    "groupByColumns": Param("json", required=False, doc='["col"]: restart per group'),
    "orderByColumns": Param("json", required=False, doc='["col"]: order (default: input)'),
}
ROLLING = {
    "sourceColumn": Param("column"),
    "numRowsBefore": Param("int", required=False, default=0),
    "numRowsAfter": Param("int", required=False, default=0),
    "targetColumn": Param("new_column"),
    **GROUPING,
}
LIST = "__lb_w"


def _names(raw: Any, key: str, schema: pa.Schema) -> list[tuple[str, str]]:
    """``(column, ASC|DESC)`` pairs from a JSON list of names or {"sourceColumn", "order"}."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        col: Any
        if isinstance(item, str):
            col, direction = item, "ASC"
        elif isinstance(item, Mapping):
            col = item.get("sourceColumn") or item.get("columnName") or item.get("name")
            direction = str(item.get("order") or item.get("ordering") or "ASC").upper()
        else:
            col, direction = None, "ASC"
        if not isinstance(col, str) or col not in schema.names:
            raise ConfigError(
                f"{key} names {item!r}, which is not a column of the input",
                fix="list existing columns, e.g. " + '["' + schema.names[0] + '"]',
            )
        out.append((col, "DESC" if direction.startswith("DESC") else "ASC"))
    return out


def over(p: Mapping[str, Any], ctx: Ctx, frame: str = "") -> str:
    """The OVER clause: partition, order (then row position) and ``frame``."""
    groups = _names(p.get("groupByColumns"), "groupByColumns", ctx.schema)
    orders = _names(p.get("orderByColumns"), "orderByColumns", ctx.schema)
    parts = []
    if groups:
        parts.append("PARTITION BY " + ", ".join(quote(c) for c, _ in groups))
    keys = [f"{quote(c)} {d} NULLS LAST" for c, d in orders] + [ROW]
    parts.append("ORDER BY " + ", ".join(keys))
    if frame:
        parts.append(frame)
    return f"OVER ({' '.join(parts)})"


def _frame(p: Mapping[str, Any]) -> str:
    return f"ROWS BETWEEN {p['numRowsBefore']} PRECEDING AND {p['numRowsAfter']} FOLLOWING"


class _Window(Operation):
    category = CATEGORY
    params: ClassVar[Mapping[str, Param]] = ROLLING
    numeric = False

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        _names(p.get("groupByColumns"), "groupByColumns", schema)
        _names(p.get("orderByColumns"), "orderByColumns", schema)
        for key in ("numRowsBefore", "numRowsAfter", "numRows"):
            if p.get(key) is not None and p[key] < 0:
                raise ConfigError(f"{key} must not be negative", fix=f"give {key} as 0 or more")
        if self.numeric:
            require_numeric(p, schema, self.name)

    def expr(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        raise NotImplementedError

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        return ctx.project(add=[(p["targetColumn"], self.expr(p, ctx), p["sourceColumn"])])


EX = {"sourceColumn": "price", "numRowsBefore": "2", "numRowsAfter": "1"}


def _rolling(name: str, agg: str, doc: str, numeric: bool = True) -> None:
    def expr(self: _Window, p: Mapping[str, Any], ctx: Ctx) -> str:
        x = quote(p["sourceColumn"])
        arg = f"CAST({x} AS DOUBLE)" if numeric else x
        return f"{agg}({arg}) {over(p, ctx, _frame(p))}"

    cls = type(
        name.title().replace("_", ""),
        (_Window,),
        {
            "name": name,
            "doc": doc,
            "__doc__": doc,
            "numeric": numeric,
            "expr": expr,
            "examples": (
                {"parameters": {**EX, "targetColumn": f"price_{name.lower()}"}},
                {
                    "parameters": {
                        **EX,
                        "targetColumn": "by_city",
                        "groupByColumns": '["city"]',
                        "orderByColumns": '["id"]',
                    }
                },
            ),
        },
    )
    register(cls)


_rolling("ROLLING_AVERAGE", "avg", "The average of the values in a window of rows.")
_rolling("ROLLING_SUM", "sum", "The sum of the values in a window of rows (DOUBLE).")
_rolling("ROLLING_MAX", "max", "The largest value in a window of rows.", numeric=False)
_rolling("ROLLING_MIN", "min", "The smallest value in a window of rows.", numeric=False)
_rolling("ROLLING_COUNT_A", "count", "How many non-NULL values a window of rows holds.", False)
_rolling("ROLLING_STANDARD_DEVIATION", "stddev_samp", "The sample standard deviation in a window.")
_rolling("ROLLING_VARIANCE", "var_samp", "The sample variance of the values in a window.")


class _ListWindow(_Window):
    """Operations that gather the window's values into a list first."""

    def from_list(self, p: Mapping[str, Any], d: Dual, values: str) -> str:
        raise NotImplementedError

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        x = quote(p["sourceColumn"])
        window = over(p, ctx, _frame(p))
        gathered = f"list_filter(list({x}) {window}, lambda e: e IS NOT NULL)"
        inner = f"SELECT *, {gathered} AS {LIST} FROM {ctx.input}"
        sub = dataclasses.replace(ctx, input=f"({inner}) AS __lb_win")
        expr = self.from_list(p, d, LIST)
        return d.done(sub.project(add=[(p["targetColumn"], expr, p["sourceColumn"])]))


@register
class RollingKthLargest(_ListWindow):
    name = "ROLLING_KTH_LARGEST"
    doc = "The k-th largest value (k = `value`; repeats count) in a window of rows."
    params = {**ROLLING, "value": Param("int", doc="k, from 1")}
    examples = ({"parameters": {**EX, "value": "2", "targetColumn": "second_largest"}},)
    unique = False

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        if p["value"] < 1:
            raise ConfigError("value (k) must be at least 1", fix='give value as e.g. "2"')

    def from_list(self, p: Mapping[str, Any], d: Dual, values: str) -> str:
        k = p["value"]
        if self.unique:
            return d.pick(
                f"list_extract(list_sort(list_distinct({{0}}), 'DESC'), {k})",
                f"try_element_at(sort_array(array_distinct({{0}}), false), {k})",
                values,
            )
        return d.pick(
            f"list_extract(list_sort({{0}}, 'DESC'), {k})",
            f"try_element_at(sort_array({{0}}, false), {k})",
            values,
        )


@register
class RollingKthLargestUnique(RollingKthLargest):
    name = "ROLLING_KTH_LARGEST_UNIQUE"
    doc = "The k-th largest distinct value (k = `value`) in a window of rows."
    unique = True
    examples = ({"parameters": {**EX, "value": "2", "targetColumn": "second_distinct"}},)


@register
class RollingMode(_ListWindow):
    name = "ROLLING_MODE"
    doc = "The most frequent value in a window of rows (ties: the smallest)."
    examples = (
        {
            "parameters": {
                "sourceColumn": "category",
                "numRowsBefore": "3",
                "numRowsAfter": "0",
                "targetColumn": "recent_mode",
            }
        },
    )

    def from_list(self, p: Mapping[str, Any], d: Dual, values: str) -> str:
        return d.pick(
            "list_extract(list_sort({0}), list_position(list_transform(list_sort({0}), "
            "lambda e: len(list_filter({0}, lambda f: f = e))), list_max(list_transform("
            "{0}, lambda e: len(list_filter({0}, lambda f: f = e))))))",
            "element_at(array_sort({0}), CAST(array_position(transform(array_sort({0}), "
            "e -> size(filter({0}, f -> f = e))), array_max(transform({0}, "
            "e -> size(filter({0}, f -> f = e))))) AS INT))",
            values,
        )


@register
class Fill(_Window):
    name = "FILL"
    doc = (
        "A new column with sourceColumn's value, or where it is NULL the nearest non-NULL "
        "value among the numRowsBefore rows before (latest first), then the numRowsAfter "
        "rows after (earliest first)."
    )
    examples = (
        {
            "parameters": {
                "sourceColumn": "qty",
                "numRowsBefore": "2",
                "numRowsAfter": "2",
                "targetColumn": "qty_filled",
            }
        },
    )

    def expr(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        x = quote(p["sourceColumn"])
        parts = [x]
        if p["numRowsBefore"] > 0:
            frame = f"ROWS BETWEEN {p['numRowsBefore']} PRECEDING AND 1 PRECEDING"
            parts.append(f"last_value({x} IGNORE NULLS) {over(p, ctx, frame)}")
        if p["numRowsAfter"] > 0:
            frame = f"ROWS BETWEEN 1 FOLLOWING AND {p['numRowsAfter']} FOLLOWING"
            parts.append(f"first_value({x} IGNORE NULLS) {over(p, ctx, frame)}")
        return f"coalesce({', '.join(parts)})"


SHIFT = {
    "sourceColumn": Param("column"),
    "numRows": Param("int", required=False, default=1),
    "targetColumn": Param("new_column"),
    **GROUPING,
}


@register
class Prev(_Window):
    name = "PREV"
    doc = "A new column with sourceColumn's value numRows rows earlier (NULL before the start)."
    params = SHIFT
    examples = (
        {"parameters": {"sourceColumn": "price", "numRows": "1", "targetColumn": "prev_price"}},
    )
    fn = "lag"

    def expr(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        return f"{self.fn}({quote(p['sourceColumn'])}, {p['numRows']}) {over(p, ctx)}"


@register
class Next(Prev):
    name = "NEXT"
    doc = "A new column with sourceColumn's value numRows rows later (NULL past the end)."
    examples = (
        {"parameters": {"sourceColumn": "price", "numRows": "2", "targetColumn": "next_price"}},
    )
    fn = "lead"


@register
class RowNumber(Operation):
    name = "ROW_NUMBER"
    category = CATEGORY
    doc = "A new BIGINT column numbering rows from 1 (per group, in the given order)."
    params = {"targetColumn": Param("new_column"), **GROUPING}
    examples = (
        {"parameters": {"targetColumn": "n"}},
        {
            "parameters": {
                "targetColumn": "rank_in_city",
                "groupByColumns": '["city"]',
                "orderByColumns": '[{"sourceColumn": "price", "order": "DESC"}]',
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        _names(p.get("groupByColumns"), "groupByColumns", schema)
        _names(p.get("orderByColumns"), "orderByColumns", schema)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        expr = f"CAST(row_number() {over(p, ctx)} AS BIGINT)"
        return ctx.project(add=[(p["targetColumn"], expr, None)])


@register
class Session(_Window):
    name = "SESSION"
    doc = (
        "A new BIGINT session number (from 1, per group): a row starts a new session when its "
        "time (sourceColumn) is more than `value` units after the previous row's. Rows "
        "without a time get NULL. Ordered by orderByColumns, else by the time."
    )
    params = {
        "sourceColumn": Param("column"),
        "units": Param("choice", choices=UNITS),
        "value": Param("int"),
        "targetColumn": Param("new_column"),
        **GROUPING,
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "ts",
                "units": "HOURS",
                "value": "20",
                "groupByColumns": '["category"]',
                "targetColumn": "session",
            }
        },
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        order = p.get("orderByColumns") or [p["sourceColumn"]]
        q = {**p, "orderByColumns": order}
        ts = source_ts({"sourceColumn": p["sourceColumn"]}, ctx, d)
        prev = (
            f"last_value({ts} IGNORE NULLS) "
            f"{over(q, ctx, 'ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING')}"
        )
        inner = f"SELECT *, {ts} AS __lb_t, {prev} AS __lb_prev FROM {ctx.input}"
        sub = dataclasses.replace(ctx, input=f"({inner}) AS __lb_s")
        gap = add_units(d, "__lb_prev", p["value"], p["units"])
        start = (
            "CASE WHEN __lb_t IS NULL THEN 0 WHEN __lb_prev IS NULL OR "
            f"__lb_t > {gap} THEN 1 ELSE 0 END"
        )
        frame = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
        count = f"CAST(sum({start}) {over(q, sub, frame)} AS BIGINT)"
        expr = f"CASE WHEN __lb_t IS NULL THEN NULL ELSE {count} END"
        return d.done(sub.project(add=[(p["targetColumn"], expr, p["sourceColumn"])]))
