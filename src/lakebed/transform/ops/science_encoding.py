"""Encoding categorical and text columns: one-hot, categorical mapping, ordinal encoding and
tokenisation.

Encoders learn their categories at fit time and store them with the recipe version, so the
output columns and codes are the same when the recipe runs on new data: values unseen at fit
time get all-zero one-hot columns, NULL ordinal codes, and the unmapped-value policy of
CATEGORICAL_MAPPING. Missing values (NULL, blank text) are never a category.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._dual import Dual, spark_lit
from lakebed.transform.ops._stats import _plain, is_missing, value_sql
from lakebed.transform.ops.base import Ctx, Operation, Param, literal, quote
from lakebed.transform.ops.quality_missing import custom_value

CATEGORY = "data science: encoding"
MAX_ONE_HOT = 10
"""DataBrew one-hot encodes at most ten distinct values; lakebed keeps the ten most frequent."""


def categories(ctx: Ctx, col: str, limit: int | None = None) -> list[Any]:
    """The distinct non-missing values of ``col``, sorted; with ``limit``, only that many of
    the most frequent (ties: smaller value first)."""
    c = quote(col)
    top = f" ORDER BY n DESC, v LIMIT {limit}" if limit else ""
    rows = Dual(ctx).query(
        f"SELECT v FROM (SELECT {c} AS v, count(*) AS n FROM {ctx.input} "
        f"WHERE NOT {is_missing(ctx, col)} GROUP BY {c}{top}) AS g ORDER BY v"
    )
    return [_plain(r["v"]) for r in rows]


def _name(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


@register
class OneHotEncoding(Operation):
    name = "ONE_HOT_ENCODING"
    category = CATEGORY
    learns = True
    doc = (
        "One INTEGER 0/1 column per category, named <sourceColumn>_<value>, placed after the "
        "source. Categories are learned at fit time (sorted; at most the 10 most frequent, as "
        "DataBrew allows ten)."
    )
    params = {"sourceColumn": Param("column")}
    examples = ({"parameters": {"sourceColumn": "category"}},)

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        return {"categories": categories(ctx, p["sourceColumn"], MAX_ONE_HOT)}

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        col = p["sourceColumn"]
        add = []
        for value in (ctx.state or {}).get("categories") or []:
            hit = f"{quote(col)} = {value_sql(ctx, col, value)}"
            expr = f"CAST(coalesce({hit}, FALSE) AS INTEGER)"
            add.append((f"{col}_{_name(value)}", expr, col))
        return ctx.project(add=add)


@register
class OrdinalEncoding(Operation):
    name = "ORDINAL_ENCODING"
    category = CATEGORY
    learns = True
    databrew = False
    doc = (
        "A new INTEGER column with each value's position (0, 1, ...) among the sorted "
        "categories learned at fit time; missing or unseen values are NULL."
    )
    params = {"sourceColumn": Param("column"), "targetColumn": Param("new_column")}
    examples = ({"parameters": {"sourceColumn": "city", "targetColumn": "city_code"}},)

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        return {"categories": categories(ctx, p["sourceColumn"])}

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        col = p["sourceColumn"]
        cats = (ctx.state or {}).get("categories") or []
        whens = " ".join(
            f"WHEN {quote(col)} = {value_sql(ctx, col, v)} THEN {i}" for i, v in enumerate(cats)
        )
        expr = f"CAST(CASE {whens} END AS INTEGER)" if cats else "CAST(NULL AS INTEGER)"
        return ctx.project(add=[(p["targetColumn"], expr, col)])


@register
class CategoricalMapping(Operation):
    name = "CATEGORICAL_MAPPING"
    category = CATEGORY
    learns = True
    doc = (
        "Map values to categories with categoryMap ({value: category}); without it the map is "
        "learned: sorted distinct values to 1, 2, ... Unmapped values are dropped "
        "(deleteOtherRows), set to `other`, kept (keepOthers) or NULL. mapType NUMERIC gives a "
        "DOUBLE column, otherwise text."
    )
    params = {
        "sourceColumn": Param("column"),
        "targetColumn": Param("new_column", required=False),
        "categoryMap": Param("json", required=False, doc='{"Paris": "1", "Rome": "2"}'),
        "deleteOtherRows": Param("bool", required=False, default=False),
        "other": Param("value", required=False),
        "keepOthers": Param("bool", required=False, default=False),
        "mapType": Param("str", required=False, default="STRING", doc="NUMERIC or STRING"),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "city",
                "targetColumn": "city_id",
                "mapType": "NUMERIC",
                "categoryMap": '{"Paris": "1", "Berlin": "2", "Rome": "3"}',
                "keepOthers": "false",
                "other": "0",
            }
        },
        {
            "parameters": {
                "sourceColumn": "category",
                "targetColumn": "category_code",
                "mapType": "NUMERIC",
            }
        },
    )

    def _numeric(self, p: Mapping[str, Any]) -> bool:
        return str(p["mapType"]).strip().upper() in ("NUMERIC", "NUMBER", "DOUBLE", "INTEGER")

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        mapping = p["categoryMap"]
        if mapping is not None and not isinstance(mapping, dict):
            raise ConfigError(
                "categoryMap must be a JSON object of value: category",
                fix='give categoryMap as {"Paris": "1", "Rome": "2"}',
            )
        if self._numeric(p):
            for v in [*(mapping or {}).values(), *([p["other"]] if p["other"] else [])]:
                try:
                    float(v)
                except (TypeError, ValueError):
                    raise ConfigError(
                        f"mapType is NUMERIC but category {v!r} is not a number",
                        fix="use numbers as categories, or mapType STRING",
                    ) from None
        for key in mapping or {}:
            custom_value(Ctx("x", schema), p["sourceColumn"], str(key), "categoryMap key")

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        if p["categoryMap"] is not None:
            return {"map": [[str(k), str(v)] for k, v in p["categoryMap"].items()]}
        cats = categories(ctx, p["sourceColumn"])
        return {"map": [[_name(c), str(i)] for i, c in enumerate(cats, 1)]}

    def _out(self, p: Mapping[str, Any], value: Any) -> str:
        if self._numeric(p):
            return f"CAST({float(value)!r} AS DOUBLE)"
        return literal(str(value))

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        col = p["sourceColumn"]
        pairs = (ctx.state or {}).get("map") or []
        hits = [f"{quote(col)} = {custom_value(ctx, col, k, 'categoryMap key')}" for k, _ in pairs]
        whens = [f"WHEN {h} THEN {self._out(p, v)}" for h, (_, v) in zip(hits, pairs, strict=True)]
        kind = "DOUBLE" if self._numeric(p) else "VARCHAR"
        if p["other"] is not None:
            otherwise = self._out(p, p["other"])
        elif p["keepOthers"]:
            otherwise = f"TRY_CAST({quote(col)} AS {kind})"
        else:
            otherwise = f"CAST(NULL AS {kind})"
        expr = f"CASE {' '.join(whens)} ELSE {otherwise} END" if whens else otherwise
        target = p["targetColumn"] or f"{col}_mapped"
        out = ctx.project(add=[(target, expr, col)])
        if not p["deleteOtherRows"]:
            return out
        drop = f"NOT coalesce({' OR '.join(hits) or 'FALSE'}, FALSE)"
        if ctx.condition is not None:
            drop = f"coalesce({ctx.condition}, FALSE) AND {drop}"
        return f"SELECT * FROM ({out}) AS m WHERE NOT ({drop})"


STOP_WORDS = (
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "but",
    "by",
    "for",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "no",
    "not",
    "of",
    "on",
    "or",
    "such",
    "that",
    "the",
    "their",
    "then",
    "there",
    "these",
    "they",
    "this",
    "to",
    "was",
    "were",
    "will",
    "with",
    "i",
    "you",
    "he",
    "she",
    "we",
    "me",
    "my",
    "our",
    "your",
    "so",
    "do",
    "does",
    "did",
    "have",
    "has",
    "had",
)
CONTRACTIONS = (
    ("won't", "will not"),
    ("can't", "can not"),
    ("n't", " not"),
    ("'re", " are"),
    ("'ll", " will"),
    ("'ve", " have"),
    ("'m", " am"),
    ("'d", " would"),
)
TOKEN_SPLIT = "[^\\p{L}\\p{N}]+"


def _esc(template: str) -> str:
    """A template for :meth:`Dual.pick`: braces kept literally, ``@`` the argument."""
    return template.replace("{", "{{").replace("}", "}}").replace("@", "{0}", 1)


@register
class Tokenization(Operation):
    name = "TOKENIZATION"
    category = CATEGORY
    doc = (
        "A new column with the text lower-cased and split into word tokens (letters and "
        "digits), joined by `delimiter` (default a space). expandContractions ENABLED expands "
        "don't -> do not first; stopWordRemovalMode DEFAULT drops common English words, CUSTOM "
        "the customStopWords list. Stemming (PORTER, LANCASTER) is not supported."
    )
    params = {
        "sourceColumn": Param("column"),
        "targetColumn": Param("new_column"),
        "delimiter": Param("str", required=False, default=" "),
        "expandContractions": Param("str", required=False, default="DISABLED"),
        "stemmingMode": Param("str", required=False),
        "stopWordRemovalMode": Param("str", required=False, default="NONE"),
        "customStopWords": Param("json", required=False, default=[]),
    }
    examples = (
        {"parameters": {"sourceColumn": "notes", "targetColumn": "tokens"}},
        {
            "parameters": {
                "sourceColumn": "notes",
                "targetColumn": "tokens",
                "delimiter": "|",
                "expandContractions": "ENABLED",
                "stopWordRemovalMode": "DEFAULT",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        mode = (p["stemmingMode"] or "NONE").strip().upper()
        if mode not in ("NONE", "DISABLED", ""):
            raise ConfigError(
                f"stemmingMode {p['stemmingMode']} is not supported by lakebed",
                fix="remove stemmingMode (tokens are lower-cased words without stemming)",
            )
        if not isinstance(p["customStopWords"], list):
            raise ConfigError("customStopWords must be a JSON list", fix='give ["foo", "bar"]')

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        text = f"lower(CAST({quote(p['sourceColumn'])} AS VARCHAR))"
        if str(p["expandContractions"]).strip().upper() in ("ENABLED", "TRUE"):
            for short, full in CONTRACTIONS:
                text = f"replace({text}, {literal(short)}, {literal(full)})"
        mode = str(p["stopWordRemovalMode"] or "NONE").strip().upper()
        stops: list[str] = []
        if mode == "DEFAULT":
            stops = list(STOP_WORDS)
        if mode in ("CUSTOM", "DEFAULT"):
            stops += [str(w).lower() for w in p["customStopWords"]]
        keep_duck = "t <> ''" + (
            f" AND t NOT IN ({', '.join(literal(w) for w in stops)})" if stops else ""
        )
        keep_spark = "t <> ''" + (
            f" AND NOT t IN ({', '.join(spark_lit(w) for w in stops)})" if stops else ""
        )
        expr = d.pick(
            _esc(
                f"array_to_string(list_filter(regexp_split_to_array(@, {literal(TOKEN_SPLIT)}), "
                f"lambda t: {keep_duck}), {literal(p['delimiter'])})"
            ),
            _esc(
                f"array_join(filter(split(@, {spark_lit(TOKEN_SPLIT)}), t -> {keep_spark}), "
                f"{spark_lit(p['delimiter'])})"
            ),
            text,
        )
        return d.done(ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])]))
