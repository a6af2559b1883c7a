"""Balancing classes (as SageMaker Data Wrangler's "balance data"): random undersampling, random
oversampling and SMOTE, by a label column.

``targetRatio`` is the wanted size of every smaller class relative to the largest one (1.0:
all classes the same size). Rows with a NULL label are kept as they are and are not a class.

- **RANDOM_UNDERSAMPLE** keeps, of each class, at most ``floor(minority / targetRatio)`` rows
  (``minority`` is the smallest class's size): those with the smallest seeded random value
  (:meth:`~lakebed.transform.ops.base.Ctx.rand`), so DuckDB and Spark keep the same rows. Kept
  rows keep their row order.
- **RANDOM_OVERSAMPLE** grows each class to at least ``ceil(targetRatio * majority)`` rows by
  adding copies of its rows: every row is copied ``floor(extra / size)`` times and the rows with
  the smallest seeded random values once more, until the class has the rows it needs. Copies
  come after all input rows.
- **SMOTE** adds synthetic rows to the minority class (the smallest class, or
  ``minorityClass``): each is ``x + u * (neighbour - x)`` for a minority row ``x``, one of its
  ``k`` nearest minority neighbours (Euclidean distance over ``featureColumns``) and ``u`` in
  [0, 1), drawn with numpy's seeded generator. Fitting reads the minority rows (at most
  :data:`MAX_MINORITY_ROWS`) and stores the synthetic rows in the recipe's state, so the same
  rows are added on every engine and when the recipe is applied again. Synthetic rows have the
  label, the features (rounded for integer columns) and NULL in every other column.

The sampling operations learn nothing: classes are counted on the data they run on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._dual import Dual, num
from lakebed.transform.ops._stats import _plain, sql_type, value_sql
from lakebed.transform.ops.base import NUMERIC, ROW, Ctx, Operation, Param, quote

CATEGORY = "ml: balance data"
MAX_MINORITY_ROWS = 200_000
"""SMOTE reads the minority rows into memory to find neighbours: at most this many."""
MAX_SYNTHETIC_ROWS = 200_000
"""SMOTE stores its synthetic rows with the recipe version: at most this many."""
EPS = 1e-9

LABEL = Param("column", doc="the class label column")
RATIO = Param(
    "float",
    required=False,
    default=1.0,
    doc="wanted size of each smaller class relative to the largest (0 < ratio <= 1)",
)
SEED = Param("int", required=False, default=0, doc="seed: same seed, same rows")


def _check_ratio(p: Mapping[str, Any], op: str) -> None:
    if not 0 < p["targetRatio"] <= 1:
        raise ConfigError(
            f"{op}: targetRatio must be above 0 and at most 1, got {p['targetRatio']}",
            fix="give targetRatio as e.g. 1.0 (equal classes) or 0.5 (half the majority)",
        )


def _columns(ctx: Ctx) -> str:
    return ", ".join(quote(c) for c in ctx.columns)


def _ranked(ctx: Ctx, p: Mapping[str, Any], salt: str) -> tuple[Dual, str]:
    """Rows with their class size (__lb_n, NULL for NULL labels) and rank by seeded random
    value within the class (__lb_rn)."""
    d = Dual(ctx)
    r = ctx.rand(p["randomSeed"], salt)  # written so that sqlglot keeps it on Spark
    label = quote(p["labelColumn"])
    return d, (
        f"SELECT *, CASE WHEN {label} IS NOT NULL THEN count(*) OVER (PARTITION BY {label}) "
        f"END AS __lb_n, row_number() OVER (PARTITION BY {label} ORDER BY {r}, {ROW}) "
        f"AS __lb_rn FROM {ctx.input}"
    )


@register
class RandomUndersample(Operation):
    name = "RANDOM_UNDERSAMPLE"
    category = CATEGORY
    databrew = False
    conditions = False
    doc = (
        "Balance classes by dropping rows: each class of labelColumn keeps at most "
        "floor(smallest class / targetRatio) rows, chosen by a seeded random value (the same "
        "rows on every engine). NULL labels are kept."
    )
    params = {"labelColumn": LABEL, "targetRatio": RATIO, "randomSeed": SEED}
    examples = (
        {"parameters": {"labelColumn": "label"}},
        {"parameters": {"labelColumn": "category", "targetRatio": "0.8", "randomSeed": "7"}},
    )  # fmt: skip

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        _check_ratio(p, self.name)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d, ranked = _ranked(ctx, p, "undersample")
        keep = f"floor(CAST(__lb_min AS DOUBLE) / {num(p['targetRatio'])} + {EPS!r})"
        return d.done(
            f"SELECT {_columns(ctx)}, {ROW} FROM (SELECT *, min(__lb_n) OVER () AS __lb_min "
            f"FROM ({ranked}) AS a) AS b WHERE {quote(p['labelColumn'])} IS NULL "
            f"OR __lb_rn <= {keep}"
        )


@register
class RandomOversample(Operation):
    name = "RANDOM_OVERSAMPLE"
    category = CATEGORY
    databrew = False
    conditions = False
    doc = (
        "Balance classes by copying rows: each class of labelColumn grows to at least "
        "ceil(targetRatio x largest class) rows; every row is copied equally often and rows "
        "picked by a seeded random value once more. Copies follow the input rows."
    )
    params = {"labelColumn": LABEL, "targetRatio": RATIO, "randomSeed": SEED}
    examples = (
        {"parameters": {"labelColumn": "label"}},
        {"parameters": {"labelColumn": "category", "targetRatio": "0.9", "randomSeed": "3"}},
    )  # fmt: skip

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        _check_ratio(p, self.name)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        d, ranked = _ranked(ctx, p, "oversample")
        cols = _columns(ctx)
        target = f"ceil({num(p['targetRatio'])} * CAST(__lb_max AS DOUBLE) - {EPS!r})"
        extra = f"greatest(CAST({target} AS BIGINT) - __lb_n, 0)"
        counted = (
            f"SELECT *, {extra} AS __lb_e FROM (SELECT *, max(__lb_n) OVER () AS __lb_max "
            f"FROM ({ranked}) AS a) AS b"
        )
        copies = (
            "CAST(floor(CAST(__lb_e AS DOUBLE) / CAST(__lb_n AS DOUBLE)) AS BIGINT) + "
            "CASE WHEN __lb_rn <= __lb_e % __lb_n THEN 1 ELSE 0 END"
        )
        series = d.pick("unnest(generate_series(1, {0}))", "explode(sequence(1, {0}))", "__lb_c")
        exploded = (
            f"SELECT *, {series} AS __lb_j FROM (SELECT *, {copies} AS __lb_c FROM ({counted}) "
            "AS c) AS e WHERE __lb_c > 0"
        )
        new_row = (
            f"(SELECT coalesce(max({ROW}), -1) FROM {ctx.input}) + "
            f"row_number() OVER (ORDER BY {ROW}, __lb_j)"
        )
        return d.done(
            f"SELECT {cols}, {ROW} FROM {ctx.input} UNION ALL "
            f"SELECT {cols}, {new_row} AS {ROW} FROM ({exploded}) AS x"
        )


def _classes(ctx: Ctx, label: str) -> list[tuple[Any, int]]:
    """(value, rows) of each non-NULL class, smallest first (ties: smaller value first)."""
    c = quote(label)
    rows = Dual(ctx).query(
        f"SELECT {c} AS v, count(*) AS n FROM {ctx.input} WHERE {c} IS NOT NULL GROUP BY {c} "
        "ORDER BY n, v"
    )
    return [(_plain(r["v"]), int(r["n"])) for r in rows]


def synthesize(points: np.ndarray, count: int, k: int, seed: int) -> np.ndarray:
    """``count`` SMOTE points from the rows of ``points`` (see the module doc); deterministic
    for a seed: bases, neighbour choices and gaps are drawn from numpy's PCG64 generator in that
    order, neighbours ordered by distance then row position."""
    m = len(points)
    rng = np.random.default_rng(seed)
    bases = rng.integers(0, m, size=count)
    k_eff = min(k, m - 1)
    picks = rng.integers(0, k_eff, size=count)
    gaps = rng.random(size=count)
    neighbours = np.zeros((m, k_eff), dtype=np.int64)
    unique = np.unique(bases)
    step = max(1, 20_000_000 // max(1, m * points.shape[1]))  # ~160 MB of differences
    for start in range(0, len(unique), step):
        chunk = unique[start : start + step]
        dist = ((points[chunk, None, :] - points[None, :, :]) ** 2).sum(axis=2)
        dist[np.arange(len(chunk)), chunk] = np.inf  # a row is not its own neighbour
        neighbours[chunk] = np.argsort(dist, axis=1, kind="stable")[:, :k_eff]
    x = points[bases]
    nb = points[neighbours[bases, picks]]
    out: np.ndarray = x + gaps[:, None] * (nb - x)
    return out


@register
class Smote(Operation):
    name = "SMOTE"
    category = CATEGORY
    databrew = False
    conditions = False
    learns = True
    doc = (
        "Add synthetic minority-class rows (SMOTE): each interpolates between a minority row "
        "and one of its `neighbors` nearest minority rows over featureColumns, until the "
        "minority class has ceil(targetRatio x largest class) rows. The synthetic rows are "
        "computed at fit time (seeded) and stored with the recipe version; they carry the "
        "label and the features (rounded for integer columns), NULL elsewhere, and follow the "
        f"input rows. At most {MAX_MINORITY_ROWS} minority rows."
    )
    params = {
        "labelColumn": LABEL,
        "featureColumns": Param("columns", doc="numeric feature columns, as a JSON list"),
        "targetRatio": RATIO,
        "neighbors": Param("int", required=False, default=5, doc="k nearest neighbours"),
        "minorityClass": Param(
            "value", required=False, doc="the class to grow (default: the smallest class)"
        ),
        "randomSeed": SEED,
    }
    examples = (
        {"parameters": {"labelColumn": "label", "featureColumns": '["price", "qty"]',
                        "neighbors": "3", "randomSeed": "1"}},
        {"parameters": {"labelColumn": "category", "featureColumns": '["id", "price"]',
                        "minorityClass": "c", "targetRatio": "0.8"}},
    )  # fmt: skip

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        _check_ratio(p, self.name)
        for col in p["featureColumns"]:
            t = schema.field(col).type
            if not any(test(t) for test in NUMERIC):
                raise ConfigError(
                    f"SMOTE: feature column {col!r} is {t}, not a number",
                    fix="list only numeric columns in featureColumns (convert others first)",
                )
        if p["labelColumn"] in p["featureColumns"]:
            raise ConfigError(
                "SMOTE: labelColumn is also in featureColumns",
                fix="remove the label from featureColumns",
            )
        if p["neighbors"] < 1:
            raise ConfigError(
                f"SMOTE: neighbors must be at least 1, got {p['neighbors']}",
                fix="give neighbors as a whole number, e.g. 5",
            )

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        label, features = p["labelColumn"], list(p["featureColumns"])
        classes = _classes(ctx, label)
        empty: dict[str, Any] = {"label": None, "rows": []}
        if len(classes) < 2 and p["minorityClass"] is None:
            return empty
        if p["minorityClass"] is None:
            minority, size = classes[0]
        else:
            found = [c for c in classes if str(c[0]).lower() == str(p["minorityClass"]).lower()]
            if not found:
                return empty  # the class is absent: nothing to grow
            minority, size = found[0]
        wanted = math.ceil(p["targetRatio"] * max(n for _, n in classes) - EPS)
        count = max(0, wanted - size)
        if count > MAX_SYNTHETIC_ROWS:
            raise ConfigError(
                f"SMOTE would add {count} synthetic rows, over the limit of "
                f"{MAX_SYNTHETIC_ROWS} (they are stored with the recipe version)",
                fix="lower targetRatio, or undersample the majority class first",
            )
        filt = " AND ".join(
            f"{quote(f)} IS NOT NULL AND NOT isnan(CAST({quote(f)} AS DOUBLE))" for f in features
        )
        select = ", ".join(f"CAST({quote(f)} AS DOUBLE) AS f{i}" for i, f in enumerate(features))
        table = Dual(ctx).query(
            f"SELECT {select} FROM {ctx.input} WHERE {quote(label)} = "
            f"{value_sql(ctx, label, minority)} AND {filt} ORDER BY {ROW} "
            f"LIMIT {MAX_MINORITY_ROWS + 1}"
        )
        if len(table) > MAX_MINORITY_ROWS:
            raise ConfigError(
                f"SMOTE: the minority class {minority!r} has more than {MAX_MINORITY_ROWS} rows "
                "with all features, the most SMOTE reads into memory",
                fix="sample the data first (or undersample the majority class instead)",
            )
        points = np.array([[r[f"f{i}"] for i in range(len(features))] for r in table], float)
        if count == 0 or len(points) < 2:
            return {"label": minority, "rows": []}
        synthetic = synthesize(points, count, p["neighbors"], p["randomSeed"])
        rows: list[list[float | int]] = []
        integral = [pa.types.is_integer(ctx.type_of(f)) for f in features]
        for values in synthetic.tolist():
            rows.append([round(v) if i else v for v, i in zip(values, integral, strict=True)])
        return {"label": minority, "rows": rows}

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        state = ctx.state or {}
        rows = state.get("rows") or []
        original = f"SELECT {_columns(ctx)}, {ROW} FROM {ctx.input}"
        if not rows:
            return original
        features = list(p["featureColumns"])
        label = p["labelColumn"]
        values = ", ".join(
            "(" + ", ".join([str(i), *(num(v) for v in row)]) + ")" for i, row in enumerate(rows)
        )
        names = ", ".join(["__lb_i", *(f"__lb_f{i}" for i in range(len(features)))])
        out = []
        for c in ctx.columns:
            if c in features:
                value = f"s.__lb_f{features.index(c)}"
                out.append(f"CAST({value} AS {sql_type(ctx, c) or 'DOUBLE'}) AS {quote(c)}")
            elif c == label:
                out.append(f"{value_sql(ctx, label, state.get('label'))} AS {quote(c)}")
            else:
                out.append(f"e.{quote(c)}")
        new_row = f"(SELECT coalesce(max({ROW}), -1) FROM {ctx.input}) + 1 + s.__lb_i"
        return (
            f"{original} UNION ALL SELECT {', '.join(out)}, {new_row} AS {ROW} "
            f"FROM (VALUES {values}) AS s({names}) "
            f"LEFT JOIN (SELECT * FROM {ctx.input} LIMIT 0) AS e ON FALSE"
        )
