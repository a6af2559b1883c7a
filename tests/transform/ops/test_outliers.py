"""Outliers: z-score, modified z-score and IQR bounds learned at fit time, and what is done."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest
from tests.transform.ops.h_run import col, fit_then_apply, run, step

from lakebed.transform.recipe import RecipeError

DATA = pa.table({"x": pa.array([1, 2, 3, 4, 100, None], pa.int64())})
STD = math.sqrt(7610 / 4)  # sample standard deviation of 1, 2, 3, 4, 100 (mean 22)


@pytest.mark.parametrize(
    ("strategy", "threshold"), [("IQR", "1.5"), ("Z_SCORE", "1.5"), ("MODIFIED_Z_SCORE", "3")]
)
def test_each_strategy_flags_the_far_value(strategy: str, threshold: str) -> None:
    out = col(
        [
            step(
                "FLAG_OUTLIERS",
                sourceColumn="x",
                targetColumn="o",
                outlierStrategy=strategy,
                threshold=threshold,
                trueString="yes",
                falseString="no",
            )
        ],
        "o",
        DATA,
    )
    assert out == ["no", "no", "no", "no", "yes", None]


def test_z_score_threshold_is_respected() -> None:
    # 100 is (100 - 22) / STD = 1.79 standard deviations out: not beyond 2
    out = col([step("FLAG_OUTLIERS", sourceColumn="x", targetColumn="o", threshold="2")], "o", DATA)
    assert out[4] == "False"


def test_remove_outliers_deletes_rows_or_clears_values() -> None:
    params = {"sourceColumn": "x", "outlierStrategy": "IQR", "threshold": "1.5"}
    assert col([step("REMOVE_OUTLIERS", **params)], "x", DATA) == [1, 2, 3, 4, None]
    assert col([step("REMOVE_OUTLIERS", removeType="CLEAR", **params)], "x", DATA) == [
        1,
        2,
        3,
        4,
        None,
        None,
    ]


def test_replace_outliers_with_median_winsorize_and_custom() -> None:
    params = {"sourceColumn": "x", "outlierStrategy": "IQR", "threshold": "1.5"}
    median = col([step("REPLACE_OUTLIERS", replaceType="REPLACE_WITH_MEDIAN", **params)], "x", DATA)
    assert median == [1.0, 2.0, 3.0, 4.0, 3.0, None]
    capped = col(
        [
            step(
                "REPLACE_OUTLIERS",
                replaceType="WINSORIZE_VALUES",
                minValue="0",
                maxValue="75",
                **params,
            )
        ],
        "x",
        DATA,
    )
    assert capped[4] == 4.0
    custom = col(
        [step("REPLACE_OUTLIERS", replaceType="REPLACE_WITH_CUSTOM", value="-1", **params)],
        "x",
        DATA,
    )
    assert custom[4] == -1.0


def test_rescale_with_z_score_caps_outliers_at_the_threshold() -> None:
    out = col(
        [
            step(
                "RESCALE_OUTLIERS_WITH_Z_SCORE", sourceColumn="x", targetColumn="z", threshold="1.5"
            )
        ],
        "z",
        DATA,
    )
    assert out[0] == pytest.approx((1 - 22) / STD)
    assert out[4] == pytest.approx(1.5)
    assert out[5] is None


def test_rescale_with_skew_transforms_only_outliers() -> None:
    out = col(
        [
            step(
                "RESCALE_OUTLIERS_WITH_SKEW",
                sourceColumn="x",
                targetColumn="s",
                outlierStrategy="IQR",
                threshold="1.5",
                skewFunction="LOG",
                value="10",
            )
        ],
        "s",
        DATA,
    )
    assert out[:4] == [1.0, 2.0, 3.0, 4.0]
    assert out[4] == pytest.approx(2.0)


def test_bounds_learned_at_fit_time_apply_to_new_data() -> None:
    new = pa.table({"x": pa.array([5, 8], pa.int64())})
    out = fit_then_apply(
        [
            step(
                "FLAG_OUTLIERS",
                sourceColumn="x",
                targetColumn="o",
                outlierStrategy="IQR",
                threshold="1.5",
            )
        ],
        DATA,
        new,
    )
    assert out.column("o").to_pylist() == ["False", "True"]


def test_outliers_need_a_numeric_column() -> None:
    with pytest.raises(RecipeError, match="not a number"):
        run([step("FLAG_OUTLIERS", sourceColumn="s", targetColumn="o")], pa.table({"s": ["a"]}))
