"""What a windowed aggregation computes: :class:`WindowSpec` and its parsed aggregations.

A spec is checked once, when it is built, so that a typo in an aggregation string or a slide that
does not divide the window size fails when the stream is created, not at the first record.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from lakebed.errors import ConfigError

FUNCTIONS = ("count", "sum", "min", "max", "avg", "count_distinct", "first", "last")
"""Aggregate functions a spec may use; ``count(*)`` counts rows, the others take one field."""

RESERVED_COLUMNS = ("window_start", "window_end")
"""Output columns every emitted row has; neither a key nor an aggregate may use these names."""

_CALL = re.compile(r"^\s*([A-Za-z_]+)\s*\(\s*(\*|[^()\s,]+)\s*\)\s*$")
_EXAMPLES = 'e.g. "count(*)", "sum(amount)", "avg(latency_ms)", "count_distinct(user_id)"'


@dataclass(frozen=True, slots=True)
class Aggregation:
    """One parsed aggregation: output column ``name`` = ``function(field)``."""

    name: str
    function: str
    field: str | None
    """The input field, ``None`` for ``count(*)``."""


def parse_aggregation(name: str, text: str) -> Aggregation:
    """Parse ``"sum(amount)"`` into an :class:`Aggregation`; a :class:`ConfigError` otherwise."""
    match = _CALL.match(text) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(
            f"aggregation {name!r} is {text!r}, which is not of the form function(field)",
            fix=f"write one of {', '.join(FUNCTIONS)} applied to a field, {_EXAMPLES}",
        )
    function, argument = match.group(1).lower(), match.group(2)
    if function not in FUNCTIONS:
        raise ConfigError(
            f"aggregation {name!r} ({text!r}) uses the unknown function {function!r}",
            fix=f"use one of {', '.join(FUNCTIONS)}, {_EXAMPLES}",
        )
    if argument == "*":
        if function != "count":
            raise ConfigError(
                f"aggregation {name!r} ({text!r}): only count takes *",
                fix=f"name the field {function} applies to, e.g. {function}(amount)",
            )
        return Aggregation(name, function, None)
    return Aggregation(name, function, argument)


def to_micros(seconds: float) -> int:
    """Seconds as whole microseconds, the aggregator's unit of time."""
    return round(seconds * 1_000_000)


def _suggest_slides(size_s: float, slide_s: float) -> str:
    if size_s == int(size_s) and size_s <= 100_000:
        size = int(size_s)
        divisors = [d for d in range(1, size + 1) if size % d == 0 and d < size]
        nearest = sorted(divisors, key=lambda d: abs(d - slide_s))[:4]
        if nearest:
            return ", e.g. " + ", ".join(str(d) for d in sorted(nearest))
    return ""


class WindowSpec(BaseModel):
    """A windowed aggregation over event time, as Kinesis Data Analytics / Flink run them.

    ``kind="tumbling"``: back-to-back windows of ``size_s`` seconds. ``kind="sliding"``: windows
    of ``size_s`` starting every ``slide_s`` seconds (``slide_s`` must divide ``size_s``), so a
    row falls into ``size_s / slide_s`` windows. Rows are grouped by ``keys``; ``aggregations``
    maps output column names to ``"function(field)"`` strings (see :data:`FUNCTIONS`).
    Build it with keyword arguments; a bad value raises :class:`lakebed.errors.ConfigError`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["tumbling", "sliding"]
    size_s: float
    slide_s: float | None = None
    time_field: str
    keys: list[str] = []
    aggregations: dict[str, str]
    watermark_delay_s: float = 0
    """How far the watermark trails the largest event time seen (out-of-orderness allowed)."""
    allowed_lateness_s: float = 0
    """How long after the watermark passes a window's end it stays open for late rows."""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _as_config_error(exc) from None

    @classmethod
    def build(cls, value: WindowSpec | dict[str, Any]) -> WindowSpec:
        """A spec from a spec or a plain mapping (e.g. parsed from YAML or JSON)."""
        return value if isinstance(value, WindowSpec) else cls(**value)

    @model_validator(mode="after")
    def _check(self) -> WindowSpec:
        for label, value in (
            ("size_s", self.size_s),
            ("watermark_delay_s", self.watermark_delay_s),
            ("allowed_lateness_s", self.allowed_lateness_s),
        ):
            if not math.isfinite(value) or value < 0:
                raise ConfigError(
                    f"window {label} is {value!r}", fix=f"set {label} to a number of seconds >= 0"
                )
        if to_micros(self.size_s) < 1:
            raise ConfigError(
                f"window size_s is {self.size_s!r}",
                fix="set size_s to a positive number of seconds",
            )
        if self.kind == "tumbling":
            if self.slide_s is not None and to_micros(self.slide_s) != to_micros(self.size_s):
                raise ConfigError(
                    f"tumbling windows have no slide, but slide_s is {self.slide_s!r} "
                    f"(size_s {self.size_s!r})",
                    fix='drop slide_s, or use kind "sliding" for overlapping windows',
                )
        else:
            self._check_slide()
        if not self.time_field:
            raise ConfigError("window time_field is empty", fix="name the event-time field")
        if not self.aggregations:
            raise ConfigError(
                "a window spec needs at least one aggregation",
                fix='add e.g. aggregations={"n": "count(*)"}',
            )
        seen: set[str] = set()
        for name in [*self.keys, *self.aggregations]:
            if name in RESERVED_COLUMNS:
                raise ConfigError(
                    f"window key or aggregation named {name!r} clashes with the output column",
                    fix=f"rename it; {' and '.join(RESERVED_COLUMNS)} are always in the output",
                )
            if name in seen:
                raise ConfigError(
                    f"output column {name!r} appears twice among the keys and aggregations",
                    fix="give every key and aggregation its own name",
                )
            seen.add(name)
        for name, text in self.aggregations.items():
            parse_aggregation(name, text)
        return self

    def _check_slide(self) -> None:
        if self.slide_s is None:
            raise ConfigError(
                f"sliding windows need slide_s (size_s is {self.size_s!r})",
                fix='set slide_s to a divisor of size_s, or use kind "tumbling"',
            )
        size, slide = to_micros(self.size_s), to_micros(self.slide_s)
        if not math.isfinite(self.slide_s) or slide < 1 or size % slide:
            raise ConfigError(
                f"slide_s {self.slide_s:g} does not divide size_s {self.size_s:g}",
                fix="choose a positive slide_s that divides size_s evenly"
                + _suggest_slides(self.size_s, self.slide_s),
            )

    @property
    def parsed(self) -> list[Aggregation]:
        """The aggregations, parsed, in output order."""
        return [parse_aggregation(name, text) for name, text in self.aggregations.items()]

    @property
    def size_us(self) -> int:
        return to_micros(self.size_s)

    @property
    def slide_us(self) -> int:
        """The slide in microseconds; the size for tumbling windows."""
        return self.size_us if self.slide_s is None else to_micros(self.slide_s)


def _as_config_error(exc: ValidationError) -> ConfigError:
    """The first :class:`ConfigError` a validator raised, or one summarising pydantic's errors."""
    for err in exc.errors():
        original = (err.get("ctx") or {}).get("error")
        if isinstance(original, ConfigError):
            return original
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'spec'}: {err['msg']}" for err in exc.errors()
    )
    return ConfigError(
        f"invalid window spec: {problems}",
        fix="see WindowSpec: kind, size_s, slide_s, time_field, keys, aggregations, "
        "watermark_delay_s, allowed_lateness_s",
    )
