"""Exact quantiles in bounded memory: narrowing histograms must give what ``quantile_cont``
gives (to the last bit of the interpolation), on skewed data, ties, infinities, adjacent
doubles and constant columns."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest

from lakebed.transform import Recipe
from lakebed.transform.engines.duckdb import DuckDBEngine
from lakebed.transform.ops import _quantiles
from lakebed.transform.ops._quantiles import exact_quantiles
from lakebed.transform.pipeline import build

PROBS = [0.0, 0.01, 0.25, 0.5, 0.731, 0.99, 1.0]
ROWS = 150_000


def _columns() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    skewed = rng.lognormal(3, 1, ROWS)
    skewed[::997] *= 1e6  # far outliers: most values in a few buckets
    ties = rng.integers(0, 5, ROWS).astype("float64")  # few distinct values
    infinite = rng.normal(0, 1, ROWS)
    infinite[::5000] = np.inf
    infinite[1::7000] = -np.inf
    tiny = 1.0 + rng.integers(0, 3, ROWS) * np.finfo(float).eps  # adjacent doubles
    return {
        "skewed": skewed,
        "ties": ties,
        "infinite": infinite,
        "constant": np.full(ROWS, 2.5),
        "tiny": tiny,
    }


@pytest.fixture(scope="module")
def engine() -> Iterator[DuckDBEngine]:
    with DuckDBEngine(threads=2) as eng:
        eng.load_arrow("input", pa.table(_columns()))
        yield eng


def _query(engine: DuckDBEngine) -> _quantiles.Query:
    return lambda sql: engine.query(sql).to_pylist()


@pytest.mark.parametrize("column", list(_columns()))
def test_narrowing_gives_the_exact_quantiles(
    engine: DuckDBEngine, column: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_quantiles, "FETCH", 1000)  # force several narrowing passes
    stats = engine.query(
        f"SELECT count(*) AS n, min({column}) AS lo, max({column}) AS hi FROM input"
    )
    n, lo, hi = stats.to_pylist()[0].values()
    got = exact_quantiles(
        _query(engine), f"input WHERE {column} IS NOT NULL", column, n, lo, hi, PROBS
    )
    expected = engine.query(
        "SELECT " + ", ".join(f"quantile_cont({column}, {p})" for p in PROBS) + " FROM input"
    ).to_pylist()[0]
    assert got == pytest.approx(list(expected.values()), rel=1e-15, abs=0)


def test_fits_past_the_small_limit_learn_the_exact_quantiles(engine: DuckDBEngine) -> None:
    recipe = Recipe().add(
        "FLAG_OUTLIERS", sourceColumn="skewed", outlierStrategy="IQR", threshold=1.5,
        targetColumn="odd",
    ).add(
        "REPLACE_OUTLIERS", sourceColumn="skewed", outlierStrategy="IQR", threshold=1.5,
        replaceType="REPLACE_WITH_MEDIAN",
    )  # fmt: skip
    flag, state = build(engine, recipe, prefix="iqr").states
    q1, median, q3 = (
        engine.query(
            "SELECT quantile_cont(skewed, 0.25), quantile_cont(skewed, 0.5), "
            "quantile_cont(skewed, 0.75) FROM input"
        )
        .to_pylist()[0]
        .values()
    )
    assert state["median"] == pytest.approx(median, rel=1e-15)
    bounds = (q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1))
    assert (state["low"], state["high"]) == pytest.approx(bounds, rel=1e-14)
    assert (flag["low"], flag["high"]) == (state["low"], state["high"])
    assert flag["median"] is None  # IQR alone needs no median: a pass not made
