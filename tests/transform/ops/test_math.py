"""MATH operations on DuckDB: values a user would check by hand."""

from __future__ import annotations

import math

import pytest
from tests.transform.ops.f_helpers import apply, column

from lakebed.transform.recipe import RecipeError

NUMS = {"x": [-2.5, 0.0, 2.5, 4.0, None], "s": ["-2.5", "0", "2.5", "four", None]}


def test_unary_functions_on_a_column_and_on_text_that_holds_numbers() -> None:
    assert column(NUMS, "ABSOLUTE", sourceColumn="x") == [2.5, 0.0, 2.5, 4.0, None]
    assert column(NUMS, "NEGATE", sourceColumn="x") == [2.5, -0.0, -2.5, -4.0, None]
    assert column(NUMS, "CEILING", sourceColumn="x") == [-2.0, 0.0, 3.0, 4.0, None]
    assert column(NUMS, "FLOOR", sourceColumn="x") == [-3.0, 0.0, 2.0, 4.0, None]
    assert column(NUMS, "ROUND", sourceColumn="x") == [-3.0, 0.0, 3.0, 4.0, None]
    assert column(NUMS, "SIGN", sourceColumn="x") == [-1.0, 0.0, 1.0, 1.0, None]
    # text is parsed; what is not a number becomes NULL
    assert column(NUMS, "ABSOLUTE", sourceColumn="s") == [2.5, 0.0, 2.5, None, None]


def test_logs_roots_and_exponents_give_null_outside_their_domain() -> None:
    assert column(NUMS, "SQUARE_ROOT", sourceColumn="x") == [None, 0.0, math.sqrt(2.5), 2.0, None]
    assert column(NUMS, "LN", sourceColumn="x")[:4] == [None, None, math.log(2.5), math.log(4)]
    logs = column({"x": [100.0, 8.0]}, "LOG", sourceColumn="x")
    assert logs == pytest.approx([2.0, math.log10(8)])
    assert column({"x": [8.0]}, "LOG", sourceColumn="x", base="2") == pytest.approx([3.0])
    assert column({"x": [0.0, 1.0]}, "EXPONENT", sourceColumn="x") == [1.0, math.e]
    assert column({"x": [3.0]}, "POWER", sourceColumn="x", exponent="2") == [9.0]
    assert column({"x": [180.0]}, "RADIANS", sourceColumn="x") == [math.pi]
    assert column({"x": [math.pi]}, "DEGREES", sourceColumn="x") == [180.0]


def test_a_constant_value_instead_of_a_column() -> None:
    assert column({"x": [1, 2]}, "POWER", value="2", exponent="10") == [1024.0, 1024.0]
    assert column({"x": [1]}, "PI") == [math.pi]


def test_binary_functions_take_columns_or_values() -> None:
    data = {"a": [7, 7, None, -7], "b": [2, 0, 1, 2]}
    assert column(data, "ADD", sourceColumn1="a", sourceColumn2="b") == [9.0, 7.0, None, -5.0]
    assert column(data, "SUBTRACT", sourceColumn1="a", value2="1.5") == [5.5, 5.5, None, -8.5]
    assert column(data, "MULTIPLY", value1="3", sourceColumn2="b") == [6.0, 0.0, 3.0, 6.0]
    # division and modulo by zero give NULL; modulo keeps the dividend's sign
    assert column(data, "DIVIDE", sourceColumn1="a", sourceColumn2="b") == [3.5, None, None, -3.5]
    assert column(data, "MOD", sourceColumn1="a", sourceColumn2="b") == [1.0, None, None, -1.0]


def test_new_column_is_placed_after_its_source() -> None:
    out = apply({"a": [1.0], "b": [2.0], "c": [3.0]}, "ADD", sourceColumn1="a", value2="1",
                targetColumn="a1")  # fmt: skip
    assert out.column_names == ["a", "a1", "b", "c"]


def test_is_even_and_is_odd_treat_fractions_as_neither() -> None:
    data = {"x": [4.0, 3.0, 2.5, -2.0, None]}
    assert column(data, "IS_EVEN", sourceColumn="x") == [True, False, False, True, None]
    assert column(data, "IS_ODD", sourceColumn="x") == [False, True, False, False, None]
    labelled = column(data, "IS_ODD", sourceColumn="x", trueString="odd", falseString="no")
    assert labelled == ["no", "odd", "no", "no", None]


def test_random_numbers_are_seeded_and_in_range() -> None:
    data = {"x": list(range(200))}
    first = column(data, "RANDOM")
    assert first == column(data, "RANDOM")
    assert first != column(data, "RANDOM", seed="1")
    assert all(0 <= r < 1 for r in first) and len(set(first)) == 200
    ints = column(data, "RANDOM_BETWEEN", lowerBound="1", upperBound="6")
    assert set(ints) == {1, 2, 3, 4, 5, 6}
    floats = column(data, "RANDOM_BETWEEN", lowerBound="-1", upperBound="-0.5")
    assert all(-1 <= f <= -0.5 for f in floats)


def test_conditions_limit_the_rows_that_get_a_value() -> None:
    cond = [{"Condition": "GREATER_THAN", "TargetColumn": "x", "Value": "0"}]
    out = apply({"x": [-1.0, 2.0]}, "NEGATE", cond, sourceColumn="x", targetColumn="n")
    assert out.column("n").to_pylist() == [None, -2.0]


@pytest.mark.parametrize(
    ("operation", "params", "message"),
    [
        ("ADD", {"sourceColumn1": "x", "targetColumn": "o"}, "sourceColumn2 or value2"),
        ("ABSOLUTE", {"sourceColumn": "x", "value": "1", "targetColumn": "o"}, "not both"),
        ("ADD", {"sourceColumn1": "x", "value2": "abc", "targetColumn": "o"}, "must be a number"),
        ("LOG", {"sourceColumn": "x", "base": "1", "targetColumn": "o"}, "base"),
        ("RANDOM_BETWEEN", {"lowerBound": "5", "upperBound": "1", "targetColumn": "o"}, "swap"),
        ("ABSOLUTE", {"sourceColumn": "nope", "targetColumn": "o"}, "nope"),
    ],
)
def test_bad_parameters_are_rejected_with_the_step(
    operation: str, params: dict[str, str], message: str
) -> None:
    with pytest.raises(RecipeError, match="step 1") as info:
        apply({"x": [1.0]}, operation, **params)
    assert message in str(info.value)
