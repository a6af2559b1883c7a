"""BASIC operations (structure.py, jsonstructs.py): moves, sort, type changes, JSON parsing."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest
from tests.transform.ops.g_helpers import run, values

from lakebed.transform.recipe import RecipeError

ABC = {"a": [1, 2], "b": ["x", "y"], "c": [True, False], "d": [0.5, 1.5]}


@pytest.mark.parametrize(
    ("op", "params", "order"),
    [
        ("MOVE_AFTER", {"sourceColumn": "a", "targetColumn": "c"}, ["b", "c", "a", "d"]),
        ("MOVE_BEFORE", {"sourceColumn": "d", "targetColumn": "b"}, ["a", "d", "b", "c"]),
        ("MOVE_TO_START", {"sourceColumn": "c"}, ["c", "a", "b", "d"]),
        ("MOVE_TO_END", {"sourceColumn": "a"}, ["b", "c", "d", "a"]),
        ("MOVE_TO_INDEX", {"sourceColumn": "a", "targetIndex": "2"}, ["b", "c", "a", "d"]),
    ],
)
def test_moves_reorder_columns_and_keep_values(op: str, params: dict, order: list[str]) -> None:
    out = run(ABC, op, **params)
    assert out.column_names == order
    assert out.column("a").to_pylist() == [1, 2]


def test_move_to_index_out_of_range_is_rejected() -> None:
    with pytest.raises(RecipeError, match="targetIndex 9"):
        run(ABC, "MOVE_TO_INDEX", sourceColumn="a", targetIndex="9")


def test_sort_orders_rows_with_nulls_and_custom_order() -> None:
    data = {"k": ["b", None, "a", "c", "a"], "n": [1, 2, 3, 4, 5]}
    exprs = [{"sourceColumn": "k", "ordering": "DESCENDING", "nullsOrdering": "NULLS_BOTTOM"}]
    assert values(data, "SORT", "n", expressions=json.dumps(exprs)) == [4, 1, 3, 5, 2]
    custom = [{"sourceColumn": "k", "ordering": "ASCENDING", "customOrder": ["C", "a"]}]
    # case-insensitive custom order, then values not in it; ties keep their order
    assert values(data, "SORT", "n", expressions=json.dumps(custom)) == [2, 4, 3, 5, 1]


def test_sort_rejects_unknown_columns() -> None:
    with pytest.raises(RecipeError, match="sourceColumn"):
        run(ABC, "SORT", expressions='[{"sourceColumn": "zz"}]')


def test_change_data_type_converts_text_and_nulls_bad_values() -> None:
    data = {"s": [" 12 ", "12.7", "-3.9", "abc", None]}
    assert values(data, "CHANGE_DATA_TYPE", "s", sourceColumn="s", columnDataType="int") == [
        12,
        12,
        -3,
        None,
        None,
    ]
    assert values(data, "CHANGE_DATA_TYPE", "s", sourceColumn="s", columnDataType="double") == [
        12.0,
        12.7,
        -3.9,
        None,
        None,
    ]
    dates = {"s": ["2024-01-15", "2024/01/15", "2024-13-01", "2024-02-03 10:00:00"]}
    assert values(dates, "CHANGE_DATA_TYPE", "s", sourceColumn="s", columnDataType="date") == [
        dt.date(2024, 1, 15),
        None,
        None,
        None,
    ]
    assert values(dates, "CHANGE_DATA_TYPE", "s", sourceColumn="s", columnDataType="timestamp")[
        3
    ] == (dt.datetime(2024, 2, 3, 10))
    bools = {"s": ["Yes", "no", "TRUE", "0", "maybe"]}
    assert values(bools, "TO_BOOLEAN_COLUMN", "s", sourceColumn="s") == [
        True,
        False,
        True,
        False,
        None,
    ]


def test_to_string_and_number_columns() -> None:
    out = run(ABC, "TO_STRING_COLUMN", sourceColumn="c", columnDataType="string")
    assert out.column("c").to_pylist() == ["true", "false"]
    out = run({"s": ["1.5", "x"]}, "TO_NUMBER_COLUMN", sourceColumn="s")
    assert out.schema.field("s").type == pa.float64()
    assert out.column("s").to_pylist() == [1.5, None]


def test_change_data_type_rejects_unknown_types() -> None:
    with pytest.raises(RecipeError, match="columnDataType"):
        run(ABC, "CHANGE_DATA_TYPE", sourceColumn="a", columnDataType="uuid")


def test_json_to_structs_learns_the_type_from_the_data() -> None:
    data = {
        "j": ['{"a": 1, "b": {"c": "x"}, "l": [1, 2]}', '{"a": 2.5, "z": true}', "not json", None]
    }
    out = run(data, "JSON_TO_STRUCTS", sourceColumns='["j"]', unnestLevel="2")
    t = out.schema.field("j_struct").type
    assert [f.name for f in t] == ["a", "b", "l", "z"]
    assert t.field("a").type == pa.float64()  # 1 and 2.5 merge to double
    assert out.column("j_struct").to_pylist() == [
        {"a": 1.0, "b": {"c": "x"}, "l": [1, 2], "z": None},
        {"a": 2.5, "b": None, "l": None, "z": True},
        None,
        None,
    ]
    level1 = run(data, "JSON_TO_STRUCTS", sourceColumns='["j"]', removeSourceColumn="true")
    assert level1.column_names == ["j"]
    assert level1.column("j").to_pylist()[0]["b"] == '{"c":"x"}'
