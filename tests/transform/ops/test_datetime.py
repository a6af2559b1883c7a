"""Dates: messy text parsed by the documented layouts, parts, formats, arithmetic, zones."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from tests.transform.ops.h_run import col, run, step

from lakebed.transform.recipe import RecipeError

TEXT = pa.table(
    {
        "d": [
            "2024-01-15",
            "2024/02/20",
            "15.03.2024",
            "04/30/2024",
            "31-12-2023",
            "20240229",
            "2024-05-06 07:08:09",
            "2024-05-06T07:08",
            "2024-13-45",
            "2024-02-30",
            "soon",
            None,
        ]
    }
)


def test_parsing_policy_reads_the_documented_layouts_and_nulls_the_rest() -> None:
    out = col(
        [
            step(
                "DATE_FORMAT",
                sourceColumn="d",
                targetColumn="f",
                dateTimeFormat="yyyy-mm-dd HH:MM:SS",
            )
        ],
        "f",
        TEXT,
    )
    assert out == [
        "2024-01-15 00:00:00",
        "2024-02-20 00:00:00",
        "2024-03-15 00:00:00",
        "2024-04-30 00:00:00",
        "2023-12-31 00:00:00",
        "2024-02-29 00:00:00",
        "2024-05-06 07:08:09",
        None,
        None,
        None,
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("YEAR", [2024, 2024, 2024]),
        ("MONTH", [1, 2, 3]),
        ("DAY", [15, 20, 15]),
        ("QUARTER", [1, 1, 1]),
        ("WEEK_DAY", [1, 2, 5]),
        ("WEEK_NUMBER", [3, 8, 11]),
        ("MONTH_NAME", ["January", "February", "March"]),
        ("UNIX_TIME", [1705276800, 1708387200, 1710460800]),
    ],
)
def test_date_parts(operation: str, expected: list[object]) -> None:
    assert col([step(operation, sourceColumn="d", targetColumn="p")], "p", TEXT)[:3] == expected


def test_time_parts_of_a_timestamp_column() -> None:
    data = pa.table(
        {"t": pa.array([dt.datetime(2024, 3, 1, 13, 45, 30, 123000)], pa.timestamp("us"))}
    )
    parts = {
        op: col([step(op, sourceColumn="t", targetColumn="p")], "p", data)[0]
        for op in ("HOUR", "MINUTE", "SECOND", "MILLISECOND")
    }
    assert parts == {"HOUR": 13, "MINUTE": 45, "SECOND": 30, "MILLISECOND": 123}


def test_a_literal_value_instead_of_a_column() -> None:
    out = col([step("YEAR", value="31.12.1999", targetColumn="y")], "y", TEXT)
    assert set(out) == {1999}


def test_date_add_and_format() -> None:
    out = col(
        [
            step(
                "DATE_ADD",
                sourceColumn="d",
                units="MONTHS",
                dateAddValue="1",
                dateTimeFormat="mm/dd/yyyy",
                targetColumn="a",
            )
        ],
        "a",
        TEXT,
    )
    assert out[:2] == ["02/15/2024", "03/20/2024"]
    out = col(
        [step("DATE_ADD", sourceColumn="d", units="HOURS", dateAddValue="-2", targetColumn="a")],
        "a",
        TEXT,
    )
    assert out[0] == dt.datetime(2024, 1, 14, 22, 0)


def test_date_diff_counts_whole_units_from_first_to_second() -> None:
    out = col(
        [step("DATE_DIFF", sourceColumn1="d", value2="2024-03-01", units="DAYS", targetColumn="n")],
        "n",
        TEXT,
    )
    assert out[:3] == [46, 10, -14]
    assert out[-1] is None


def test_convert_timezone_with_offsets_and_names() -> None:
    data = pa.table({"t": pa.array([dt.datetime(2024, 7, 1, 12, 0)], pa.timestamp("us"))})
    fixed = col(
        [
            step(
                "CONVERT_TIMEZONE",
                sourceColumn="t",
                fromTimeZone="UTC",
                toTimeZone="UTC+08:00",
                targetColumn="c",
            )
        ],
        "c",
        data,
    )
    assert fixed == [dt.datetime(2024, 7, 1, 20, 0)]
    named = col(
        [
            step(
                "CONVERT_TIMEZONE",
                sourceColumn="t",
                fromTimeZone="Europe/Paris",
                toTimeZone="America/New_York",
                targetColumn="c",
            )
        ],
        "c",
        data,
    )
    assert named == [dt.datetime(2024, 7, 1, 6, 0)]


def test_date_time_and_time_from_parts() -> None:
    data = pa.table({"y": [2024, 2023], "m": [2, 2], "d": [29, 29]})
    parts = (
        '{"year": {"sourceColumn": "y"}, "month": {"sourceColumn": "m"}, '
        '"day": {"sourceColumn": "d"}, "hour": {"value": "6"}}'
    )
    made = col([step("DATE_TIME", dateTimeParameters=parts, targetColumn="x")], "x", data)
    assert made == [dt.datetime(2024, 2, 29, 6, 0), None]  # 2023-02-29 does not exist
    day = col([step("DATE", dateTimeParameters=parts, targetColumn="x")], "x", data)
    assert day == [dt.date(2024, 2, 29), None]
    at = col([step("TIME", dateTimeParameters=parts, targetColumn="x")], "x", data)
    assert at == ["06:00:00", "06:00:00"]


def test_now_and_today_use_one_start_time() -> None:
    out = run(
        [
            step("NOW", targetColumn="now", startTime="2024-05-01T23:30:00+02:00"),
            step("TODAY", targetColumn="today", startTime="2024-05-01T23:30:00+02:00"),
        ],
        TEXT,
    )
    assert set(out.column("now").to_pylist()) == {dt.datetime(2024, 5, 1, 21, 30)}
    assert set(out.column("today").to_pylist()) == {dt.date(2024, 5, 1)}


def test_unix_time_format() -> None:
    data = pa.table({"s": [0, 86400 + 3661]})
    assert col([step("UNIX_TIME_FORMAT", sourceColumn="s", targetColumn="f")], "f", data) == [
        "1970-01-01 00:00:00",
        "1970-01-02 01:01:01",
    ]


def test_source_column_or_value_but_not_both() -> None:
    with pytest.raises(RecipeError, match="exactly one of sourceColumn and value"):
        run([step("YEAR", sourceColumn="d", value="2024-01-01", targetColumn="y")], TEXT)
