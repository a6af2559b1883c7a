"""Event times and state values: parsing a row's time field, formatting times, and a tagged JSON
encoding for the values an aggregator holds (so its state needs neither pickle nor msgpack)."""

from __future__ import annotations

import base64
import math
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


class EventTimeError(ValueError):
    """A row's time field cannot be read as an event time."""


def event_micros(value: Any) -> int:
    """Microseconds since the epoch for a datetime (naive = UTC), an ISO 8601 string, a date or
    epoch milliseconds (int or float)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return (value - EPOCH) // _ONE_US
    if isinstance(value, bool):
        raise EventTimeError("a boolean is not a time")
    if isinstance(value, int):
        return value * 1000
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EventTimeError(f"{value} is not a time")
        return round(value * 1000)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise EventTimeError(
                f"{value!r} is not an ISO 8601 time like 2024-05-01T12:00:00Z"
            ) from None
        return event_micros(parsed)
    if isinstance(value, date):
        return event_micros(datetime(value.year, value.month, value.day, tzinfo=UTC))
    raise EventTimeError(f"a {type(value).__name__} is not a time")


def to_datetime(micros: int) -> datetime:
    """A UTC datetime for microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=micros)


def format_time(micros: int) -> str:
    """``2024-05-01T12:00:01Z`` (with fractions of a second only when there are some)."""
    return to_datetime(micros).isoformat().replace("+00:00", "Z")


def format_seconds(micros: int) -> str:
    """A duration in seconds, short: ``45``, ``0.25``."""
    return f"{micros / 1_000_000:g}"


def encode(value: Any) -> Any:
    """A JSON-ready form of ``value``; scalars pass through, the rest become ``{"$tag": ...}``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$f": repr(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, time):
        return {"$tm": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$td": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, Decimal):
        return {"$n": str(value)}
    if isinstance(value, bytes | bytearray):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list | tuple):
        return {"$l": [encode(v) for v in value]}
    if isinstance(value, set | frozenset):
        return {"$s": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"$m": [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"cannot save a {type(value).__name__} in window state")


_DECODERS: dict[str, Any] = {
    "$f": float,
    "$dt": datetime.fromisoformat,
    "$d": date.fromisoformat,
    "$tm": time.fromisoformat,
    "$td": lambda v: timedelta(days=v[0], seconds=v[1], microseconds=v[2]),
    "$n": Decimal,
    "$b": base64.b64decode,
    "$l": lambda v: [decode(x) for x in v],
    "$s": lambda v: {decode(x) for x in v},
    "$m": lambda v: {decode(k): decode(x) for k, x in v},
}


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(value, dict):
        ((tag, inner),) = value.items()
        return _DECODERS[tag](inner)
    return value
