"""Principal component analysis (as SageMaker Data Wrangler's "dimensionality reduction"):
project numeric columns onto their principal components.

**Fitting.** Over the rows where every chosen column is a number (not NULL, not NaN): the means
and the population covariance matrix (``covar_pop`` of every pair, one aggregate query on the
engine), standardised to the correlation matrix when ``standardize`` is true (each column
divided by its population standard deviation; a constant column is left unscaled). The
eigenvectors of that matrix (numpy ``eigh``), by eigenvalue descending, are the components;
each is signed so that its loading of largest magnitude is positive (the first such loading on
ties), so the result does not depend on the linear-algebra library. ``numComponents`` keeps that
many; ``varianceToKeep`` keeps the fewest whose explained variance ratios sum to at least it.

**Applying.** ``<prefix>1 .. <prefix>k`` (DOUBLE) are ``sum_i (x_i - mean_i) / scale_i * w_i``:
plain arithmetic, identical on every engine. A row with a NULL (or NaN) input gets NULL (NaN)
components. The means, scales, components and explained variance ratios are the stored state,
so new data is projected onto the training data's components.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._dual import Dual, num
from lakebed.transform.ops.base import NUMERIC, Ctx, Operation, Param, quote

CATEGORY = "ml: dimensionality reduction"
MAX_COLUMNS = 100
"""PCA computes every pair's covariance in one query: at most this many columns."""
DEFAULT_COMPONENTS = 2


def _x(col: str) -> str:
    return f"CAST({quote(col)} AS DOUBLE)"


def components(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The eigenvalues (descending, negatives from rounding set to 0) and the unit eigenvectors
    (as rows, sign convention of the module doc) of the symmetric matrix ``cov``."""
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(-values, kind="stable")
    values = np.clip(values[order], 0.0, None)
    rows = vectors[:, order].T.copy()
    for row in rows:
        if row[int(np.argmax(np.abs(row)))] < 0:
            row *= -1.0
    return values, rows


@register
class Pca(Operation):
    name = "PCA"
    category = CATEGORY
    databrew = False
    conditions = False
    learns = True
    doc = (
        "Principal components of numeric sourceColumns as new DOUBLE columns <prefix>1.. "
        "<prefix>k: numComponents of them, or the fewest explaining varianceToKeep of the "
        "variance (default 2). Learned at fit time (means, optional standardisation, "
        "covariance eigenvectors signed so the largest loading is positive); NULL inputs give "
        "NULL components. dropSourceColumns removes the inputs."
    )
    params = {
        "sourceColumns": Param("columns", doc="the numeric columns, as a JSON list"),
        "numComponents": Param("int", required=False, doc="how many components to keep"),
        "varianceToKeep": Param(
            "float", required=False, doc="or: the share of variance to keep (0 < v <= 1)"
        ),
        "standardize": Param(
            "bool", required=False, default=True, doc="scale columns to unit variance first"
        ),
        "prefix": Param("str", required=False, default="pc_", doc="names the new columns"),
        "dropSourceColumns": Param("bool", required=False, default=False),
    }
    examples = (
        {"parameters": {"sourceColumns": '["price", "qty", "id"]', "numComponents": "2"}},
        {"parameters": {"sourceColumns": '["id", "qty"]', "varianceToKeep": "0.99",
                        "standardize": "false", "prefix": "c", "dropSourceColumns": "true"}},
    )  # fmt: skip

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        cols = p["sourceColumns"]
        for col in cols:
            t = schema.field(col).type
            if not any(test(t) for test in NUMERIC):
                raise ConfigError(
                    f"PCA: column {col!r} in sourceColumns is {t}, not a number",
                    fix="list only numeric columns (convert text first with TO_DOUBLE_COLUMN)",
                )
        if len(set(cols)) != len(cols) or len(cols) > MAX_COLUMNS:
            raise ConfigError(
                f"PCA: sourceColumns must name 1 to {MAX_COLUMNS} different columns",
                fix="list each column once, and at most " + str(MAX_COLUMNS),
            )
        k, v = p["numComponents"], p["varianceToKeep"]
        if k is not None and v is not None:
            raise ConfigError(
                "PCA: give numComponents or varianceToKeep, not both",
                fix="remove one of them",
            )
        if k is not None and not 1 <= k <= len(cols):
            raise ConfigError(
                f"PCA: numComponents must be between 1 and {len(cols)} (the number of "
                f"sourceColumns), got {k}",
                fix="lower numComponents or add columns",
            )
        if v is not None and not 0 < v <= 1:
            raise ConfigError(
                f"PCA: varianceToKeep must be above 0 and at most 1, got {v}",
                fix="give varianceToKeep as a share, e.g. 0.95",
            )
        dropped = cols if p["dropSourceColumns"] else []
        taken = [n for n in self.names(p, len(cols)) if n in schema.names and n not in dropped]
        if taken:
            raise ConfigError(f"PCA: column {taken[0]!r} already exists", fix="give another prefix")

    def names(self, p: Mapping[str, Any], k: int) -> list[str]:
        return [f"{p['prefix']}{i + 1}" for i in range(k)]

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        cols = list(p["sourceColumns"])
        d = len(cols)
        xs = [_x(c) for c in cols]
        complete = " AND ".join(f"{x} IS NOT NULL AND NOT isnan({x})" for x in xs)
        aggs = ["count(*) AS n"] + [f"avg({x}) AS m{i}" for i, x in enumerate(xs)]
        for i in range(d):
            for j in range(i, d):
                aggs.append(f"covar_pop({xs[i]}, {xs[j]}) AS c{i}_{j}")
        row = Dual(ctx).query(f"SELECT {', '.join(aggs)} FROM {ctx.input} WHERE {complete}")[0]
        if not row["n"]:
            return {"means": None, "scales": None, "components": None, "explained": None}
        means = [float(row[f"m{i}"]) for i in range(d)]
        cov = np.empty((d, d))
        for i in range(d):
            for j in range(i, d):
                cov[i, j] = cov[j, i] = float(row[f"c{i}_{j}"] or 0.0)
        scales = [1.0] * d
        if p["standardize"]:
            scales = [float(np.sqrt(cov[i, i])) if cov[i, i] > 0 else 1.0 for i in range(d)]
            cov = cov / np.outer(scales, scales)
        values, rows = components(cov)
        total = float(values.sum())
        explained = (values / total).tolist() if total > 0 else [0.0] * d
        return {
            "means": means,
            "scales": scales,
            "components": rows.tolist(),
            "explained": explained,
        }

    def keep(self, p: Mapping[str, Any], state: Mapping[str, Any]) -> int:
        """How many components the step outputs."""
        d = len(p["sourceColumns"])
        if p["numComponents"] is not None:
            return int(p["numComponents"])
        if p["varianceToKeep"] is None:
            return min(DEFAULT_COMPONENTS, d)
        explained = state.get("explained")
        if not explained:
            return 1
        total = 0.0
        for i, share in enumerate(explained):
            total += share
            if total >= p["varianceToKeep"] - 1e-12:
                return i + 1
        return d

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        state = ctx.state or {}
        cols = list(p["sourceColumns"])
        k = self.keep(p, state)
        means, scales, comps = state.get("means"), state.get("scales"), state.get("components")
        add: list[tuple[str, str, str | None]] = []
        anchor = cols[-1] if not p["dropSourceColumns"] else None
        for n, name in enumerate(self.names(p, k)):
            if not comps or not means or not scales:
                expr = num(None)
            else:
                terms = [
                    f"(({_x(c)} - {num(means[i])}) / {num(scales[i])}) * {num(comps[n][i])}"
                    for i, c in enumerate(cols)
                ]
                expr = " + ".join(terms)
            add.append((name, f"CAST({expr} AS DOUBLE)", anchor))
        drop = cols if p["dropSourceColumns"] else []
        if drop:
            # new columns take the place of the first dropped source column
            first = ctx.columns.index(cols[0])
            before = [c for c in ctx.columns[:first] if c not in drop]
            after = [c for c in ctx.columns[first:] if c not in drop]
            order = [*before, *(a[0] for a in add), *after]
            return ctx.project(add=add, drop=drop, order=order)
        return ctx.project(add=add)
