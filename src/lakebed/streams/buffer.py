"""The delivery buffer: what has been read since the last commit, and when to deliver it.

Records are decoded and converted as they arrive, so the buffer holds compact Arrow rows, the
records that failed (with their raw bytes, for the error output), the last position read per
partition and each record's arrival time (for delivery latency). It is *due* when the bytes
read reach the size hint or its oldest record reaches the interval hint, whichever comes first
(Firehose's buffering hints); the size counts the records' bytes as they came from the source.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyarrow as pa

from lakebed.streams.offsets import merge_positions
from lakebed.streams.records import Position, RecordError, StreamRecord


@dataclass(frozen=True, slots=True)
class FailedRecord:
    """A record bound for the error output, with why it failed."""

    record: StreamRecord
    error: RecordError


@dataclass
class Buffer:
    """Rows, failures and positions read since the last delivery."""

    size_bytes: int
    interval_s: float
    tables: list[pa.Table] = field(default_factory=list)
    failed: list[FailedRecord] = field(default_factory=list)
    positions: dict[str, Position] = field(default_factory=dict)
    #: Per record read, when it entered the pipeline (source time if known), ms since epoch.
    times_ms: list[int] = field(default_factory=list)
    records: int = 0
    bytes: int = 0
    rows: int = 0
    opened_at: float | None = None  # monotonic time of the oldest record

    def add(
        self,
        records: list[StreamRecord],
        rows: pa.Table | None,
        failed: list[FailedRecord],
        *,
        polled_ms: int,
        now: float | None = None,
    ) -> None:
        """Take a polled batch: its converted rows, its failures and its positions."""
        if not records:
            return
        if self.opened_at is None:
            self.opened_at = time.monotonic() if now is None else now
        if rows is not None and rows.num_rows:
            self.tables.append(rows)
            self.rows += rows.num_rows
        self.failed.extend(failed)
        merge_positions(self.positions, {r.partition: r.position for r in records})
        self.times_ms.extend(
            polled_ms if r.timestamp_ms is None else min(r.timestamp_ms, polled_ms) for r in records
        )
        self.records += len(records)
        self.bytes += sum(len(r.value) for r in records)

    @property
    def empty(self) -> bool:
        return self.records == 0

    def age(self, now: float | None = None) -> float:
        """Seconds since the oldest buffered record arrived (0 when empty)."""
        if self.opened_at is None:
            return 0.0
        return (time.monotonic() if now is None else now) - self.opened_at

    def due(self, now: float | None = None) -> bool:
        """Whether to deliver now: size or interval reached, whichever first."""
        if self.empty:
            return False
        return self.bytes >= self.size_bytes or self.age(now) >= self.interval_s

    def seconds_until_due(self, now: float | None = None) -> float | None:
        """How long until the interval hint is reached (None when empty)."""
        if self.empty:
            return None
        return max(0.0, self.interval_s - self.age(now))

    def rows_table(self, schema: pa.Schema) -> pa.Table:
        """The buffered rows as one table of ``schema``."""
        if not self.tables:
            return schema.empty_table()
        return pa.concat_tables(self.tables, promote_options="permissive")

    def clear(self) -> None:
        """Forget everything: it has been delivered."""
        self.tables.clear()
        self.failed.clear()
        self.positions = {}
        self.times_ms = []
        self.records = self.bytes = self.rows = 0
        self.opened_at = None
