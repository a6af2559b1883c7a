"""Ages written the way people write them: ``30m``, ``12h``, ``7d``, ``2w``, ``90s``."""

from __future__ import annotations

import re
from datetime import timedelta

from lakebed.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: str | timedelta, what: str = "duration") -> timedelta:
    """``"7d"`` → ``timedelta(days=7)``; units s, m, h, d, w (a timedelta passes through)."""
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(str(value))
    if not match:
        raise ConfigError(
            f"{what} {value!r} is not a duration",
            fix="write it like 30m, 12h, 7d or 2w (seconds, minutes, hours, days, weeks)",
        )
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])
