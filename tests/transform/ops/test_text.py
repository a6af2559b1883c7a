"""TEXT functions (text.py): a column or a constant in, a new column out."""

from __future__ import annotations

import pyarrow as pa
import pytest
from tests.transform.ops.g_helpers import run, values

from lakebed.transform.engines.duckdb import DuckDBEngine
from lakebed.transform.pipeline import build
from lakebed.transform.recipe import Recipe, RecipeError

S = {"s": ["  Hello World ", "état", "", None], "t": ["hello", "état", "a", "b"]}


@pytest.mark.parametrize(
    ("op", "params", "expected"),
    [
        ("LOWER", {}, ["  hello world ", "état", "", None]),
        ("UPPER", {}, ["  HELLO WORLD ", "ÉTAT", "", None]),
        ("PROPER", {}, ["  Hello World ", "État", "", None]),
        ("TRIM", {}, ["Hello World", "état", "", None]),
        ("LEN", {}, [14, 4, 0, None]),
        ("REMOVE_WHITESPACE", {}, ["HelloWorld", "état", "", None]),
        ("LEFT", {"position": "3"}, ["  H", "éta", "", None]),
        ("RIGHT", {"position": "2"}, ["d ", "at", "", None]),
        ("SUBSTRING", {"startPosition": "3", "endPosition": "7"}, ["Hello", "at", "", None]),
        ("REPEAT_STRING", {"count": "2"}, ["  Hello World   Hello World ", "étatétat", "", None]),
        ("UNICODE", {}, [32, 233, None, None]),
        ("STARTS_WITH", {"pattern": "[ ]+H"}, [True, False, False, None]),
        ("ENDS_WITH", {"pattern": "t"}, [False, True, False, None]),
    ],
)
def test_functions_of_a_column(op: str, params: dict, expected: list) -> None:
    assert values(S, op, "out", sourceColumn="s", targetColumn="out", **params) == expected


def test_functions_of_a_constant_and_placement() -> None:
    out = run(S, "LEN", value="four", targetColumn="n")
    assert out.column("n").to_pylist() == [4, 4, 4, 4]
    assert out.column_names == ["s", "t", "n"]
    out = run(S, "UPPER", sourceColumn="s", targetColumn="u")
    assert out.column_names == ["s", "u", "t"]
    with pytest.raises(RecipeError, match="either sourceColumn or value"):
        run(S, "LEN", sourceColumn="s", value="x", targetColumn="n")
    with pytest.raises(RecipeError, match="already exists"):
        run(S, "LEN", sourceColumn="s", targetColumn="t")


def test_remove_symbols_keeps_letters_digits_and_spaces() -> None:
    data = {"s": ["Café #1: ok!", "a-b_c"]}
    assert values(data, "REMOVE_SYMBOLS", "o", sourceColumn="s", targetColumn="o") == [
        "Café 1 ok",
        "abc",
    ]


def test_char_and_unicode() -> None:
    data = {"n": [65, 233, 8364, 128512, 0, None]}
    assert values(data, "CHAR", "c", sourceColumn="n", targetColumn="c") == [
        "A",
        "é",
        "€",
        "😀",
        None,
        None,
    ]
    assert values(data, "CHAR", "c", value="97", targetColumn="c")[0] == "a"


def test_find_and_right_find_positions_from_one() -> None:
    data = {"s": ["banana", "BANANA", "xyz", None]}
    assert values(data, "FIND", "i", sourceColumn="s", targetColumn="i", pattern="an") == [
        2,
        None,
        None,
        None,
    ]
    assert values(
        data,
        "FIND",
        "i",
        sourceColumn="s",
        targetColumn="i",
        pattern="an",
        position="3",
        ignoreCase="true",
    ) == [4, 4, None, None]
    assert values(data, "RIGHT_FIND", "i", sourceColumn="s", targetColumn="i", pattern="an") == [
        4,
        None,
        None,
        None,
    ]
    assert values(
        data, "RIGHT_FIND", "i", sourceColumn="s", targetColumn="i", pattern="an", position="3"
    ) == [2, None, None, None]


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("EXACT", [True, False, False, False]),
        ("STRING_GREATER_THAN", [False, False, True, False]),
        ("STRING_GREATER_THAN_EQUAL", [True, False, True, False]),
        ("STRING_LESS_THAN", [False, True, False, False]),
        ("STRING_LESS_THAN_EQUAL", [True, True, False, False]),
    ],
)
def test_string_comparisons(op: str, expected: list) -> None:
    data = {"a": ["x", "A", "b", None], "b": ["x", "a", "a", "z"]}
    assert values(data, op, "o", sourceColumn1="a", sourceColumn2="b", targetColumn="o") == expected
    assert values(data, op, "o", sourceColumn1="a", value2="x", targetColumn="o")[0] == expected[0]


def test_merge_columns_and_values_skips_nulls() -> None:
    data = {"a": ["x", None, None], "b": [1, 2, None]}
    assert values(
        data,
        "MERGE_COLUMNS_AND_VALUES",
        "m",
        sourceColumns='["a", "b"]',
        delimiter="-",
        targetColumn="m",
    ) == ["x-1", "2", None]


def test_a_databrew_recipe_with_these_operations_runs_unchanged() -> None:
    exported = """[
      {"Action": {"Operation": "REPEAT_STRING",
                  "Parameters": {"count": 2, "value": "*", "targetColumn": "stars"}}},
      {"Action": {"Operation": "UPPER_CASE", "Parameters": {"sourceColumn": "t"}},
       "ConditionExpressions": [{"Condition": "STARTS_WITH", "TargetColumn": "t", "Value": "h"}]},
      {"Action": {"Operation": "MASK_DELIMITER",
                  "Parameters": {"sourceColumns": ["t"], "maskSymbol": "#",
                                 "startDelimiter": "E", "preserveDelimiters": false,
                                 "alphabet": ["WHITESPACE", "SYMBOLS"]}}},
      {"Action": {"Operation": "SPLIT_COLUMN_SINGLE_DELIMITER",
                  "Parameters": {"includeInSplit": "false", "limit": "1", "pattern": "t",
                                 "sourceColumn": "t"}}}
    ]"""
    with DuckDBEngine(threads=1) as engine:
        engine.load_arrow("input", pa.table(S))
        out = engine.to_arrow(build(engine, Recipe.loads(exported)).relation)
    assert out.column("stars").to_pylist() == ["**"] * 4
    assert out.column("t").to_pylist() == ["H####", "état", "a", "b"]
    assert out.column("t_1").to_pylist() == ["H####", "é", "a", "b"]
    assert out.column("t_2").to_pylist() == [None, "at", None, None]
