"""The cron parser against next times worked out by hand from a calendar."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lakebed.errors import ConfigError
from lakebed.jobs import CronExpr


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def upcoming(expr: str, after: str, count: int = 4) -> list[str]:
    times = CronExpr.parse(expr).upcoming(at(after), count)
    return [t.strftime("%Y-%m-%d %H:%M") for t in times]


def test_every_quarter_hour_rolls_over_hour_day_and_year() -> None:
    assert upcoming("*/15 * * * *", "2026-11-23 10:07") == [
        "2026-11-23 10:15",
        "2026-11-23 10:30",
        "2026-11-23 10:45",
        "2026-11-23 11:00",
    ]
    assert upcoming("*/15 * * * *", "2025-12-31 23:59:30", 1) == ["2026-01-01 00:00"]


def test_next_after_is_strictly_after() -> None:
    cron = CronExpr.parse("30 6 * * *")
    assert cron.next_after(at("2026-11-23 06:30")) == at("2026-11-24 06:30")
    assert cron.next_after(at("2026-11-23 06:29:59")) == at("2026-11-23 06:30")


def test_month_ends_skip_short_months() -> None:
    # 31st: not in April, June, September or November
    assert upcoming("0 0 31 * *", "2025-03-31 00:00") == [
        "2025-05-31 00:00",
        "2025-07-31 00:00",
        "2025-08-31 00:00",
        "2025-10-31 00:00",
    ]
    assert upcoming("0 0 30 * *", "2027-01-30 00:00", 2) == ["2027-03-30 00:00", "2027-04-30 00:00"]


def test_leap_day_waits_for_a_leap_year() -> None:
    assert upcoming("0 12 29 2 *", "2025-01-01 00:00", 2) == [
        "2028-02-29 12:00",
        "2032-02-29 12:00",
    ]
    # 2100 is not a leap year: from 2096 the next 29 February is in 2104
    assert upcoming("0 0 29 2 *", "2096-03-01 00:00", 1) == ["2104-02-29 00:00"]


def test_both_day_fields_restricted_fire_on_either() -> None:
    # Fridays in Nov/Dec 2026: 20, 27, 4, 11; the 13th of December 2026 is a Sunday
    assert upcoming("0 0 13 * fri", "2026-11-14 00:00", 5) == [
        "2026-11-20 00:00",
        "2026-11-27 00:00",
        "2026-12-04 00:00",
        "2026-12-11 00:00",
        "2026-12-13 00:00",
    ]


def test_a_star_day_field_does_not_or() -> None:
    # day-of-month */2 starts with '*': only odd days that are also Mondays (Vixie cron)
    assert upcoming("0 0 */2 * mon", "2026-11-01 00:00") == [
        "2026-11-09 00:00",
        "2026-11-23 00:00",
        "2026-12-07 00:00",
        "2026-12-21 00:00",
    ]
    assert upcoming("0 0 13 * *", "2026-11-14 00:00", 2) == ["2026-12-13 00:00", "2027-01-13 00:00"]


def test_ranges_steps_lists_and_names() -> None:
    cron = CronExpr.parse("5-20/5 9-17/4 * * *")
    assert cron.minutes == {5, 10, 15, 20}
    assert cron.hours == {9, 13, 17}
    assert CronExpr.parse("5/15 * * * *").minutes == {5, 20, 35, 50}
    assert CronExpr.parse("0,30 * * * *").minutes == {0, 30}
    named = CronExpr.parse("30 6 * JAN,jul Mon-Fri")
    assert named.months == {1, 7}
    assert named.weekdays == {1, 2, 3, 4, 5}
    # 2027-01-01 is a Friday; the next weekday after it is Monday the 4th
    assert upcoming("30 6 * jan,jul mon-fri", "2026-11-23 00:00", 2) == [
        "2027-01-01 06:30",
        "2027-01-04 06:30",
    ]


def test_sunday_is_0_and_7() -> None:
    assert CronExpr.parse("0 0 * * 7").weekdays == {0}
    assert CronExpr.parse("0 0 * * 5-7").weekdays == {5, 6, 0}
    assert upcoming("0 0 * * 7", "2026-11-02 00:00", 2) == ["2026-11-08 00:00", "2026-11-15 00:00"]


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("@hourly", "2026-11-23 11:00"),
        ("@daily", "2026-11-24 00:00"),
        ("@midnight", "2026-11-24 00:00"),
        ("@weekly", "2026-11-29 00:00"),  # next Sunday
        ("@monthly", "2026-12-01 00:00"),
        ("@yearly", "2027-01-01 00:00"),
    ],
)
def test_macros(macro: str, expected: str) -> None:
    assert upcoming(macro, "2026-11-23 10:07", 1) == [expected]


def test_time_zone_is_kept() -> None:
    start = datetime(2026, 11, 23, 10, 7, tzinfo=UTC)
    assert CronExpr.parse("@hourly").next_after(start) == datetime(2026, 11, 23, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("* * * *", "4 fields"),
        ("* * * * * *", "6 fields"),
        ("60 * * * *", "minute '60' is out of range 0-59"),
        ("* 24 * * *", "hour '24' is out of range"),
        ("* * 0 * *", "day-of-month '0' is out of range 1-31"),
        ("* * * 13 *", "month '13' is out of range"),
        ("* * * * 8", "day-of-week '8' is out of range 0-7"),
        ("*/0 * * * *", "minute '*/0' has a step that is not a positive number"),
        ("*/x * * * *", "minute '*/x'"),
        ("5-1 * * * *", "minute '5-1' is a range that runs backwards"),
        ("1,,2 * * * *", "minute '1,,2' has an empty list item"),
        ("* * * * funday", "day-of-week 'funday' is not a number or name"),
        ("* * * foo *", "month 'foo'"),
        ("@reboot", "not a known macro"),
        ("0 0 31 2 *", "never fires"),
        ("0 0 30,31 2 *", "never fires"),
    ],
)
def test_bad_expressions_name_the_field(expr: str, names: str) -> None:
    with pytest.raises(ConfigError) as caught:
        CronExpr.parse(expr)
    assert names in str(caught.value)
    assert caught.value.fix


def test_31st_in_a_mixed_month_list_is_fine() -> None:
    assert upcoming("0 0 31 2,3 *", "2026-01-01 00:00", 1) == ["2026-03-31 00:00"]
