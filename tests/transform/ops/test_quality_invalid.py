"""Invalid values: what is invalid per columnDataType / advancedDataType, and replacements."""

from __future__ import annotations

import pyarrow as pa
import pytest
from tests.transform.ops.h_run import col, run, step

from lakebed.transform.recipe import RecipeError

DATA = pa.table(
    {
        "amount": ["10", "x", "20", None, "1,000", " 30 "],
        "when": ["2024-01-15", "15.03.2024", "2024-13-45", "tomorrow", None, "20240229"],
        "mail": ["a@b.com", "nope", "c@d.org", None, "e@f", "g@h.io"],
        "v": pa.array([1.0, float("inf"), 3.0, None, 5.0, 6.0], pa.float64()),
    }
)


def test_replace_with_average_of_valid_numbers_in_text() -> None:
    # valid: 10, 20, 30 (trimmed); "x" and "1,000" are invalid; NULL is missing, not invalid
    assert col(
        [step("REPLACE_WITH_AVERAGE", sourceColumn="amount", columnDataType="number")],
        "amount",
        DATA,
    ) == ["10", "20", "20", None, "20", " 30 "]


def test_replace_with_median_sum_and_mode() -> None:
    params = {"sourceColumn": "amount", "columnDataType": "number"}
    assert col([step("REPLACE_WITH_MEDIAN", **params)], "amount", DATA)[1] == "20"
    assert col([step("REPLACE_WITH_SUM", **params)], "amount", DATA)[4] == "60"
    assert col([step("REPLACE_WITH_MODE", **params)], "amount", DATA)[1] == " 30 "


def test_numeric_columns_treat_infinity_as_invalid() -> None:
    out = col([step("REPLACE_WITH_NULL", sourceColumn="v", columnDataType="number")], "v", DATA)
    assert out == [1.0, None, 3.0, None, 5.0, 6.0]


def test_dates_that_do_not_parse_are_invalid() -> None:
    out = run([step("REMOVE_INVALID", sourceColumn="when", columnDataType="date")], DATA)
    assert out.column("when").to_pylist() == ["2024-01-15", "15.03.2024", None, "20240229"]


def test_advanced_data_type_email() -> None:
    params = {"sourceColumn": "mail", "advancedDataType": "Email"}
    assert col([step("REPLACE_WITH_EMPTY", **params)], "mail", DATA) == [
        "a@b.com",
        "",
        "c@d.org",
        None,
        "",
        "g@h.io",
    ]
    assert col([step("REPLACE_WITH_CUSTOM", value="?", **params)], "mail", DATA)[1] == "?"
    assert col([step("REPLACE_WITH_LAST_VALID", **params)], "mail", DATA) == [
        "a@b.com",
        "a@b.com",
        "c@d.org",
        None,
        "c@d.org",
        "g@h.io",
    ]


def test_replace_with_custom_on_several_columns() -> None:
    data = pa.table({"a": ["1", "b"], "b": ["c", "2"]})
    out = run(
        [
            step(
                "REPLACE_WITH_CUSTOM",
                sourceColumns='["a", "b"]',
                columnDataType="number",
                value="0",
            )
        ],
        data,
    )
    assert out.to_pydict() == {"a": ["1", "0"], "b": ["0", "2"]}


def test_rolling_replacements_use_previous_rows() -> None:
    data = pa.table({"p": pa.array([1.0, 3.0, None, 5.0, None], pa.float64())})
    params = {"sourceColumn": "p", "columnDataType": "number", "period": "2"}
    assert col([step("REPLACE_WITH_ROLLING_AVERAGE", **params)], "p", data) == [
        1.0,
        3.0,
        2.0,
        5.0,
        5.0,
    ]
    assert col([step("REPLACE_WITH_ROLLING_SUM", **params)], "p", data) == [
        1.0,
        3.0,
        4.0,
        5.0,
        5.0,
    ]


def test_unknown_advanced_type_is_rejected() -> None:
    with pytest.raises(RecipeError, match="advancedDataType"):
        run([step("REMOVE_INVALID", sourceColumn="mail", advancedDataType="Horoscope")], DATA)


def test_statistic_replacement_needs_number_type() -> None:
    with pytest.raises(RecipeError, match="columnDataType number"):
        run([step("REPLACE_WITH_AVERAGE", sourceColumn="amount", columnDataType="string")], DATA)
