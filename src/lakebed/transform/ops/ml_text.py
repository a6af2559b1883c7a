"""Text featurisation (as SageMaker Data Wrangler's "featurize text"): tokens, count vectors,
TF-IDF vectors and hashed count vectors.

**Tokens** are the text lower-cased and split on every run of characters that are not letters or
digits (Unicode ``[^\\p{L}\\p{N}]+``, the same on DuckDB's RE2 and Java), without empty tokens
and without the ``stopWords`` given (compared lower-cased). NULL text gives NULL.

**Vocabulary** (COUNT_VECTORIZE, TFIDF_VECTORIZE), learned at fit time: the document frequency
``df`` of a term is the number of rows whose tokens contain it; terms with ``df >= minDf`` are
ranked by ``df`` descending, ties broken alphabetically (by code point), and the first
``maxFeatures`` kept. The kept terms are then sorted alphabetically: that is the vocabulary
order of the vector elements and of the per-term columns.

**TF-IDF** (scikit-learn's defaults): ``tf`` is the raw count of the term in the row,
``idf = ln((1 + n) / (1 + df)) + 1`` with ``n`` the number of non-NULL documents at fit time,
and each row's vector ``tf * idf`` is divided by its Euclidean (L2) norm; a row without any
vocabulary term is all zeros. The vocabulary, ``n`` and the ``df`` / ``idf`` values are the
stored state, so new data is weighted with the training data's statistics.

**Hashing** (HASHING_VECTORIZE, nothing learned): token ``t`` counts in bucket
``int(md5(t)[0:8], 16) % numFeatures`` (the first 8 hex digits of the MD5 of its UTF-8 bytes as
an unsigned integer), identical on both engines.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from string import Template
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._common import require_string, text_of
from lakebed.transform.ops._dual import Dual, num, spark_lit
from lakebed.transform.ops.base import ROW, Ctx, Operation, Param, literal

CATEGORY = "ml: text features"
SPLIT = "[^\\p{L}\\p{N}]+"
TOK = "__lb_tok"
VEC = "__lb_vec"
AUX = "__lb_aux"
MAX_VOCABULARY = 10_000
MAX_COLUMNS = 1_000
MAX_BUCKETS = 65_536


def _esc(template: str, **text: str) -> str:
    """A :meth:`Dual.pick` template from ``template``, where ``@`` is the argument and
    ``$name`` is the SQL ``text[name]`` (literals of user words, which may hold ``@`` or
    braces: they are kept as they are)."""

    def braces(sql: str) -> str:
        return sql.replace("{", "{{").replace("}", "}}")

    code = Template(braces(template).replace("@", "{0}"))
    return code.substitute({name: braces(sql) for name, sql in text.items()})


def _stops(p: Mapping[str, Any]) -> list[str]:
    words = p.get("stopWords") or []
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise ConfigError(
            "stopWords must be a JSON list of words", fix='give stopWords as ["the", "a"]'
        )
    return sorted({w.lower() for w in words})


def tokens(d: Dual, text: str, stops: list[str]) -> str:
    """The array of tokens of the text expression ``text`` (see the module doc)."""
    keep_duck = "t <> ''" + (
        f" AND NOT list_contains([{', '.join(literal(w) for w in stops)}], t)" if stops else ""
    )
    keep_spark = "t <> ''" + (
        f" AND NOT array_contains(array({', '.join(spark_lit(w) for w in stops)}), t)"
        if stops
        else ""
    )
    return d.pick(
        _esc(
            "list_filter(regexp_split_to_array(lower(@), $split), lambda t: $keep)",
            split=literal(SPLIT),
            keep=keep_duck,
        ),
        _esc(
            "filter(split(lower(@), $split), t -> $keep)", split=spark_lit(SPLIT), keep=keep_spark
        ),
        text,
    )


def _with(ctx: Ctx, d: Dual, p: Mapping[str, Any], alias: str) -> Ctx:
    """``ctx`` reading a subquery that adds the token array as column TOK."""
    tok = tokens(d, text_of(ctx, p["sourceColumn"]), _stops(p))
    inner = f"(SELECT *, {tok} AS {TOK} FROM {ctx.input}) AS {alias}"
    return dataclasses.replace(ctx, input=inner)


STOP_WORDS = Param("json", required=False, default=[], doc='words to drop, e.g. ["the", "a"]')
SOURCE = Param("column", doc="the text column")
TARGET = Param("new_column", doc="the new column (or the prefix <targetColumn>_ per term)")


@register
class TokenizeText(Operation):
    name = "TOKENIZE_TEXT"
    category = CATEGORY
    databrew = False
    doc = (
        "A new array<string> column of the text's tokens: lower-cased, split on every run of "
        "characters that are not letters or digits, stopWords removed. NULL text gives NULL."
    )
    params = {"sourceColumn": SOURCE, "targetColumn": TARGET, "stopWords": STOP_WORDS}
    examples = (
        {"parameters": {"sourceColumn": "notes", "targetColumn": "tokens"}},
        {"parameters": {"sourceColumn": "notes", "targetColumn": "tokens",
                        "stopWords": '["and", "in", "Out"]'}},
    )  # fmt: skip

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        require_string(p, schema, "sourceColumn", self.name)
        _stops(p)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        expr = tokens(d, text_of(ctx, p["sourceColumn"]), _stops(p))
        return d.done(ctx.project(add=[(p["targetColumn"], expr, p["sourceColumn"])]))


def vocabulary(ctx: Ctx, p: Mapping[str, Any]) -> dict[str, Any]:
    """The learned vocabulary: ``{"terms": [...], "df": [...], "documents": n}``."""
    d = Dual(ctx)
    tok = tokens(d, text_of(ctx, p["sourceColumn"]), _stops(p))
    where = f" WHERE {ctx.condition}" if ctx.condition else ""
    docs = f"(SELECT {ROW} AS r, {tok} AS tok FROM {ctx.input}{where}) AS docs"
    n = d.query(f"SELECT count(tok) AS n FROM {docs}")[0]["n"]
    explode = d.pick("unnest({0})", "explode({0})", "tok")
    rows = d.query(
        f"SELECT t, count(*) AS df FROM (SELECT DISTINCT r, t FROM (SELECT r, {explode} AS t "
        f"FROM {docs} WHERE tok IS NOT NULL) AS e) AS u GROUP BY t "
        f"HAVING count(*) >= {int(p['minDf'])} ORDER BY df DESC, t LIMIT {int(p['maxFeatures'])}"
    )
    kept = sorted((r["t"], int(r["df"])) for r in rows)
    return {"terms": [t for t, _ in kept], "df": [f for _, f in kept], "documents": int(n or 0)}


def _empty(d: Dual) -> str:
    """An empty DOUBLE array, NULL where the tokens are NULL."""
    empty = d.pick("CAST([] AS DOUBLE[])", "CAST(array() AS ARRAY<DOUBLE>)")
    return f"CASE WHEN {TOK} IS NOT NULL THEN {empty} END"


def term_counts(d: Dual, terms: list[str], weights: list[float] | None) -> str:
    """The DOUBLE array of each term's count in TOK (times its weight), NULL for NULL tokens."""
    if not terms:
        return _empty(d)
    w_duck = w_spark = ""
    if weights is not None:
        w_duck = " * [" + ", ".join(num(w) for w in weights) + "][i]"
        w_spark = " * element_at(array(" + ", ".join(num(w) for w in weights) + "), i + 1)"
    duck = ", ".join(literal(t) for t in terms)
    spark = ", ".join(spark_lit(t) for t in terms)
    return d.pick(
        _esc(
            "CASE WHEN @ IS NOT NULL THEN list_transform([$terms], lambda v, i: "
            "CAST(len(list_filter(@, lambda t: t = v)) AS DOUBLE)$weights) END",
            terms=duck,
            weights=w_duck,
        ),
        _esc(
            "CASE WHEN @ IS NOT NULL THEN transform(array($terms), (v, i) -> "
            "CAST(size(filter(@, t -> t = v)) AS DOUBLE)$weights) END",
            terms=spark,
            weights=w_spark,
        ),
        TOK,
    )


def l2_normalized(d: Dual, raw: str, ctx: Ctx) -> tuple[Ctx, str]:
    """A context whose input adds the L2 norm of vector column ``raw``; and the normalised
    vector expression (all zeros stay zeros)."""
    norm = d.pick(
        "sqrt(list_sum(list_transform({0}, lambda x: x * x)))",
        "sqrt(aggregate({0}, CAST(0 AS DOUBLE), (acc, x) -> acc + x * x))",
        raw,
    )
    nctx = dataclasses.replace(
        ctx, input=f"(SELECT *, {norm} AS __lb_norm FROM {ctx.input}) AS __lb_nm"
    )
    scaled = d.pick(
        "list_transform({0}, lambda x: x / {1})", "transform({0}, x -> x / {1})", raw, "__lb_norm"
    )
    return nctx, f"CASE WHEN __lb_norm > 0 THEN {scaled} ELSE {raw} END"


OUTPUT = Param(
    "choice",
    required=False,
    default="ARRAY",
    choices=("ARRAY", "COLUMNS"),
    doc="ARRAY: one array<double> column; COLUMNS: a DOUBLE column <targetColumn>_<term> each",
)


class _Vectorizer(Operation):
    """Shared by the vectorisers: a DOUBLE vector per row, as one array column or one column
    per element (placed after the source column)."""

    category = CATEGORY
    databrew = False

    def names(self, p: Mapping[str, Any], state: Any) -> list[str]:
        """The element names (suffixes of the per-element columns)."""
        raise NotImplementedError

    def vector(self, p: Mapping[str, Any], d: Dual, state: Any) -> str:
        """The raw vector: a DOUBLE array expression over the TOK column."""
        raise NotImplementedError

    def normalize(self, p: Mapping[str, Any]) -> bool:
        return False

    def aux(self, d: Dual) -> str | None:
        """An expression over TOK that :meth:`vector` reads as column AUX (or None)."""
        return None

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        require_string(p, schema, "sourceColumn", self.name)
        _stops(p)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d = Dual(ctx)
        tctx = _with(ctx, d, p, "__lb_tk")
        aux = self.aux(d)
        if aux is not None:  # a per-row helper column over the tokens, computed once
            tctx = dataclasses.replace(
                tctx, input=f"(SELECT *, {aux} AS {AUX} FROM {tctx.input}) AS __lb_ax"
            )
        raw = "__lb_raw"
        vctx = dataclasses.replace(
            tctx,
            input=f"(SELECT *, {self.vector(p, d, ctx.state)} AS {raw} FROM {tctx.input}) "
            "AS __lb_rw",
        )
        vec = raw
        if self.normalize(p):
            vctx, vec = l2_normalized(d, raw, vctx)
        src = p["sourceColumn"]
        if p["output"] == "ARRAY":
            return d.done(vctx.project(add=[(p["targetColumn"], vec, src)]))
        inner = f"(SELECT *, {vec} AS {VEC} FROM {vctx.input}) AS __lb_vc"
        vctx = dataclasses.replace(vctx, input=inner)
        add: list[tuple[str, str, str | None]] = []
        for i, name in enumerate(self.names(p, ctx.state)):
            element = d.pick("{0}[" + str(i + 1) + "]", "element_at({0}, " + str(i + 1) + ")", VEC)
            add.append((f"{p['targetColumn']}_{name}", element, src))
        return d.done(vctx.project(add=add))


def _check_vocab(p: Mapping[str, Any], schema: pa.Schema, op: str) -> None:
    if not 1 <= p["maxFeatures"] <= MAX_VOCABULARY:
        raise ConfigError(
            f"{op}: maxFeatures must be between 1 and {MAX_VOCABULARY}, got {p['maxFeatures']}",
            fix=f"give maxFeatures as a whole number up to {MAX_VOCABULARY}",
        )
    if p["output"] == "COLUMNS" and p["maxFeatures"] > MAX_COLUMNS:
        raise ConfigError(
            f"{op}: output COLUMNS makes one column per term; maxFeatures {p['maxFeatures']} "
            f"is over the limit of {MAX_COLUMNS}",
            fix=f"lower maxFeatures to {MAX_COLUMNS} or less, or use output ARRAY",
        )
    if p["minDf"] < 1:
        raise ConfigError(
            f"{op}: minDf must be at least 1, got {p['minDf']}",
            fix="give minDf as the minimum number of rows a term must appear in",
        )


VOCAB_PARAMS = {
    "sourceColumn": SOURCE,
    "targetColumn": TARGET,
    "maxFeatures": Param("int", required=False, default=100, doc="vocabulary size (top terms)"),
    "minDf": Param("int", required=False, default=1, doc="min rows a term must appear in"),
    "stopWords": STOP_WORDS,
    "output": OUTPUT,
}


@register
class CountVectorize(_Vectorizer):
    name = "COUNT_VECTORIZE"
    learns = True
    doc = (
        "Count each vocabulary term in the text's tokens (as TOKENIZE_TEXT makes them). The "
        "vocabulary is learned at fit time: the maxFeatures terms found in the most rows (at "
        "least minDf; ties alphabetical), sorted alphabetically. Output: one array<double> "
        "column (output ARRAY) or a DOUBLE column <targetColumn>_<term> per term (COLUMNS). "
        "NULL text gives NULL."
    )
    params = VOCAB_PARAMS
    examples = (
        {"parameters": {"sourceColumn": "notes", "targetColumn": "bow", "maxFeatures": "8"}},
        {"parameters": {"sourceColumn": "notes", "targetColumn": "bow", "maxFeatures": "4",
                        "stopWords": '["repeat"]', "output": "COLUMNS"}},
    )  # fmt: skip

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        _check_vocab(p, schema, self.name)

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        return vocabulary(ctx, p)

    def names(self, p: Mapping[str, Any], state: Any) -> list[str]:
        return list((state or {}).get("terms") or [])

    def vector(self, p: Mapping[str, Any], d: Dual, state: Any) -> str:
        return term_counts(d, self.names(p, state), None)


def idf(state: Mapping[str, Any]) -> list[float]:
    """Smoothed inverse document frequencies: ln((1 + n) / (1 + df)) + 1."""
    n = state.get("documents") or 0
    return [math.log((1 + n) / (1 + df)) + 1 for df in state.get("df") or []]


@register
class TfidfVectorize(CountVectorize):
    name = "TFIDF_VECTORIZE"
    doc = (
        "TF-IDF weights of the vocabulary terms (learned as in COUNT_VECTORIZE): raw count x "
        "idf, idf = ln((1 + n) / (1 + df)) + 1 with n the rows and df the rows holding the term "
        "at fit time, each row L2-normalised (scikit-learn's defaults). Output as one "
        "array<double> column or a DOUBLE column per term. NULL text gives NULL."
    )
    examples = (
        {"parameters": {"sourceColumn": "notes", "targetColumn": "tfidf", "maxFeatures": "6"}},
        {"parameters": {"sourceColumn": "notes", "targetColumn": "w", "maxFeatures": "3",
                        "minDf": "1", "output": "COLUMNS"}},
    )  # fmt: skip

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        state = vocabulary(ctx, p)
        state["idf"] = idf(state)
        return state

    def normalize(self, p: Mapping[str, Any]) -> bool:
        return True

    def vector(self, p: Mapping[str, Any], d: Dual, state: Any) -> str:
        state = state or {}
        return term_counts(d, self.names(p, state), list(state.get("idf") or []))


@register
class HashingVectorize(_Vectorizer):
    name = "HASHING_VECTORIZE"
    doc = (
        "Count the text's tokens into numFeatures buckets by hash: bucket = first 8 hex digits "
        "of md5(token) as an integer, mod numFeatures (the same on every engine; nothing is "
        "learned). normalize true divides each row by its L2 norm. Output: one array<double> "
        "column, or a DOUBLE column <targetColumn>_<bucket> per bucket (COLUMNS)."
    )
    params = {
        "sourceColumn": SOURCE,
        "targetColumn": TARGET,
        "numFeatures": Param("int", required=False, default=64, doc="number of buckets"),
        "normalize": Param("bool", required=False, default=False, doc="L2-normalise rows"),
        "stopWords": STOP_WORDS,
        "output": OUTPUT,
    }
    examples = (
        {"parameters": {"sourceColumn": "notes", "targetColumn": "hashed", "numFeatures": "8"}},
        {"parameters": {"sourceColumn": "notes", "targetColumn": "h", "numFeatures": "4",
                        "normalize": "true", "output": "COLUMNS"}},
    )  # fmt: skip

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        limit = MAX_COLUMNS if p["output"] == "COLUMNS" else MAX_BUCKETS
        if not 1 <= p["numFeatures"] <= limit:
            raise ConfigError(
                f"{self.name}: numFeatures must be between 1 and {limit} for output "
                f"{p['output']}, got {p['numFeatures']}",
                fix=f"give numFeatures as a whole number up to {limit}",
            )

    def names(self, p: Mapping[str, Any], state: Any) -> list[str]:
        return [str(i) for i in range(p["numFeatures"])]

    def normalize(self, p: Mapping[str, Any]) -> bool:
        return bool(p["normalize"])

    def aux(self, d: Dual) -> str | None:
        """The bucket of every token."""
        return d.pick(
            _esc("list_transform(@, lambda t: (('0x' || substr(md5(t), 1, 8))::BIGINT))"),
            _esc("transform(@, t -> CAST(conv(substr(md5(t), 1, 8), 16, 10) AS BIGINT))"),
            TOK,
        )

    def vector(self, p: Mapping[str, Any], d: Dual, state: Any) -> str:
        n = int(p["numFeatures"])
        return d.pick(
            _esc(
                "CASE WHEN @ IS NOT NULL THEN list_transform(range(0, " + str(n) + "), lambda i: "
                "CAST(len(list_filter(@, lambda b: b % " + str(n) + " = i)) AS DOUBLE)) END"
            ),
            _esc(
                "CASE WHEN @ IS NOT NULL THEN transform(sequence(0, " + str(n - 1) + "), i -> "
                "CAST(size(filter(@, b -> b % " + str(n) + " = i)) AS DOUBLE)) END"
            ),
            AUX,
        )
