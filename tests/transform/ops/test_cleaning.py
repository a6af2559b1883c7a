"""CLEANING operations (cleaning.py, extract.py) and REMOVE_VALUES."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.transform.ops.g_helpers import run, values

from lakebed.transform.recipe import RecipeError

NAMES = {"s": ["  alice SMITH", "o'NEIL bob", "", None], "n": [1, 2, 3, 4]}


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("UPPER_CASE", ["  ALICE SMITH", "O'NEIL BOB", "", None]),
        ("LOWER_CASE", ["  alice smith", "o'neil bob", "", None]),
        ("CAPITAL_CASE", ["  Alice Smith", "O'neil Bob", "", None]),
        ("SENTENCE_CASE", ["  alice smith", "O'neil bob", "", None]),
        ("ADD_DOUBLE_QUOTES", ['"  alice SMITH"', '"o\'NEIL bob"', '""', None]),
        ("ADD_SINGLE_QUOTES", ["'  alice SMITH'", "'o'NEIL bob'", "''", None]),
    ],
)
def test_case_and_quotes(op: str, expected: list) -> None:
    assert values(NAMES, op, "s", sourceColumn="s") == expected


def test_prefix_suffix_and_conditions() -> None:
    cond = [{"Condition": "GREATER_THAN", "TargetColumn": "n", "Value": "1"}]
    out = run(NAMES, "ADD_PREFIX", cond, sourceColumn="s", pattern="<")
    assert out.column("s").to_pylist() == ["  alice SMITH", "<o'NEIL bob", "<", None]
    assert values({"x": [1, None]}, "ADD_SUFFIX", "x", sourceColumn="x", pattern="%") == [
        "1%",
        None,
    ]


def test_remove_combined() -> None:
    data = {"s": ['  He said: "hi!!"  42 times. ', "a\t\tb"]}
    assert values(
        data,
        "REMOVE_COMBINED",
        "s",
        sourceColumn="s",
        removeAllQuotes="true",
        removeNumbers="true",
        collapseConsecutiveWhitespace="true",
        removeLeadingAndTrailingWhitespace="true",
    ) == ["He said: hi!! times.", "a b"]
    assert values(
        data,
        "REMOVE_COMBINED",
        "s",
        sourceColumn="s",
        removeSpecialCharacters="true",
        removeLetters="true",
        removeAllWhitespace="true",
    ) == ["42", ""]
    assert values(
        {"s": ["x-y_z-"]},
        "REMOVE_COMBINED",
        "s",
        sourceColumn="s",
        removeCustomCharacters="true",
        customCharacters="-_",
        removeCustomValue="true",
        customValue="x",
    ) == ["yz"]
    with pytest.raises(RecipeError, match="customCharacters"):
        run(data, "REMOVE_COMBINED", sourceColumn="s", removeCustomCharacters="true")


SPACES = [" a b ", "a  b", "  a", "a \t b", "a\nb ", "\t", "a\r\n", "\fa", "", "x", None, "é  ü "]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (
            {"removeLeadingAndTrailingWhitespace": "true"},
            ["a b", "a  b", "a", "a \t b", "a\nb", "", "a", "a", "", "x", None, "é  ü"],
        ),
        (
            {"collapseConsecutiveWhitespace": "true"},
            [" a b ", "a b", " a", "a b", "a\nb ", "\t", "a ", "\fa", "", "x", None, "é ü "],
        ),
        (
            {
                "removeLeadingAndTrailingWhitespace": "true",
                "collapseConsecutiveWhitespace": "true",
            },
            ["a b", "a b", "a", "a b", "a\nb", "", "a", "a", "", "x", None, "é ü"],
        ),
    ],
)
def test_whitespace_trims_and_collapses_every_kind_of_space(flags: dict, expected: list) -> None:
    """Clean values skip the regular expressions; tabs, newlines and runs still go through."""
    assert values({"s": SPACES}, "REMOVE_COMBINED", "s", sourceColumn="s", **flags) == expected


def test_format_date_from_dates_timestamps_and_text() -> None:
    data = {
        "d": [dt.date(2024, 3, 5), None],
        "t": [dt.datetime(2024, 3, 5, 14, 7), None],
        "s": ["2024-03-05", "05/03/2024"],
    }
    assert values(data, "FORMAT_DATE", "d", sourceColumn="d", targetDateFormat="mm-dd-yyyy") == [
        "03-05-2024",
        None,
    ]
    assert values(
        data, "FORMAT_DATE", "t", sourceColumn="t", targetDateFormat="dd month yyyy HH:MM"
    ) == ["05 March 2024 14:07", None]
    assert values(data, "FORMAT_DATE", "s", sourceColumn="s", targetDateFormat="month yyyy") == [
        "March 2024",
        None,
    ]
    with pytest.raises(RecipeError, match="not a date part"):
        run(data, "FORMAT_DATE", sourceColumn="d", targetDateFormat="qq/yyyy")


def test_remove_values_removes_rows_matching_the_condition() -> None:
    data = {"c": ["a", "b", None, "a"], "n": [1, 2, 3, 4]}
    cond = [{"Condition": "IS", "TargetColumn": "c", "Value": '["a"]'}]
    out = run(data, "REMOVE_VALUES", cond, sourceColumn="c")
    assert out.column("n").to_pylist() == [2, 3]
    with pytest.raises(RecipeError, match="ConditionExpressions"):
        run(data, "REMOVE_VALUES", sourceColumn="c")


URLS = {"u": ["https://shop.example.com/p?id=42", "mailto:x@y.org", None]}


def test_extract_between_delimiters_and_pattern() -> None:
    assert values(
        URLS,
        "EXTRACT_BETWEEN_DELIMITERS",
        "host",
        sourceColumn="u",
        targetColumn="host",
        startPattern="//",
        endPattern="/",
    ) == ["shop.example.com", None, None]
    # capture groups in the delimiters do not shift the extracted part
    assert values(
        URLS,
        "EXTRACT_BETWEEN_DELIMITERS",
        "x",
        sourceColumn="u",
        targetColumn="x",
        startPattern="(@|//)",
        endPattern="([.])",
    ) == ["shop", "y", None]
    assert values(
        URLS, "EXTRACT_PATTERN", "num", sourceColumn="u", targetColumn="num", pattern="[0-9]+"
    ) == ["42", None, None]
    with pytest.raises(RecipeError, match="look-around"):
        run(URLS, "EXTRACT_PATTERN", sourceColumn="u", targetColumn="n", pattern="a(?=b)")


def test_positions_count_from_one_inclusive() -> None:
    data = {"s": ["abcdefgh", "ab", None]}
    assert values(
        data,
        "EXTRACT_BETWEEN_POSITIONS",
        "x",
        sourceColumn="s",
        targetColumn="x",
        startPosition="3",
        endPosition="5",
    ) == ["cde", "", None]
    assert values(
        data,
        "REPLACE_BETWEEN_POSITIONS",
        "s",
        sourceColumn="s",
        startPosition="2",
        endPosition="4",
        value="_",
    ) == ["a_efgh", "a_", None]


def test_replace_text_and_between_delimiters() -> None:
    data = {"s": ["a <b> c <d$1> e", "no tags"]}
    assert values(
        data,
        "REPLACE_BETWEEN_DELIMITERS",
        "s",
        sourceColumn="s",
        startPattern="<",
        endPattern=">",
        value="$1\\x",
    ) == ["a <$1\\x> c <$1\\x> e", "no tags"]
    assert values(data, "REPLACE_TEXT", "s", sourceColumn="s", pattern="<", value="[") == [
        "a [b> c [d$1> e",
        "no tags",
    ]


def test_extract_value_from_structs_lists_and_json() -> None:
    data = {
        "st": [{"a": {"b": 1}}, {"a": None}],
        "ls": [["x", "y"], []],
        "js": ['{"a": {"b": [10, 20]}}', "oops"],
    }
    assert values(
        data, "EXTRACT_VALUE", "o", sourceColumn="st", targetColumn="o", path="`st`.`a`.`b`"
    ) == [1, None]
    assert values(
        data, "EXTRACT_VALUE", "o", sourceColumn="ls", targetColumn="o", path="`ls`[1]"
    ) == ["y", None]
    assert values(
        data, "EXTRACT_VALUE", "o", sourceColumn="js", targetColumn="o", path="`js`.`a`.`b`[1]"
    ) == ["20", None]
    with pytest.raises(RecipeError, match="does not fit"):
        run(data, "EXTRACT_VALUE", sourceColumn="st", targetColumn="o", path="`st`.`zz`")
