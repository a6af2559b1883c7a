"""PCA on DuckDB against numpy computed directly."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from tests.transform.ops.ml_helpers import fit_apply, run, step

from lakebed.transform.pipeline import check
from lakebed.transform.recipe import Recipe, RecipeError


def correlated(seed: int, n: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 1))
    return np.hstack(
        [3 * base + rng.normal(size=(n, 1)), -base + 0.1 * rng.normal(size=(n, 1)),
         rng.normal(size=(n, 1)) * 5 + 7]
    )  # fmt: skip


def as_table(x: np.ndarray) -> pa.Table:
    return pa.table({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "tag": ["t"] * len(x)})


def numpy_pca(x: np.ndarray, standardize: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means, scales and components (rows) as the module documents them."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0) if standardize else np.ones(x.shape[1])
    z = (x - mean) / scale
    cov = np.cov(z, rowvar=False, bias=True)
    values, vectors = np.linalg.eigh(cov)
    comps = vectors[:, np.argsort(-values)].T
    for row in comps:
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1
    return mean, scale, comps


@pytest.mark.parametrize("standardize", [True, False])
def test_projections_match_numpy(standardize: bool) -> None:
    x = correlated(1)
    out, states = fit_apply(
        [step("PCA", sourceColumns='["a", "b", "c"]', numComponents="2",
              standardize=str(standardize).lower())],
        as_table(x),
    )  # fmt: skip
    mean, scale, comps = numpy_pca(x, standardize)
    expected = ((x - mean) / scale) @ comps[:2].T
    assert out.column_names == ["a", "b", "c", "pc_1", "pc_2", "tag"]
    got = np.column_stack([out.column("pc_1").to_numpy(), out.column("pc_2").to_numpy()])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(states[0]["components"], comps, atol=1e-9)
    assert sum(states[0]["explained"]) == pytest.approx(1.0)


def test_variance_to_keep_picks_the_fewest_components() -> None:
    x = correlated(2)
    _, states = fit_apply([step("PCA", sourceColumns='["a", "b", "c"]')], as_table(x))
    explained = states[0]["explained"]
    assert explained == sorted(explained, reverse=True)
    need = next(i + 1 for i in range(3) if sum(explained[: i + 1]) >= 0.9)
    out = run("PCA", as_table(x), sourceColumns='["a", "b", "c"]', varianceToKeep="0.9",
              dropSourceColumns="true", prefix="z")  # fmt: skip
    assert out.column_names == [f"z{i + 1}" for i in range(need)] + ["tag"]


def test_state_fitted_on_one_table_projects_another() -> None:
    train = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 7.0], [7.0, 13.0]])
    steps = [step("PCA", sourceColumns='["a", "b"]', numComponents="1", standardize="false")]
    _, states = fit_apply(steps, pa.table({"a": train[:, 0], "b": train[:, 1]}))
    new = pa.table({"a": [0.0, 4.0, None], "b": [0.0, 7.0, 1.0]})
    out, _ = fit_apply(steps, new, states=states)
    # by hand: means (4, 7); population covariance [[5, 8.5], [8.5, 15.5]]
    cov = np.array([[5.0, 8.5], [8.5, 15.5]])
    values, vectors = np.linalg.eigh(cov)
    w = vectors[:, np.argmax(values)]
    w = w if w[np.argmax(np.abs(w))] > 0 else -w
    assert states[0]["means"] == [4.0, 7.0]
    expected = [(0 - 4) * w[0] + (0 - 7) * w[1], (4 - 4) * w[0] + 0.0]
    got = out.column("pc_1").to_pylist()
    assert got[:2] == pytest.approx(expected, rel=1e-12)
    assert got[2] is None  # a NULL input gives a NULL component
    assert math.isclose(w[0] ** 2 + w[1] ** 2, 1.0)


def test_check_on_an_empty_table_and_bad_parameters() -> None:
    schema = pa.schema([("a", pa.float64()), ("b", pa.int64()), ("s", pa.string())])
    recipe = Recipe([step("PCA", sourceColumns='["a", "b"]')])
    assert check(recipe, schema)[0].names == ["a", "b", "pc_1", "pc_2", "s"]
    data = schema.empty_table()
    for params, message in [
        ({"sourceColumns": '["a", "s"]'}, "not a number"),
        ({"sourceColumns": '["a", "b"]', "numComponents": "3"}, "numComponents"),
        ({"sourceColumns": '["a", "b"]', "numComponents": "1", "varianceToKeep": "0.5"},
         "not both"),
        ({"sourceColumns": '["a", "b"]', "varianceToKeep": "1.5"}, "varianceToKeep"),
        ({"sourceColumns": '["a", "b"]', "prefix": "a"}, "already exists"),
    ]:  # fmt: skip
        with pytest.raises(RecipeError, match=message):
            run("PCA", data.append_column("a1", pa.array([], pa.int64())), **params)
