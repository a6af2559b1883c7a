"""Duplicates: the first occurrence (row order) stays; later equal rows/values go or flag."""

from __future__ import annotations

import pyarrow as pa
from tests.transform.ops.h_run import col, run, step

DATA = pa.table(
    {
        "k": ["a", "b", "a", None, "a", None],
        "v": [1, 2, 1, 3, 2, 3],
    }
)


def test_delete_duplicate_rows_keeps_the_first() -> None:
    out = run([step("DELETE_DUPLICATE_ROWS")], DATA)
    assert out.to_pydict() == {"k": ["a", "b", None, "a"], "v": [1, 2, 3, 2]}


def test_flag_duplicate_rows() -> None:
    out = col(
        [step("FLAG_DUPLICATE_ROWS", targetColumn="dup", trueString="Y", falseString="N")],
        "dup",
        DATA,
    )
    assert out == ["N", "N", "Y", "N", "N", "Y"]


def test_remove_duplicates_in_a_column_keeps_nulls() -> None:
    out = run([step("REMOVE_DUPLICATES", sourceColumn="k")], DATA)
    assert out.to_pydict() == {"k": ["a", "b", None, None], "v": [1, 2, 3, 3]}


def test_flag_duplicates_in_column() -> None:
    out = run([step("FLAG_DUPLICATES_IN_COLUMN", sourceColumn="k", targetColumn="again")], DATA)
    assert out.column_names == ["k", "again", "v"]
    assert out.column("again").to_pylist() == ["False", "False", "True", "False", "True", "False"]


def test_condition_limits_deletion() -> None:
    cond = [{"Condition": "GREATER_THAN", "TargetColumn": "v", "Value": "1"}]
    out = run([step("REMOVE_DUPLICATES", conditions=cond, sourceColumn="k")], DATA)
    # the second "a" (v=1) is outside the condition and stays; the third (v=2) goes
    assert out.column("v").to_pylist() == [1, 2, 1, 3, 3]


def test_remove_duplicates_of_mostly_distinct_keys() -> None:
    """Keys that rarely repeat take the engine's other plan; the first of each still stays."""
    keys = [f"k{i}" for i in range(40)] + ["k3", None, "k7", "k3", None, "k39"]
    data = pa.table({"k": keys, "v": list(range(len(keys)))})
    out = run([step("REMOVE_DUPLICATES", sourceColumn="k")], data)
    assert out.column("v").to_pylist() == [*range(40), 41, 44]
    cond = [{"Condition": "LESS_THAN", "TargetColumn": "v", "Value": "43"}]
    out = run([step("REMOVE_DUPLICATES", conditions=cond, sourceColumn="k")], data)
    assert out.column("v").to_pylist() == [*range(40), 41, 43, 44, 45]
