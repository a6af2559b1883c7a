"""Missing values: fills with learned statistics, constants, last valid; remove and flag."""

from __future__ import annotations

import pyarrow as pa
import pytest
from tests.transform.ops.h_run import col, fit_then_apply, run, step

from lakebed.transform.recipe import RecipeError

DATA = pa.table(
    {
        "x": pa.array([1.0, None, 3.0, None, 10.0], pa.float64()),
        "n": pa.array([1, None, 2, 2, None], pa.int64()),
        "s": pa.array(["a", "  ", None, "b", "a"], pa.string()),
    }
)


def test_fill_with_average_uses_the_mean_of_present_values() -> None:
    assert col([step("FILL_WITH_AVERAGE", sourceColumn="x")], "x", DATA) == [
        1.0,
        14 / 3,
        3.0,
        14 / 3,
        10.0,
    ]


def test_fill_with_average_on_integers_makes_the_column_double() -> None:
    out = run([step("FILL_WITH_AVERAGE", sourceColumn="n")], DATA)
    assert pa.types.is_float64(out.schema.field("n").type)
    assert out.column("n").to_pylist() == [1.0, 5 / 3, 2.0, 2.0, 5 / 3]


def test_fill_with_median_is_exact_and_sum_keeps_integers() -> None:
    assert col([step("FILL_WITH_MEDIAN", sourceColumn="x")], "x", DATA) == [
        1.0,
        3.0,
        3.0,
        3.0,
        10.0,
    ]
    out = run([step("FILL_WITH_SUM", sourceColumn="n")], DATA)
    assert out.column("n").to_pylist() == [1, 5, 2, 2, 5]
    assert pa.types.is_int64(out.schema.field("n").type)


def test_mode_ties_follow_mode_type() -> None:
    data = pa.table({"v": pa.array([1, 2, 2, 3, 3, None], pa.int64())})
    assert col([step("FILL_WITH_MODE", sourceColumn="v", modeType="MINIMUM")], "v", data)[-1] == 2
    assert col([step("FILL_WITH_MODE", sourceColumn="v", modeType="MAXIMUM")], "v", data)[-1] == 3
    assert col([step("FILL_WITH_MODE", sourceColumn="v", modeType="AVERAGE")], "v", data)[-1] == 2.5
    assert col([step("FILL_WITH_MOST_FREQUENT", sourceColumn="v")], "v", data)[-1] == 2


def test_blank_text_is_missing_for_mode_empty_and_null_fills() -> None:
    assert col([step("FILL_WITH_MODE", sourceColumn="s")], "s", DATA) == ["a", "a", "a", "b", "a"]
    assert col([step("FILL_WITH_EMPTY", sourceColumn="s")], "s", DATA) == ["a", "", "", "b", "a"]
    assert col([step("FILL_WITH_NULL", sourceColumn="s")], "s", DATA) == ["a", None, None, "b", "a"]


def test_fill_with_custom_and_last_valid() -> None:
    assert col([step("FILL_WITH_CUSTOM", sourceColumn="n", value="7")], "n", DATA) == [
        1,
        7,
        2,
        2,
        7,
    ]
    assert col([step("FILL_WITH_LAST_VALID", sourceColumn="x")], "x", DATA) == [
        1.0,
        1.0,
        3.0,
        3.0,
        10.0,
    ]


def test_fill_with_custom_rejects_a_value_of_the_wrong_type() -> None:
    with pytest.raises(RecipeError, match="not a number"):
        run([step("FILL_WITH_CUSTOM", sourceColumn="n", value="many")], DATA)


def test_fill_with_average_rejects_text_columns() -> None:
    with pytest.raises(RecipeError, match="not a number"):
        run([step("FILL_WITH_AVERAGE", sourceColumn="s")], DATA)


def test_learned_fill_value_is_reused_on_new_data() -> None:
    new = pa.table({"x": [None, 100.0], "n": pa.array([None, None], pa.int64()), "s": ["q", None]})
    out = fit_then_apply([step("FILL_WITH_AVERAGE", sourceColumn="x")], DATA, new)
    assert out.column("x").to_pylist() == [14 / 3, 100.0]


def test_conditions_limit_the_fill() -> None:
    cond = [{"Condition": "IS", "TargetColumn": "s", "Value": '["a"]'}]
    out = run([step("FILL_WITH_CUSTOM", conditions=cond, sourceColumn="x", value="0")], DATA)
    assert out.column("x").to_pylist() == [1.0, None, 3.0, None, 10.0]
    out = run([step("FILL_WITH_AVERAGE", conditions=cond, sourceColumn="n")], DATA)
    assert out.column("n").to_pylist() == [1.0, None, 2.0, 2.0, 5 / 3]


def test_remove_missing_and_flag_missing() -> None:
    assert run([step("REMOVE_MISSING", sourceColumn="s")], DATA).column("x").to_pylist() == [
        1.0,
        None,
        10.0,
    ]
    out = run([step("FLAG_MISSING", sourceColumn="s", targetColumn="s_missing")], DATA)
    assert out.column_names == ["x", "n", "s", "s_missing"]
    assert out.column("s_missing").to_pylist() == [False, True, True, False, False]


TRICKY = [
    "",
    " ",
    "   ",
    "\u00a0",
    "\u3000 ",
    "\t",
    " \n",
    "~",
    "~ ",
    " a",
    "a ",
    "!",
    "é",
    "\u00a0x",
    None,
]


def test_blank_is_what_trim_empties_whatever_the_first_character() -> None:
    import duckdb

    blank = [
        v is None or duckdb.execute("SELECT trim(?) = ''", [v]).fetchall()[0][0] for v in TRICKY
    ]
    assert blank[:5] == [True] * 5 and not any(blank[5:-1])  # spaces (Unicode ones too) only
    data = pa.table({"s": pa.array(TRICKY, pa.string())})
    filled = col([step("FILL_WITH_CUSTOM", sourceColumn="s", value="?")], "s", data)
    assert filled == ["?" if b else v for v, b in zip(TRICKY, blank, strict=True)]
    data = data.append_column("t", pa.array(["x"] * len(TRICKY)))
    missing = [{"Condition": "IS_MISSING", "TargetColumn": "s"}]
    marked = col([step("UPPER_CASE", missing, sourceColumn="t")], "t", data)
    assert [m == "X" for m in marked] == blank
