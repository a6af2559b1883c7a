"""Window functions over the input's row order, or a given order and grouping."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from tests.transform.ops.h_run import col, run, step

from lakebed.transform.recipe import RecipeError

DATA = pa.table(
    {
        "g": ["a", "b", "a", "b", "a", "a"],
        "x": pa.array([4.0, 1.0, None, 3.0, 4.0, 2.0], pa.float64()),
        "o": [6, 5, 4, 3, 2, 1],
    }
)
WIN = {"sourceColumn": "x", "numRowsBefore": "1", "numRowsAfter": "1", "targetColumn": "w"}


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("ROLLING_SUM", [5.0, 5.0, 4.0, 7.0, 9.0, 6.0]),
        ("ROLLING_AVERAGE", [2.5, 2.5, 2.0, 3.5, 3.0, 3.0]),
        ("ROLLING_MAX", [4.0, 4.0, 3.0, 4.0, 4.0, 4.0]),
        ("ROLLING_MIN", [1.0, 1.0, 1.0, 3.0, 2.0, 2.0]),
        ("ROLLING_COUNT_A", [2, 2, 2, 2, 3, 2]),
        ("ROLLING_VARIANCE", [4.5, 4.5, 2.0, 0.5, 1.0, 2.0]),
    ],
)
def test_rolling_statistics_ignore_nulls(operation: str, expected: list[float]) -> None:
    assert col([step(operation, **WIN)], "w", DATA) == pytest.approx(expected)


def test_rolling_standard_deviation() -> None:
    out = col([step("ROLLING_STANDARD_DEVIATION", **WIN)], "w", DATA)
    assert out[0] == pytest.approx(4.5**0.5)


def test_kth_largest_and_unique_and_mode() -> None:
    params = {**WIN, "numRowsBefore": "5", "numRowsAfter": "0", "value": "2"}
    assert col([step("ROLLING_KTH_LARGEST", **params)], "w", DATA) == [
        None,
        1.0,
        1.0,
        3.0,
        4.0,
        4.0,
    ]
    assert col([step("ROLLING_KTH_LARGEST_UNIQUE", **params)], "w", DATA) == [
        None,
        1.0,
        1.0,
        3.0,
        3.0,
        3.0,
    ]
    mode = col(
        [step("ROLLING_MODE", sourceColumn="g", numRowsBefore="3", targetColumn="w")], "w", DATA
    )
    assert mode == ["a", "a", "a", "a", "a", "a"]
    mode = col(
        [step("ROLLING_MODE", sourceColumn="x", numRowsBefore="1", targetColumn="w")], "w", DATA
    )
    assert mode == [4.0, 1.0, 1.0, 3.0, 3.0, 2.0]  # ties go to the smallest


def test_prev_next_and_fill() -> None:
    assert col([step("PREV", sourceColumn="x", targetColumn="w")], "w", DATA) == [
        None,
        4.0,
        1.0,
        None,
        3.0,
        4.0,
    ]
    assert col([step("NEXT", sourceColumn="x", numRows="2", targetColumn="w")], "w", DATA) == [
        None,
        3.0,
        4.0,
        2.0,
        None,
        None,
    ]
    assert col([step("FILL", **WIN)], "w", DATA) == [4.0, 1.0, 1.0, 3.0, 4.0, 2.0]


def test_grouping_and_order() -> None:
    out = col(
        [step("ROW_NUMBER", targetColumn="n", groupByColumns='["g"]', orderByColumns='["o"]')],
        "n",
        DATA,
    )
    assert out == [4, 2, 3, 1, 2, 1]
    out = col([step("PREV", sourceColumn="o", targetColumn="w", groupByColumns='["g"]')], "w", DATA)
    assert out == [None, None, 6, 5, 4, 2]


def test_session_starts_after_a_gap() -> None:
    base = dt.datetime(2024, 1, 1, 8, 0)
    minutes = [0, 5, 40, 45, 200, None]
    data = pa.table(
        {
            "t": pa.array(
                [None if m is None else base + dt.timedelta(minutes=m) for m in minutes],
                pa.timestamp("us"),
            )
        }
    )
    out = col(
        [step("SESSION", sourceColumn="t", units="MINUTES", value="30", targetColumn="s")],
        "s",
        data,
    )
    assert out == [1, 1, 2, 2, 3, None]


def test_unknown_order_column_is_rejected() -> None:
    with pytest.raises(RecipeError, match="orderByColumns"):
        run([step("ROW_NUMBER", targetColumn="n", orderByColumns='["nope"]')], DATA)
