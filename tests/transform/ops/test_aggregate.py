"""AGGREGATE operations on DuckDB: across the columns of each row, numbers only."""

from __future__ import annotations

import math

import pytest
from tests.transform.ops.f_helpers import apply, column

ROWS = {
    "a": [1.0, 5.0, None, 2.0],
    "b": [3, 5, None, 2],
    "c": ["2", "x", None, "9"],  # text: "x" is not a number and is ignored
}
COLS = '["a", "b", "c"]'


def test_sum_average_count_min_max() -> None:
    assert column(ROWS, "SUM", sourceColumns=COLS) == [6.0, 10.0, None, 13.0]
    assert column(ROWS, "AVERAGE", sourceColumns=COLS) == [2.0, 5.0, None, 13 / 3]
    assert column(ROWS, "COUNT", sourceColumns=COLS) == [3, 2, 0, 3]
    assert column(ROWS, "COUNT_DISTINCT", sourceColumns=COLS) == [3, 1, 0, 2]
    assert column(ROWS, "MIN", sourceColumns=COLS) == [1.0, 5.0, None, 2.0]
    assert column(ROWS, "MAX", sourceColumns=COLS) == [3.0, 5.0, None, 9.0]


def test_median_and_kth_largest() -> None:
    assert column(ROWS, "MEDIAN", sourceColumns=COLS) == [2.0, 5.0, None, 2.0]
    assert column(ROWS, "MEDIAN", sourceColumns='["a", "b"]') == [2.0, 5.0, None, 2.0]
    assert column(ROWS, "KTH_LARGEST", sourceColumns=COLS, value="2") == [2.0, 5.0, None, 2.0]
    unique = column(ROWS, "KTH_LARGEST_UNIQUE", sourceColumns=COLS, value="2")
    assert unique == [2.0, None, None, 2.0]
    assert column(ROWS, "KTH_LARGEST", sourceColumns=COLS, value="3") == [1.0, None, None, 2.0]


def test_mode_with_each_tie_rule() -> None:
    data = {"a": [1, 1, 4], "b": [2, 1, 4], "c": [2, 1, 5], "d": [1, 3, 5]}
    cols = '["a", "b", "c", "d"]'
    assert column(data, "MODE", sourceColumns=cols) == [1.0, 1.0, 4.0]
    assert column(data, "MODE", sourceColumns=cols, modeType="MAXIMUM") == [2.0, 1.0, 5.0]
    assert column(data, "MODE", sourceColumns=cols, modeType="AVERAGE") == [1.5, 1.0, 4.5]
    assert column(data, "MODE", sourceColumns=cols, modeType="NONE") == [None, 1.0, None]


def test_sample_variance_and_standard_deviation() -> None:
    data = {"a": [2.0, 1.0], "b": [4.0, None], "c": [6.0, None]}
    assert column(data, "VARIANCE", sourceColumns='["a", "b", "c"]') == [4.0, None]
    sd = column(data, "STANDARD_DEVIATION", sourceColumns='["a", "b", "c"]')
    assert sd[0] == pytest.approx(2.0) and sd[1] is None
    assert not math.isnan(sd[0])


def test_any_skips_missing_and_empty_values() -> None:
    data = {"a": [None, "", "x"], "b": ["y", "z", "w"]}
    assert column(data, "ANY", sourceColumns='["a", "b"]') == ["y", "z", "x"]
    mixed = column({"n": [None, 3], "t": ["t", "u"]}, "ANY", sourceColumns='["n", "t"]')
    assert mixed == ["t", "3"]


def test_target_column_goes_after_the_last_source() -> None:
    out = apply(ROWS, "SUM", sourceColumns='["a", "b"]', targetColumn="total")
    assert out.column_names == ["a", "b", "total", "c"]
