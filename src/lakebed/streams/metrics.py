"""What a running stream reports about itself, and how another process reads it.

The delivery loop counts records in, out and errored (by kind), bytes in, the lag per
partition, the last commit, and the delivery latency of each record: from when the source
accepted it (or, when the source gives no time, when it was polled) to the commit that made it
visible. Percentiles are over the most recent :data:`LATENCY_SAMPLES` records.

The numbers are written to ``status.json`` in the stream's state folder after every commit and
every few seconds, replaced atomically (write, then rename), so ``lakebed stream status`` in
another process reads a whole file. The counts carry over a restart: they are loaded back when
the stream starts.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from lakebed.streams.records import Position

STATUS_FILE = "status.json"
LATENCY_SAMPLES = 50_000
SAVE_EVERY_S = 2.0


@dataclass
class LastCommit:
    """The stream's newest delivery."""

    at: datetime
    snapshot_id: int | None
    records: int
    errors: int = 0


@dataclass
class StreamStatus:
    """A stream's health and numbers, as ``lakebed stream status`` shows them."""

    name: str
    state: str = "not started"
    """``running``, ``stopped``, ``not started``, ``source unreachable: ...``,
    ``commit failing: ...`` or ``failed: ...``."""
    running: bool = False
    pid: int | None = None
    records_in: int = 0
    records_out: int = 0
    records_errored: int = 0
    errored_by_kind: dict[str, int] = field(default_factory=dict)
    bytes_in: int = 0
    lag: dict[str, int] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    buffered_records: int = 0
    buffered_bytes: int = 0
    last_commit: LastCommit | None = None
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    updated_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values."""
        out = asdict(self)
        out["updated_at"] = self.updated_at.isoformat() if self.updated_at else None
        if self.last_commit is not None:
            out["last_commit"]["at"] = self.last_commit.at.isoformat()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StreamStatus:
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if values.get("updated_at"):
            values["updated_at"] = datetime.fromisoformat(values["updated_at"])
        commit = values.get("last_commit")
        if commit:
            values["last_commit"] = LastCommit(
                **{**commit, "at": datetime.fromisoformat(commit["at"])}
            )
        return cls(**values)


def read_status(folder: Path, name: str) -> StreamStatus:
    """The status a stream last wrote to its state folder (a fresh one when none)."""
    path = folder / STATUS_FILE
    try:
        return StreamStatus.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        return StreamStatus(name=name)
    except (ValueError, TypeError):
        return StreamStatus(name=name, state="status file unreadable")


class StreamMetrics:
    """The live counters of one running stream."""

    def __init__(self, name: str, folder: Path) -> None:
        self.folder = folder
        previous = read_status(folder, name)
        self.status = StreamStatus(
            name=name,
            state="running",
            running=True,
            pid=os.getpid(),
            records_in=previous.records_in,
            records_out=previous.records_out,
            records_errored=previous.records_errored,
            errored_by_kind=dict(previous.errored_by_kind),
            bytes_in=previous.bytes_in,
            last_commit=previous.last_commit,
        )
        self._latencies: deque[np.ndarray] = deque()
        self._samples = 0
        self._saved_at = 0.0

    def polled(self, records: int, size: int) -> None:
        self.status.records_in += records
        self.status.bytes_in += size

    def errored(self, kinds: Iterable[str]) -> None:
        for kind in kinds:
            self.status.records_errored += 1
            self.status.errored_by_kind[kind] = self.status.errored_by_kind.get(kind, 0) + 1

    def set_state(self, state: str) -> None:
        self.status.state = state

    def set_buffer(self, records: int, size: int) -> None:
        self.status.buffered_records = records
        self.status.buffered_bytes = size

    def set_lag(self, lag: Mapping[str, int]) -> None:
        self.status.lag = dict(lag)

    def committed(
        self,
        *,
        snapshot_id: int | None,
        records: int,
        errors: int,
        positions: Mapping[str, Position],
        times_ms: list[int],
    ) -> None:
        """A delivery landed: count it and the latency of each record it carried."""
        now = datetime.now(UTC)
        self.status.records_out += records
        self.status.positions = dict(positions)
        self.status.last_commit = LastCommit(now, snapshot_id, records, errors)
        if times_ms:
            sample = now.timestamp() * 1000 - np.asarray(times_ms, dtype=np.float64)
            self._latencies.append(np.maximum(sample, 0.0))
            self._samples += len(sample)
            while self._samples - len(self._latencies[0]) >= LATENCY_SAMPLES:
                self._samples -= len(self._latencies.popleft())
            recent = np.concatenate(list(self._latencies))[-LATENCY_SAMPLES:]
            p50, p99 = np.percentile(recent, [50, 99])
            self.status.latency_p50_ms = round(float(p50), 1)
            self.status.latency_p99_ms = round(float(p99), 1)
        self.save(force=True)

    def save(self, *, force: bool = False, running: bool = True) -> None:
        """Write ``status.json`` (at most every :data:`SAVE_EVERY_S` unless ``force``)."""
        clock = time.monotonic()
        if not force and clock - self._saved_at < SAVE_EVERY_S:
            return
        self._saved_at = clock
        self.status.running = running
        self.status.updated_at = datetime.now(UTC)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / STATUS_FILE
        temp = path.with_name(f".{STATUS_FILE}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(self.status.to_dict(), default=str))
        os.replace(temp, path)
