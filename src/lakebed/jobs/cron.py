"""Cron expressions: ``minute hour day-of-month month day-of-week``, and when they next fire.

Written by hand rather than taken from croniter: the whole grammar is small (``*``, lists,
ranges, steps, month and day names, a few ``@`` macros), and owning it lets every bad field
raise a :class:`~lakebed.errors.ConfigError` that names the field, the value and the fix.

The rules follow Vixie cron (the cron of most Linux systems):

- day-of-week is 0-7, where both 0 and 7 are Sunday; names ``sun``..``sat``, ``jan``..``dec``.
- ``a-b/n`` is every n-th value from a to b; ``*/n`` from the field's minimum; ``a/n`` from a
  to the field's maximum.
- When both day fields are restricted (neither starts with ``*``), a day matches if *either*
  matches: ``0 0 13 * fri`` fires on every 13th and every Friday. When one of them starts with
  ``*`` (``*`` or ``*/2``), only the other one restricts the day.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from lakebed.errors import ConfigError

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day-of-month", 1, 31, {}),
    _Field("month", 1, 12, {n: i + 1 for i, n in enumerate(_MONTHS)}),
    _Field("day-of-week", 0, 7, {n: i for i, n in enumerate(_DAYS)}),
)

#: Far enough ahead to reach any Feb 29 (2096 -> 2104 skips 2100); a search past it never ends.
_SEARCH_YEARS = 9


def _error(expr: str, field: _Field, value: str, why: str) -> ConfigError:
    allowed = f"{field.low}-{field.high}"
    if field.names:
        allowed += f" or {', '.join(field.names)}"
    return ConfigError(
        f"cron expression {expr!r}: {field.name} {value!r} {why}",
        fix=f"{field.name} takes *, a value ({allowed}), a list a,b, a range a-b or a step */n",
    )


def _value(expr: str, field: _Field, text: str, whole: str) -> int:
    lowered = text.lower()
    if lowered in field.names:
        return field.names[lowered]
    if not text.isdigit():
        raise _error(expr, field, whole, "is not a number or name")
    number = int(text)
    if not field.low <= number <= field.high:
        raise _error(expr, field, whole, f"is out of range {field.low}-{field.high}")
    return number


def _parse_field(expr: str, field: _Field, text: str) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise _error(expr, field, text, "has an empty list item")
        span, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise _error(expr, field, item, "has a step that is not a positive number")
            step = int(step_text)
        if span == "*":
            low, high = field.low, field.high
        elif "-" in span:
            first, _, last = span.partition("-")
            low, high = _value(expr, field, first, item), _value(expr, field, last, item)
            if low > high:
                raise _error(expr, field, item, "is a range that runs backwards")
        else:
            low = _value(expr, field, span, item)
            high = field.high if slash else low
        values.update(range(low, high + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class CronExpr:
    """A parsed cron expression; build one with :meth:`parse`."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday .. 6 = Saturday (7 folded into 0)
    days_star: bool
    weekdays_star: bool

    @classmethod
    def parse(cls, expression: str) -> CronExpr:
        """Parse five fields or a macro; a bad field raises ConfigError naming it."""
        text = str(expression).strip()
        if text.startswith("@"):
            if text.lower() not in MACROS:
                raise ConfigError(
                    f"cron expression {text!r} is not a known macro",
                    fix=f"use five fields or one of {', '.join(MACROS)}",
                )
            text = MACROS[text.lower()]
        parts = text.split()
        if len(parts) != 5:
            raise ConfigError(
                f"cron expression {expression!r} has {len(parts)} fields, not 5",
                fix="write minute hour day-of-month month day-of-week, e.g. '*/15 * * * *'",
            )
        sets = [_parse_field(str(expression), f, p) for f, p in zip(_FIELDS, parts, strict=True)]
        weekdays = frozenset(d % 7 for d in sets[4])
        cron = cls(
            expression=str(expression).strip(),
            minutes=sets[0],
            hours=sets[1],
            days=sets[2],
            months=sets[3],
            weekdays=weekdays,
            days_star=parts[2].startswith("*"),
            weekdays_star=parts[4].startswith("*"),
        )
        cron._check_reachable()
        return cron

    def _check_reachable(self) -> None:
        if self.days_star or not self.weekdays_star:
            return  # a day-of-week (or every day) always comes round
        longest = max(calendar.monthrange(2024, m)[1] for m in self.months)
        if min(self.days) > longest:
            raise ConfigError(
                f"cron expression {self.expression!r} never fires: no month it names has "
                f"day {min(self.days)}",
                fix="pick days of the month that exist in the months given",
            )

    def matches_day(self, day: datetime) -> bool:
        """Whether the date of ``day`` is one the expression fires on (the Vixie OR rule)."""
        if day.month not in self.months:
            return False
        in_days = day.day in self.days
        in_weekdays = (day.weekday() + 1) % 7 in self.weekdays
        if self.days_star or self.weekdays_star:
            return in_days and in_weekdays
        return in_days or in_weekdays

    def matches(self, moment: datetime) -> bool:
        """Whether the expression fires at the minute of ``moment``."""
        return (
            moment.minute in self.minutes and moment.hour in self.hours and self.matches_day(moment)
        )

    def next_after(self, moment: datetime) -> datetime:
        """The first minute strictly after ``moment`` at which the expression fires.

        Computed on ``moment``'s wall clock and returned with the same ``tzinfo``.
        """
        tz = moment.tzinfo
        t = moment.replace(tzinfo=None, second=0, microsecond=0) + timedelta(minutes=1)
        limit = t.replace(year=t.year + _SEARCH_YEARS, month=1, day=1)
        while t < limit:
            if t.month not in self.months:
                t = (t.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0)
            elif not self.matches_day(t):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0)
            elif t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0)
            elif t.minute not in self.minutes:
                t += timedelta(minutes=1)
            else:
                return t.replace(tzinfo=tz)
        raise ConfigError(  # pragma: no cover - _check_reachable rules this out
            f"cron expression {self.expression!r} does not fire in {_SEARCH_YEARS} years"
        )

    def upcoming(self, moment: datetime, count: int) -> list[datetime]:
        """The next ``count`` firing times after ``moment``."""
        times: list[datetime] = []
        for _ in range(count):
            moment = self.next_after(moment)
            times.append(moment)
        return times

    def __str__(self) -> str:
        return self.expression
