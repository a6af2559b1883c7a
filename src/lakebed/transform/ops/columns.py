"""Column structure: new columns from logical expressions, flags, merged columns.

BOOLEAN_OPERATION and CASE_OPERATION take DataBrew's expression language: column names in back
ticks (`price`), constants, comparisons, AND/OR/NOT, arithmetic, CASE WHEN ... END, and
aggregate results named in ``withExpressions`` and referred to as `:name`. The aggregates are
computed when the step is fitted and stored with the recipe version. Expressions are parsed
and checked (only those constructs, only existing columns) before anything runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._common import TARGET, check_regex, new_column, text_of
from lakebed.transform.ops.base import Ctx, Operation, Param, literal, quote
from lakebed.transform.ops.text import merge

CATEGORY = "column structure"

_ALLOWED = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.And,
    exp.Or, exp.Not, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.In,
    exp.Between, exp.Like, exp.ILike, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg,
    exp.Case, exp.If, exp.Cast, exp.DataType, exp.DPipe, exp.Lower, exp.Upper, exp.Length,
    exp.Abs, exp.Coalesce, exp.Trim,
)  # fmt: skip
_AGGREGATES = {
    "min": "min", "max": "max", "avg": "avg", "mean": "avg", "sum": "sum",
    "median": "median", "stddev": "stddev_samp", "standard_deviation": "stddev_samp",
    "variance": "var_samp", "count": "count", "count_distinct": "count_distinct",
}  # fmt: skip
_AGG_CALL = re.compile(r"^\s*(\w+)\s*\(\s*`((?:[^`]|``)+)`\s*\)\s*$")


def _translate(text: str, values: Mapping[str, Any], where: str) -> str:
    """DataBrew expression text with `col` as "col" and `:name` as the aggregate's literal."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "'":
            j = i + 1
            while j < len(text) and not (text[j] == "'" and text[j + 1 : j + 2] != "'"):
                j += 2 if text[j : j + 2] == "''" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif c == "`":
            j = text.find("`", i + 1)
            if j < 0:
                raise ConfigError(f"{where}: unclosed back tick in {text!r}", fix="close it")
            name = text[i + 1 : j]
            if name.startswith(":"):
                if name[1:] not in values:
                    raise ConfigError(
                        f"{where}: `{name}` is not defined in withExpressions",
                        fix='add {"name": "' + name[1:] + '", "value": "min(`col`)", '
                        '"type": "aggregate"} to withExpressions',
                    )
                out.append(literal(values[name[1:]]))
            else:
                out.append(quote(name))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_expression(text: str, schema: pa.Schema, values: Mapping[str, Any], where: str) -> str:
    """A DataBrew expression as checked DuckDB SQL."""
    sql = _translate(text, values, where)
    try:
        tree = sqlglot.parse_one(f"SELECT {sql}", read="duckdb")
    except sqlglot.errors.ParseError as exc:
        reason = exc.errors[0]["description"] if exc.errors else str(exc)
        raise ConfigError(
            f"{where}: cannot read expression {text!r} ({reason})",
            fix="write e.g. `price` > 10 AND `city` = 'Paris' (columns in back ticks)",
        ) from None
    extra = [k for k, v in tree.args.items() if v and k != "expressions"]
    if not isinstance(tree, exp.Select) or len(tree.expressions) != 1 or extra:
        raise ConfigError(f"{where}: {text!r} is not one expression", fix="write one expression")
    node = tree.expressions[0]
    for sub in node.walk():
        if not isinstance(sub, _ALLOWED):
            raise ConfigError(
                f"{where}: {sub.sql(dialect='duckdb')!r} is not allowed in an expression",
                fix="use columns, constants, comparisons, AND/OR/NOT, arithmetic and CASE",
            )
        if isinstance(sub, exp.Column) and sub.name not in schema.names:
            raise ConfigError(
                f"{where}: column {sub.name!r} does not exist",
                fix="use one of: " + ", ".join(schema.names),
            )
    return node.sql(dialect="duckdb")


def _aggregates(p: Mapping[str, Any], where: str) -> list[tuple[str, str, str]]:
    """(name, function, column) for each entry of withExpressions."""
    raw = p.get("withExpressions") or []
    if isinstance(raw, dict):
        raw = [raw]
    out = []
    for item in raw:
        m = _AGG_CALL.match(str(item.get("value", ""))) if isinstance(item, dict) else None
        fn = _AGGREGATES.get(m.group(1).lower()) if m else None
        if not isinstance(item, dict) or not item.get("name") or m is None or fn is None:
            raise ConfigError(
                f"{where}: withExpressions entry {item!r} is not an aggregate lakebed knows",
                fix='give {"name": "n", "value": "avg(`col`)", "type": "aggregate"} with one of '
                + ", ".join(sorted(_AGGREGATES)),
            )
        out.append((str(item["name"]), fn, m.group(2).replace("``", "`")))
    return out


def _with(name: str, value: str) -> str:
    """A withExpressions parameter with one aggregate (for examples)."""
    return json.dumps([{"name": name, "value": value, "type": "aggregate"}])


class _Expression(Operation):
    category = CATEGORY
    learns = True

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        new_column(p, schema)
        aggs = _aggregates(p, self.name)
        for _, _, col in aggs:
            if col not in schema.names:
                raise ConfigError(
                    f"{self.name}: withExpressions uses column {col!r}, which does not exist",
                    fix="use one of: " + ", ".join(schema.names),
                )
        self.render(p, schema, {name: 0 for name, _, _ in aggs})

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        values: dict[str, Any] = {}
        for name, fn, col in _aggregates(p, self.name):
            call = (
                f"count(DISTINCT {quote(col)})" if fn == "count_distinct" else f"{fn}({quote(col)})"
            )
            value = ctx.query(f"SELECT {call} AS v FROM {ctx.input}").column(0)[0].as_py()
            values[name] = value if isinstance(value, int | float | str | None) else str(value)
        return values

    def render(self, p: Mapping[str, Any], schema: pa.Schema, values: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        expr = self.render(p, ctx.schema, ctx.state or {})
        return ctx.project(add=[(p["targetColumn"], expr, None)])


@register
class BooleanOperation(_Expression):
    name = "BOOLEAN_OPERATION"
    doc = (
        "A new column holding trueValueExpression where valueExpression holds and "
        "falseValueExpression elsewhere. Values are constants, `columns` or `:aggregates`."
    )
    params = {
        "valueExpression": Param("str", doc="a condition, e.g. `price` > 10"),
        "trueValueExpression": Param("str"),
        "falseValueExpression": Param("str"),
        "withExpressions": Param("json", required=False),
        "targetColumn": TARGET,
    }
    examples = (
        {
            "parameters": {
                "valueExpression": "`price` < 11 AND `city` = 'Paris'",
                "trueValueExpression": "cheap in Paris",
                "falseValueExpression": "other",
                "targetColumn": "segment",
            }
        },
        {
            "parameters": {
                "valueExpression": "`price` > `:avgprice`",
                "trueValueExpression": "`price`",
                "falseValueExpression": "`:avgprice`",
                "withExpressions": _with("avgprice", "avg(`price`)"),
                "targetColumn": "at_least_avg",
            }
        },
    )

    @staticmethod
    def _value(text: str, schema: pa.Schema, values: Mapping[str, Any]) -> tuple[str, bool]:
        """(SQL, is numeric) for a true/false value expression."""
        m = re.fullmatch(r"`((?:[^`])+)`", text.strip())
        if m and m.group(1).startswith(":"):
            v = values.get(m.group(1)[1:])
            return literal(v), isinstance(v, int | float) or v is None
        if m:
            t = schema.field(m.group(1)).type if m.group(1) in schema.names else None
            if t is None:
                raise ConfigError(
                    f"BOOLEAN_OPERATION: column {m.group(1)!r} does not exist",
                    fix="use one of: " + ", ".join(schema.names),
                )
            numeric = pa.types.is_integer(t) or pa.types.is_floating(t)
            return quote(m.group(1)), numeric
        try:
            return repr(float(text)) if "." in text or "e" in text.lower() else str(int(text)), True
        except ValueError:
            return literal(text), False

    def render(self, p: Mapping[str, Any], schema: pa.Schema, values: Mapping[str, Any]) -> str:
        cond = parse_expression(p["valueExpression"], schema, values, self.name)
        t, t_num = self._value(p["trueValueExpression"], schema, values)
        f, f_num = self._value(p["falseValueExpression"], schema, values)
        if not (t_num and f_num):
            t, f = f"CAST({t} AS VARCHAR)", f"CAST({f} AS VARCHAR)"
        else:
            t, f = f"CAST({t} AS DOUBLE)", f"CAST({f} AS DOUBLE)"
        return f"CASE WHEN {cond} THEN {t} ELSE {f} END"


@register
class CaseOperation(_Expression):
    name = "CASE_OPERATION"
    doc = (
        "A new column from a CASE expression: case when `a` < 10 then 'low' when ... else "
        "'high' end (columns in back ticks, `:aggregates` from withExpressions)."
    )
    params = {
        "valueExpression": Param("str"),
        "withExpressions": Param("json", required=False),
        "targetColumn": TARGET,
    }
    examples = (
        {
            "parameters": {
                "valueExpression": "case when `price` < 10 then 'low' when `price` < 12 "
                "then 'mid' else 'high' end",
                "targetColumn": "band",
            }
        },
        {
            "parameters": {
                "valueExpression": "case when `qty` > `:meanqty` then 'above' else 'not above' end",
                "withExpressions": _with("meanqty", "mean(`qty`)"),
                "targetColumn": "qty_band",
            }
        },
    )

    def render(self, p: Mapping[str, Any], schema: pa.Schema, values: Mapping[str, Any]) -> str:
        sql = parse_expression(p["valueExpression"], schema, values, self.name)
        if not sql.upper().startswith("CASE"):
            raise ConfigError(
                f"CASE_OPERATION: valueExpression {p['valueExpression']!r} is not a CASE",
                fix="write case when ... then ... else ... end",
            )
        return sql


class _Flag(Operation):
    category = CATEGORY
    flag_type = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.params = {
            "sourceColumn": Param("column"),
            "targetColumn": TARGET,
            "flagType": Param("str", required=False, default=cls.flag_type),
            **({"pattern": Param("str")} if cls.flag_type == "Pattern" else {}),
            "trueString": Param("str", required=False),
            "falseString": Param("str", required=False),
        }

    def test(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        raise NotImplementedError

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        new_column(p, schema)
        if str(p["flagType"]).lower() != self.flag_type.lower():
            raise ConfigError(
                f"{self.name}: flagType must be {self.flag_type!r}, got {p['flagType']!r}",
                fix=f"set flagType to {self.flag_type!r} or leave it out",
            )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        test = f"coalesce({self.test(p, ctx)}, FALSE)"
        if p.get("trueString") is None and p.get("falseString") is None:
            expr = test
        else:
            yes, no = p.get("trueString") or "True", p.get("falseString") or "False"
            expr = f"CASE WHEN {test} THEN {literal(yes)} ELSE {literal(no)} END"
        return ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])])


@register
class FlagColumnFromNull(_Flag):
    name = "FLAG_COLUMN_FROM_NULL"
    flag_type = "Null values"
    doc = "A new column: trueString (or true) where the column is NULL, falseString elsewhere."
    examples = (
        {"parameters": {"sourceColumn": "price", "targetColumn": "price_missing"}},
        {
            "parameters": {
                "sourceColumn": "email",
                "targetColumn": "no_email",
                "flagType": "Null values",
                "trueString": "yes",
                "falseString": "no",
            }
        },
    )

    def test(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        return f"{quote(p['sourceColumn'])} IS NULL"


@register
class FlagColumnFromPattern(_Flag):
    name = "FLAG_COLUMN_FROM_PATTERN"
    flag_type = "Pattern"
    doc = (
        "A new column: trueString (or true) where the text matches pattern, falseString elsewhere."
    )
    examples = (
        {
            "parameters": {
                "sourceColumn": "email",
                "targetColumn": "valid_email",
                "flagType": "Pattern",
                "pattern": "^[^@]+@[^@]+\\.[a-z]+$",
            }
        },
        {
            "parameters": {
                "sourceColumn": "city",
                "targetColumn": "p_city",
                "pattern": "^[Pp]",
                "trueString": "yes",
                "falseString": "no",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        check_regex(p["pattern"], "pattern", self.name)

    def test(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        return f"regexp_matches({text_of(ctx, p['sourceColumn'])}, {literal(p['pattern'])})"


@register
class Merge(Operation):
    name = "MERGE"
    category = CATEGORY
    doc = "Merge the text of several columns into a new column, with an optional delimiter."
    params = {
        "sourceColumns": Param("columns"),
        "delimiter": Param("str", required=False, default=""),
        "targetColumn": TARGET,
    }
    examples = (
        {
            "parameters": {
                "sourceColumns": '["city", "category"]',
                "delimiter": "-",
                "targetColumn": "city_cat",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        new_column(p, schema)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        return ctx.project(add=[(p["targetColumn"], merge(ctx, p), p["sourceColumns"][-1])])


@register
class MergeColumnsAndValues(Merge):
    """DataBrew's text-function spelling of MERGE."""

    name = "MERGE_COLUMNS_AND_VALUES"
    category = "text"
    doc = "Join the text of several columns with an optional delimiter (NULLs are skipped)."
    examples = (
        {
            "parameters": {
                "sourceColumns": '["name", "city"]',
                "delimiter": " from ",
                "targetColumn": "who",
            }
        },
    )
