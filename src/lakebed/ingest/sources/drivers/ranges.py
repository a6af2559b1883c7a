"""Bookmark values and key ranges for database reads.

A bookmark or partition column has a *kind*: ``int``, ``date``, ``timestamp`` or ``string``.
Values come back from the database in whatever form its client uses (SQLite returns dates as
text) and are normalised here, stored in bookmark state as JSON (ints as ints, the rest as
ISO text with the kind as a type tag), written back into SQL as literals, and split into
roughly equal key ranges. Ranges are half-open, ``col > a AND col <= b``, so consecutive parts
never share a row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa

Kind = Literal["int", "date", "timestamp", "string"]
Value = int | dt.date | dt.datetime | str

_EPOCH = dt.datetime(1970, 1, 1)


def kind_of(arrow: pa.DataType) -> Kind | None:
    """The bookmark kind of a column's Arrow type; None when it cannot be one."""
    if pa.types.is_integer(arrow):
        return "int"
    if pa.types.is_date(arrow):
        return "date"
    if pa.types.is_timestamp(arrow):
        return "timestamp"
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return "string"
    return None


def normalise(raw: Any, kind: Kind) -> Value:
    """A value as the database client returned it, in the Python type of its kind.

    Raises ValueError for a value that is not one (MariaDB's zero date, text in SQLite)."""
    if kind == "int":
        return int(raw)
    if kind == "string":
        return str(raw)
    if kind == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw)[:10])
    value = raw if isinstance(raw, dt.datetime) else dt.datetime.fromisoformat(str(raw))
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value


def to_state(value: Value, kind: Kind) -> int | str:
    """``value`` as JSON data for bookmark state."""
    if kind == "int":
        return int(value)  # type: ignore[arg-type]
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def from_state(data: Any, kind: Kind) -> Value:
    """The value stored by :func:`to_state`."""
    return normalise(data, kind)


def _number(value: Value, kind: Kind) -> int:
    if kind == "int":
        return int(value)  # type: ignore[arg-type]
    if kind == "date":
        assert isinstance(value, dt.date)
        return value.toordinal()
    assert isinstance(value, dt.datetime)
    naive = value.replace(tzinfo=None)
    return (naive - _EPOCH) // dt.timedelta(microseconds=1)


def _value(number: int, kind: Kind, like: Value) -> Value:
    if kind == "int":
        return number
    if kind == "date":
        return dt.date.fromordinal(number)
    assert isinstance(like, dt.datetime)
    return (_EPOCH + dt.timedelta(microseconds=number)).replace(tzinfo=like.tzinfo)


def boundaries(low: Value, high: Value, parts: int, kind: Kind) -> list[Value]:
    """Up to ``parts - 1`` increasing values strictly between ``low`` and ``high`` that cut
    ``[low, high]`` into ranges of about equal width (none for text, which has no width)."""
    if kind == "string" or parts <= 1:
        return []
    start, stop = _number(low, kind), _number(high, kind)
    cuts: list[Value] = []
    last = start
    for i in range(1, parts):
        cut = start + (stop - start) * i // parts
        if last < cut < stop:
            cuts.append(_value(cut, kind, low))
            last = cut
    return cuts


@dataclass(frozen=True)
class Range:
    """Rows with ``column`` in ``(low, high]`` (a None end is open), and NULLs if asked."""

    low: Value | None
    high: Value | None
    nulls: bool = False


def ranges(
    cuts: Sequence[Value], low: Value | None, high: Value | None, nulls: bool
) -> list[Range]:
    """The ranges ``(low, cut1], (cut1, cut2], ..., (cutN, high]``; NULLs go to the first."""
    points = [low, *cuts, high]
    return [Range(points[i], points[i + 1], nulls and i == 0) for i in range(len(points) - 1)]
