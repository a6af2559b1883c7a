"""Tumbling and sliding window aggregation over event time, with a watermark ("emit final").

Semantics, as in Flink / Kinesis Data Analytics with the final-result trigger:

- Each row's event time is its ``time_field``: a datetime (naive = UTC), an ISO 8601 string or
  epoch milliseconds. A row without one, or with one that cannot be read, is a ``conversion``
  error.
- Windows are half-open, ``[start, end)``, aligned to the epoch: tumbling windows start at
  multiples of ``size_s``; sliding windows at multiples of ``slide_s`` and a row belongs to every
  one of the ``size_s / slide_s`` windows covering it. Within a window rows are grouped by the
  values of ``keys`` (a missing key is ``None``, a group of its own).
- The **watermark** is the largest event time seen so far minus ``watermark_delay_s``; it never
  goes back.
- A window is **closed** once ``watermark >= end + allowed_lateness_s``. :meth:`emit` returns each
  closed window's groups **once**, with their final values, and forgets them; nothing is emitted
  for a window before it closes and a closed window is never emitted again (no early or updated
  results).
- A row is **late** when every window it belongs to is closed: it becomes a ``late``
  :class:`RecordError` (for the stream's error output) and changes nothing. In a sliding window a
  row that still has open windows is added to those only.
- Whether a row is late depends only on the rows before it, not on when :meth:`emit` is called,
  so the result is the same whatever the batching, and the same after :meth:`state` /
  :meth:`restore`.
- :meth:`flush_all` emits every open window at once (a stream being drained or stopped for
  good); afterwards a row whose windows all end at or before the last flushed window's end is
  late.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError, SchemaError
from lakebed.streams.records import RecordError
from lakebed.streams.windows.aggregates import Op, make_op, value_kind
from lakebed.streams.windows.codec import (
    EventTimeError,
    decode,
    encode,
    event_micros,
    format_seconds,
    format_time,
    to_datetime,
)
from lakebed.streams.windows.spec import WindowSpec

STATE_VERSION = 1

Groups = dict[tuple[Any, ...], list[Any]]


class WindowAggregator:
    """Runs one :class:`WindowSpec` over batches of decoded rows (see the module docstring)."""

    def __init__(self, spec: WindowSpec | Mapping[str, Any]) -> None:
        self.spec = WindowSpec.build(dict(spec) if isinstance(spec, Mapping) else spec)
        self._ops: list[Op] = [make_op(agg) for agg in self.spec.parsed]
        self._checked = [
            (j, op) for j, op in enumerate(self._ops) if op.agg.function in ("min", "max")
        ]
        self._size = self.spec.size_us
        self._slide = self.spec.slide_us
        self._delay = round(self.spec.watermark_delay_s * 1_000_000)
        self._lateness = round(self.spec.allowed_lateness_s * 1_000_000)
        self._windows: dict[int, Groups] = {}
        """Open windows by start (µs), each mapping a key tuple to its accumulators."""
        self._max_time: int | None = None
        self._flushed_end: int | None = None

    @property
    def watermark_us(self) -> int | None:
        """The watermark in µs since the epoch; ``None`` before the first row."""
        return None if self._max_time is None else self._max_time - self._delay

    def add(self, rows: list[dict[str, Any]]) -> list[tuple[int, RecordError]]:
        """Add rows to their windows; returns ``(index, error)`` for each row not added (late,
        or without a usable time or value). The others are in, whatever the errors."""
        errors: list[tuple[int, RecordError]] = []
        ops, checked, windows = self._ops, self._checked, self._windows
        time_field, key_fields = self.spec.time_field, self.spec.keys
        size, slide = self._size, self._slide
        for index, row in enumerate(rows):
            try:
                if not isinstance(row, Mapping):
                    raise RecordError("conversion", f"row is a {type(row).__name__}, not a record")
                t = self._event_time(row.get(time_field))
                key = tuple(_key_value(row, name) for name in key_fields)
                values = [op.extract(row) for op in ops]
            except RecordError as err:
                errors.append((index, err))
                continue
            last_start = t - t % slide
            starts = (
                range(last_start, last_start - size, -slide) if slide != size else (last_start,)
            )
            targets = [s for s in starts if not self._closed(s)]
            if not targets:
                errors.append((index, self._late(t, last_start)))
                continue
            if checked:
                problem = self._incompatible(targets, key, values)
                if problem:
                    errors.append((index, RecordError("conversion", problem)))
                    continue
            for start in targets:
                groups = windows.get(start)
                if groups is None:
                    groups = windows[start] = {}
                accs = groups.get(key)
                if accs is None:
                    accs = groups[key] = [op.init() for op in ops]
                for j, op in enumerate(ops):
                    accs[j] = op.update(accs[j], values[j], t)
            if self._max_time is None or t > self._max_time:
                self._max_time = t
        return errors

    def emit(self) -> list[dict[str, Any]]:
        """One row per group of every window the watermark has closed, in window order; each
        window is emitted once and then forgotten."""
        closed = sorted(s for s in self._windows if self._closed(s))
        return self._pop(closed)

    def flush_all(self) -> list[dict[str, Any]]:
        """Emit every open window now, closed or not (a stream draining or stopping for good)."""
        starts = sorted(self._windows)
        if starts:
            end = starts[-1] + self._size
            self._flushed_end = max(end, self._flushed_end or end)
        return self._pop(starts)

    @property
    def open_windows(self) -> int:
        """How many windows hold rows not yet emitted."""
        return len(self._windows)

    def output_schema(self, input_schema: pa.Schema) -> pa.Schema:
        """The schema of emitted rows: window_start, window_end (UTC µs), the keys with their
        input types, then the aggregates (counts int64, avg float64, sum of ints int64, ...)."""
        fields = [
            pa.field("window_start", pa.timestamp("us", tz="UTC"), nullable=False),
            pa.field("window_end", pa.timestamp("us", tz="UTC"), nullable=False),
        ]
        for name in self.spec.keys:
            fields.append(pa.field(name, self._input_type(input_schema, name, "key")))
        for op in self._ops:
            source = None
            if op.field is not None and op.agg.function not in ("count", "count_distinct"):
                source = self._input_type(input_schema, op.field, f"aggregation {op.name!r}")
            nullable = op.agg.function not in ("count", "count_distinct")
            fields.append(pa.field(op.name, op.output_type(source), nullable=nullable))
        return pa.schema(fields)

    def state(self) -> bytes:
        """Open windows, the watermark and the flush mark as compact JSON (UTF-8 bytes), to be
        committed with the source positions of the rows they hold."""
        windows = [
            [
                start,
                [[[encode(k) for k in key], self._encode_accs(accs)] for key, accs in g.items()],
            ]
            for start, g in self._windows.items()
        ]
        document = {
            "v": STATE_VERSION,
            "spec": self._fingerprint(),
            "max": self._max_time,
            "flushed": self._flushed_end,
            "windows": windows,
        }
        return json.dumps(document, separators=(",", ":")).encode()

    def restore(self, state: bytes | str) -> None:
        """Replace this aggregator's windows and watermark with those saved by :meth:`state`."""
        try:
            document = json.loads(state)
            version, spec = document["v"], document["spec"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"window state is not one saved by WindowAggregator.state(): {exc}",
                fix="pass the bytes state() returned, or start the aggregation afresh",
            ) from None
        if version != STATE_VERSION or spec != self._fingerprint():
            raise ConfigError(
                f"window state was saved by a different window spec ({spec}) than this one "
                f"({self._fingerprint()})",
                fix="restore it into an aggregator with the same spec, or start afresh",
            )
        self._max_time, self._flushed_end = document["max"], document["flushed"]
        self._windows = {
            start: {tuple(decode(k) for k in key): self._decode_accs(accs) for key, accs in groups}
            for start, groups in document["windows"]
        }

    # -- internals -------------------------------------------------------------------------

    def _event_time(self, value: Any) -> int:
        field = self.spec.time_field
        if value is None:
            raise RecordError("conversion", f"the event-time field {field!r} is missing")
        try:
            return event_micros(value)
        except (EventTimeError, OverflowError, ValueError) as exc:
            raise RecordError("conversion", f"event-time field {field!r}: {exc}") from None

    def _closed(self, start: int) -> bool:
        end = start + self._size
        if self._flushed_end is not None and end <= self._flushed_end:
            return True
        return self._max_time is not None and self._max_time - self._delay >= end + self._lateness

    def _late(self, t: int, last_start: int) -> RecordError:
        watermark = self.watermark_us
        end = last_start + self._size
        if watermark is None or watermark < end + self._lateness:  # closed by flush_all
            return RecordError(
                "late",
                f"event time {format_time(t)} falls in windows already flushed (up to "
                f"{format_time(self._flushed_end or end)})",
            )
        return RecordError(
            "late",
            f"event time {format_time(t)} is {format_seconds(watermark - t)} s behind the "
            f"watermark {format_time(watermark)}; allowed lateness is "
            f"{format_seconds(self._lateness)} s",
        )

    def _incompatible(self, targets: list[int], key: tuple[Any, ...], values: list[Any]) -> str:
        for start in targets:
            accs = self._windows.get(start, {}).get(key)
            if accs is None:
                continue
            for j, op in self._checked:
                problem = op.compatible(accs[j], values[j])
                if problem:
                    return problem
        return ""

    def _pop(self, starts: list[int]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        keys, ops = self.spec.keys, self._ops
        for start in starts:
            groups = self._windows.pop(start)
            window_start, window_end = to_datetime(start), to_datetime(start + self._size)
            for key, accs in groups.items():
                row: dict[str, Any] = {"window_start": window_start, "window_end": window_end}
                row.update(zip(keys, key, strict=True))
                for op, acc in zip(ops, accs, strict=True):
                    row[op.name] = op.result(acc)
                rows.append(row)
        return rows

    def _fingerprint(self) -> str:
        spec = self.spec
        return (
            f"{spec.kind}:{self._size}:{self._slide}:{spec.time_field}:{','.join(spec.keys)}:"
            + ",".join(f"{op.name}={op.text}" for op in self._ops)
        )

    def _encode_accs(self, accs: list[Any]) -> list[Any]:
        return [encode(acc) for acc in accs]

    def _decode_accs(self, accs: list[Any]) -> list[Any]:
        return [decode(acc) for acc in accs]

    @staticmethod
    def _input_type(schema: pa.Schema, name: str, role: str) -> pa.DataType:
        index = schema.get_field_index(name)
        if index < 0:
            raise SchemaError(
                f"window {role} field {name!r} is not in the input schema "
                f"({', '.join(schema.names) or 'no fields'})",
                fix="use a field the stream's records have, or add it to the schema",
            )
        return schema.field(index).type


def _key_value(row: Mapping[str, Any], name: str) -> Any:
    value = row.get(name)
    if value is not None and value_kind(value) is None:
        raise RecordError(
            "conversion",
            f"key field {name!r} holds a {type(value).__name__}; window keys must be scalars",
        )
    return value
