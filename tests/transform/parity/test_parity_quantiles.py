"""Fitted quantiles past the size one query can return are the same on both engines: the
narrowing passes of :mod:`lakebed.transform.ops._quantiles` run on each, the interpolation in
Python, so medians, IQR bounds and percentiles agree to the bit."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from lakebed.transform import Recipe
from lakebed.transform.engines.base import Engine
from lakebed.transform.engines.duckdb import DuckDBEngine
from lakebed.transform.engines.spark import SparkEngine
from lakebed.transform.ops import _quantiles
from lakebed.transform.pipeline import build


def _values(rows: int) -> pa.Table:
    """Skewed doubles with ties, far outliers, infinities, NaN and NULL."""
    rng = np.random.default_rng(8)
    x = np.round(rng.lognormal(3.0, 1.0, rows), 3)
    x[rng.random(rows) < 0.3] = 7.0
    x[::4999] *= 1e6
    x[:3] = [np.inf, -np.inf, np.nan]
    values = pa.array(x, pa.float64()).to_pylist()
    values[3] = None
    return pa.table({"x": pa.array(values, pa.float64())})


RECIPE = (
    Recipe()
    .add("FLAG_OUTLIERS", sourceColumn="x", outlierStrategy="IQR", threshold=1.5,
         targetColumn="iqr")
    .add("FILL_WITH_MEDIAN", sourceColumn="x")
    .add("REPLACE_OUTLIERS", sourceColumn="x", outlierStrategy="MODIFIED_Z_SCORE", threshold=3,
         replaceType="WINSORIZE_VALUES")
)  # fmt: skip


def _states(engine: Engine, data: pa.Table, prefix: str) -> list[object]:
    engine.load_arrow(f"{prefix}_in", data)
    return build(engine, RECIPE, f"{prefix}_in", prefix=prefix).states


def test_quantile_fits_agree_on_both_engines(
    spark_engine: SparkEngine,
    duck_engine: DuckDBEngine,
    prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_quantiles, "FETCH", 2_000)  # several narrowing passes on 40 k rows
    data = _values(40_000)
    duck = _states(duck_engine, data, f"{prefix}d")
    spark = _states(spark_engine, data, f"{prefix}s")
    assert spark == duck
    iqr, modified = duck[0], duck[2]
    assert isinstance(iqr, dict) and iqr["low"] < iqr["high"]
    assert isinstance(modified, dict) and modified["median"] is not None
    assert modified["pmin"] is not None and modified["pmax"] is not None  # winsorized to them
