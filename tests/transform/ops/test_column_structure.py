"""COLUMN_STRUCTURE and COLUMN_FORMATTING operations (columns.py, split.py, formatting.py)."""

from __future__ import annotations

import pytest
from tests.transform.ops.g_helpers import run, values

from lakebed.transform.recipe import RecipeError

P = {"price": [5.0, 15.0, None, 25.0], "city": ["Paris", "Rome", "Paris", None]}


def test_boolean_operation_with_constants_columns_and_aggregates() -> None:
    assert values(
        P,
        "BOOLEAN_OPERATION",
        "o",
        valueExpression="`price` > 10 AND `city` = 'Rome'",
        trueValueExpression="yes",
        falseValueExpression="no",
        targetColumn="o",
    ) == ["no", "yes", "no", "no"]
    assert values(
        P,
        "BOOLEAN_OPERATION",
        "o",
        valueExpression="`price` < `:avg`",
        trueValueExpression="`price`",
        falseValueExpression="`:avg`",
        targetColumn="o",
        withExpressions='[{"name": "avg", "value": "avg(`price`)", "type": "aggregate"}]',
    ) == [5.0, 15.0, 15.0, 15.0]


def test_expressions_are_checked_before_running() -> None:
    with pytest.raises(RecipeError, match="does not exist"):
        run(
            P,
            "CASE_OPERATION",
            valueExpression="case when `nope` > 1 then 'a' end",
            targetColumn="o",
        )
    with pytest.raises(RecipeError, match="not allowed"):
        run(
            P,
            "CASE_OPERATION",
            valueExpression="case when (SELECT 1) = 1 then 'a' end",
            targetColumn="o",
        )
    with pytest.raises(RecipeError, match="withExpressions"):
        run(
            P,
            "BOOLEAN_OPERATION",
            valueExpression="`price` > `:x`",
            trueValueExpression="a",
            falseValueExpression="b",
            targetColumn="o",
        )


def test_case_operation() -> None:
    assert values(
        P,
        "CASE_OPERATION",
        "band",
        valueExpression="case when `price` < 10 then 'low' when `price` < 20 then 'mid' "
        "else 'high' end",
        targetColumn="band",
    ) == ["low", "mid", "high", "high"]


def test_flags() -> None:
    assert values(P, "FLAG_COLUMN_FROM_NULL", "f", sourceColumn="price", targetColumn="f") == [
        False,
        False,
        True,
        False,
    ]
    assert values(
        P,
        "FLAG_COLUMN_FROM_PATTERN",
        "f",
        sourceColumn="city",
        targetColumn="f",
        flagType="Pattern",
        pattern="^P",
        trueString="P",
        falseString="-",
    ) == ["P", "-", "P", "-"]
    with pytest.raises(RecipeError, match="flagType"):
        run(P, "FLAG_COLUMN_FROM_NULL", sourceColumn="price", targetColumn="f", flagType="Pattern")


def test_merge() -> None:
    out = run(P, "MERGE", sourceColumns='["city", "price"]', delimiter=": ", targetColumn="m")
    assert out.column("m").to_pylist() == ["Paris: 5.0", "Rome: 15.0", "Paris", "25.0"]


S = {"s": ["a,b;c,d", "x", "", None]}


def test_split_single_delimiter_names_columns_after_the_source() -> None:
    out = run(S, "SPLIT_COLUMN_SINGLE_DELIMITER", sourceColumn="s", pattern=",", limit="1")
    assert out.column_names == ["s", "s_1", "s_2"]
    assert out.column("s_1").to_pylist() == ["a", "x", "", None]
    assert out.column("s_2").to_pylist() == ["b;c,d", None, None, None]
    out = run(
        S,
        "SPLIT_COLUMN_SINGLE_DELIMITER",
        sourceColumn="s",
        pattern=",",
        limit="2",
        includeInSplit="true",
    )
    assert [out.column(c).to_pylist()[0] for c in ("s_1", "s_2", "s_3")] == ["a,", "b;c,", "d"]
    with pytest.raises(RecipeError, match="limit"):
        run(S, "SPLIT_COLUMN_SINGLE_DELIMITER", sourceColumn="s", pattern=",", limit="21")


def test_split_multiple_and_between_delimiters() -> None:
    out = run(
        S,
        "SPLIT_COLUMN_MULTIPLE_DELIMITER",
        sourceColumn="s",
        limit="3",
        patternOptions='[{"pattern": ","}, {"pattern": ";"}]',
    )
    assert [out.column(f"s_{i}").to_pylist()[0] for i in range(1, 5)] == ["a", "b", "c", "d"]
    out = run(
        {"s": ["f(x)y", "none"]},
        "SPLIT_COLUMN_BETWEEN_DELIMITER",
        sourceColumn="s",
        patternOption1='{"pattern": "("}',
        patternOption2='{"pattern": ")", "includeInSplit": true}',
    )
    assert out.to_pydict() == {
        "s": ["f(x)y", "none"],
        "s_1": ["f", "none"],
        "s_2": ["x)", None],
        "s_3": ["y", None],
    }


def test_split_by_positions() -> None:
    data = {"s": ["abcdefg", "ab"]}
    out = run(
        data, "SPLIT_COLUMN_BETWEEN_POSITIONS", sourceColumn="s", startPosition="2", endPosition="4"
    )
    assert [out.column(f"s_{i}").to_pylist() for i in (1, 2, 3)] == [
        ["a", "a"],
        ["bcd", "b"],
        ["efg", None],
    ]
    out = run(data, "SPLIT_COLUMN_FROM_START", sourceColumn="s", position="3")
    assert [out.column(f"s_{i}").to_pylist() for i in (1, 2)] == [["abc", "ab"], ["defg", None]]
    out = run(data, "SPLIT_COLUMN_FROM_END", sourceColumn="s", position="3")
    assert [out.column(f"s_{i}").to_pylist() for i in (1, 2)] == [["abcd", ""], ["efg", None]]


def test_split_with_intervals_learns_the_column_count() -> None:
    out = run(
        {"s": ["abcdefg", "ab"]},
        "SPLIT_COLUMN_WITH_INTERVALS",
        sourceColumn="s",
        startPosition="2",
        interval="3",
    )
    assert out.column_names == ["s", "s_1", "s_2", "s_3"]
    assert [out.column(f"s_{i}").to_pylist() for i in (1, 2, 3)] == [
        ["a", "a"],
        ["bcd", "b"],
        ["efg", None],
    ]


def test_split_refuses_to_overwrite_columns() -> None:
    with pytest.raises(RecipeError, match="s_1"):
        run({"s": ["a"], "s_1": ["b"]}, "SPLIT_COLUMN_FROM_START", sourceColumn="s", position="1")


def test_number_format() -> None:
    data = {"n": [1234567.891, -0.004, 2.5, None]}
    assert values(
        data,
        "NUMBER_FORMAT",
        "n",
        sourceColumn="n",
        decimalPlaces="2",
        numericDecimalSeparator=",",
        numericThousandSeparator=".",
    ) == ["1.234.567,89", "0,00", "2,50", None]
    assert (
        values(
            data,
            "NUMBER_FORMAT",
            "n",
            sourceColumn="n",
            decimalPlaces="1",
            numericAbbreviatedUnit="MILLION",
            numericUnitAbbreviation="M",
        )[0]
        == "1.2M"
    )
    with pytest.raises(RecipeError, match="not a number"):
        run({"s": ["1"]}, "NUMBER_FORMAT", sourceColumn="s")


def test_format_phone_number() -> None:
    data = {
        "p": ["+1 (555) 123-4567", "(555) 987-6543", "020 7946 0958", "12", None],
        "r": ["US", "US", "GB", "US", "US"],
    }
    assert values(data, "FORMAT_PHONE_NUMBER", "p", sourceColumn="p", defaultRegion="US") == [
        "+15551234567",
        "+15559876543",
        "020 7946 0958",
        "12",
        None,
    ]
    assert (
        values(data, "FORMAT_PHONE_NUMBER", "p", sourceColumn="p", defaultRegionColumn="r")[2]
        == "+442079460958"
    )
    with pytest.raises(RecipeError, match="defaultRegion"):
        run(data, "FORMAT_PHONE_NUMBER", sourceColumn="p", defaultRegion="XX")
