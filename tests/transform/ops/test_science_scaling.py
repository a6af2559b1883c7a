"""Scalers (learned statistics), binarisation, skew transforms and bucketing."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest
from tests.transform.ops.h_run import col, fit_then_apply, run, step

from lakebed.transform.recipe import RecipeError

DATA = pa.table({"x": pa.array([2, 4, 6, 8, None], pa.int64())})
STD = math.sqrt(20 / 3)  # sample std of 2, 4, 6, 8


def norm(strategy: str, **extra: str) -> list[float | None]:
    return col(
        [step("NORMALIZATION", sourceColumn="x", targetColumn="y", strategy=strategy, **extra)],
        "y",
        DATA,
    )


def test_normalization_strategies() -> None:
    assert norm("MIN_MAX") == [0.0, 1 / 3, 2 / 3, 1.0, None]
    assert norm("SCALE_BETWEEN", lowerBound="-1", upperBound="1") == pytest.approx(
        [-1.0, -1 / 3, 1 / 3, 1.0, None]
    )
    assert norm("MEAN_NORMALIZATION") == pytest.approx([-0.5, -1 / 6, 1 / 6, 0.5, None])
    assert norm("Z_SCORE") == pytest.approx([-3 / STD, -1 / STD, 1 / STD, 3 / STD, None])


def test_robust_and_max_abs_scaling() -> None:
    # quartiles of 2, 4, 6, 8: 3.5 and 6.5 (IQR 3), median 5
    out = col([step("ROBUST_SCALE", sourceColumn="x", targetColumn="y")], "y", DATA)
    assert out == pytest.approx([-1.0, -1 / 3, 1 / 3, 1.0, None])
    out = col([step("MAX_ABS_SCALE", sourceColumn="x", targetColumn="y")], "y", DATA)
    assert out == [0.25, 0.5, 0.75, 1.0, None]


def test_constant_column_scales_to_null() -> None:
    data = pa.table({"x": [5.0, 5.0]})
    out = col([step("NORMALIZATION", sourceColumn="x", targetColumn="y")], "y", data)
    assert out == [None, None]


def test_scaler_reuses_training_statistics() -> None:
    new = pa.table({"x": pa.array([10], pa.int64())})
    out = fit_then_apply([step("NORMALIZATION", sourceColumn="x", targetColumn="y")], DATA, new)
    assert out.column("y").to_pylist() == [pytest.approx(4 / 3)]


def test_binarization_and_flip() -> None:
    assert col(
        [step("BINARIZATION", sourceColumn="x", targetColumn="b", threshold="4")], "b", DATA
    ) == [0, 0, 1, 1, None]
    assert col(
        [step("BINARIZATION", sourceColumn="x", targetColumn="b", threshold="4", flip="true")],
        "b",
        DATA,
    ) == [1, 1, 0, 0, None]


def test_skewness_functions() -> None:
    data = pa.table({"x": [8.0, -8.0, 0.0]})
    root = col(
        [step("SKEWNESS", sourceColumn="x", targetColumn="r", skewFunction="ROOT", value="3")],
        "r",
        data,
    )
    assert root == pytest.approx([2.0, -2.0, 0.0])
    log = col(
        [step("SKEWNESS", sourceColumn="x", targetColumn="l", skewFunction="LOG", value="2")],
        "l",
        data,
    )
    assert log[0] == pytest.approx(3.0) and log[1:] == [None, None]
    assert col(
        [step("SKEWNESS", sourceColumn="x", targetColumn="s", skewFunction="SQUARE")], "s", data
    ) == [64.0, 64.0, 0.0]


def test_bucketization_with_splits_and_percentage() -> None:
    out = col(
        [
            step(
                "BUCKETIZATION",
                sourceColumn="x",
                targetColumn="b",
                bucketNames='["low", "high"]',
                splits='["-Infinity", "5", "Infinity"]',
            )
        ],
        "b",
        DATA,
    )
    assert out == ["low", "low", "high", "high", None]
    out = col(
        [step("BUCKETIZATION", sourceColumn="x", targetColumn="b", percentage="50")], "b", DATA
    )
    assert out == ["0", "0", "1", "1", None]


def test_bucketization_checks_its_parameters() -> None:
    with pytest.raises(RecipeError, match="exactly one of splits and percentage"):
        run([step("BUCKETIZATION", sourceColumn="x", targetColumn="b")], DATA)
    with pytest.raises(RecipeError, match="bucketNames must list 2"):
        run(
            [
                step(
                    "BUCKETIZATION",
                    sourceColumn="x",
                    targetColumn="b",
                    bucketNames='["a"]',
                    splits='["0", "5", "9"]',
                )
            ],
            DATA,
        )
