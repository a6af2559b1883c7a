"""``WalSource``: a stream source that tails a write-ahead log, and ``HttpSourceConfig``.

The reader may live in another process than the writer. It never reads past the log's
``durable`` mark, so everything it hands out is fsynced; it reads segments in large chunks
(``os.pread``) and waits for new records by polling that 8-byte mark. Positions are sequence
numbers in the one partition ``"http"``. ``acknowledge`` deletes segments wholly delivered, once
they are also older than the dedupe window (the writer rebuilds its record-id index from them
when it reopens, so a client retry after a restart is still caught).
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from lakebed.errors import StorageError
from lakebed.streams.records import Position, StreamRecord
from lakebed.streams.sources.base import StreamSource
from lakebed.streams.wal import format as fmt
from lakebed.streams.wal.log import MIB, WriteAheadLog

PARTITION = "http"
"""The one partition of a write-ahead log."""


class HttpSourceConfig(BaseModel):
    """A stream fed by HTTP puts (and the Python producer) through a write-ahead log kept in
    the stream's state directory, ``state_dir / "wal"``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["http"] = "http"
    dedupe_window_s: int = Field(300, ge=0)
    """Record ids seen within this many seconds are not written again."""
    max_record_bytes: int = Field(1_024_000, ge=1)
    """Larger records are refused (error kind ``oversize``), as Firehose refuses > 1000 KiB."""
    segment_bytes: int = Field(64 * MIB, ge=1024)
    """Size at which the log starts a new segment file."""

    def wal_dir(self, state_dir: Path) -> Path:
        """Where the stream's write-ahead log lives."""
        return Path(state_dir) / "wal"

    def open_log(self, state_dir: Path) -> WriteAheadLog:
        """Open the stream's write-ahead log for writing (one writer process at a time)."""
        return WriteAheadLog(
            self.wal_dir(state_dir),
            segment_bytes=self.segment_bytes,
            max_record_bytes=self.max_record_bytes,
            dedupe_window_s=self.dedupe_window_s,
        )

    def open_source(self, stream: str, state_dir: Path) -> StreamSource:
        """The reader side of the stream's write-ahead log."""
        return WalSource(self.wal_dir(state_dir), dedupe_window_s=self.dedupe_window_s)


class WalSource(StreamSource):
    """Reads a :class:`WriteAheadLog` directory, from this or another process."""

    kind = "http"

    def __init__(
        self,
        directory: Path,
        *,
        dedupe_window_s: float = 300,
        chunk_bytes: int = 4 * MIB,
        max_wait_s: float = 0.02,
    ) -> None:
        self.directory = Path(directory)
        self.dedupe_window_s = dedupe_window_s
        self.chunk_bytes = chunk_bytes
        self.max_wait_s = max_wait_s
        self._next = 1
        self._acked = 0
        self._fd: int | None = None
        self._segment_first = 0
        self._offset = 0
        self._durable_fd: int | None = None
        self._last_cleanup = 0.0

    def open(self, resume_after: Mapping[str, Position]) -> None:
        """Read from just after ``resume_after["http"]`` (from the oldest record otherwise)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        after = resume_after.get(PARTITION)
        self._close_segment()
        self._next = int(after) + 1 if after is not None else 1
        self._acked = int(after) if after is not None else 0

    def poll(self, max_records: int, timeout: float) -> list[StreamRecord]:
        """Up to ``max_records`` durable records, waiting up to ``timeout`` s for the first."""
        deadline = time.monotonic() + timeout
        wait = 0.002
        while True:
            records = self._fill(max_records)
            now = time.monotonic()
            if records or now >= deadline:
                if now - self._last_cleanup > 30:
                    self._cleanup()
                return records
            time.sleep(min(wait, deadline - now))
            wait = min(wait * 2, self.max_wait_s)

    def acknowledge(self, positions: Mapping[str, Position]) -> None:
        """Records up to ``positions["http"]`` are in the lake: their segments may go."""
        done = positions.get(PARTITION)
        if done is not None:
            self._acked = max(self._acked, int(done))
            self._cleanup()

    def lag(self) -> dict[str, int]:
        """Durable records not yet read."""
        return {PARTITION: max(0, self._durable() - (self._next - 1))}

    def close(self) -> None:
        """Close the open segment and the durable mark; safe to call twice."""
        self._close_segment()
        if self._durable_fd is not None:
            os.close(self._durable_fd)
            self._durable_fd = None

    # -- reading ---------------------------------------------------------------------------

    def _fill(self, max_records: int) -> list[StreamRecord]:
        durable = self._durable()
        out: list[StreamRecord] = []
        want = self.chunk_bytes
        while len(out) < max_records and self._next <= durable:
            if self._fd is None and not self._switch_segment():
                break
            assert self._fd is not None
            asked, want = want, self.chunk_bytes
            data = os.pread(self._fd, asked, self._offset)
            frames, pos, stop = fmt.read_frames(data, 0, max_records - len(out), durable)
            for seq, ts, rid, payload, _size in frames:
                if seq >= self._next:
                    out.append(StreamRecord(payload, PARTITION, seq, None, ts, rid))
            if frames:
                self._next = max(self._next, frames[-1].seq + 1)
            self._offset += pos
            if stop == "corrupt" and self._next <= durable:
                raise self._corrupt()  # a durable frame must be whole
            if stop:
                break
            if pos == 0:
                need = fmt.needed(data, 0)
                size = os.fstat(self._fd).st_size
                if len(data) == asked and asked < need <= size - self._offset:
                    want = need  # one frame larger than a chunk
                    continue
                if not self._switch_segment():
                    break  # the writer is ahead of what this process sees yet
        return out

    def _switch_segment(self) -> bool:
        """Open the segment holding the next record; False when it is the one already open."""
        segments = fmt.list_segments(self.directory)
        if not segments:
            return False
        holding = [s for s in segments if s[0] <= self._next]
        first, path = holding[-1] if holding else segments[0]
        if self._fd is not None and first == self._segment_first:
            return False
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        self._close_segment()
        self._fd, self._segment_first, self._offset = fd, first, 0
        if not holding:
            self._next = max(self._next, first)
        return True

    def _corrupt(self) -> StorageError:
        return StorageError(
            f"the write-ahead log segment {self.directory / fmt.segment_name(self._segment_first)}"
            f" is corrupt at byte {self._offset} (record {self._next} fails its checksum)",
            fix="restore the disk; to skip the damaged records, restart the stream after moving "
            "that segment away",
        )

    def _durable(self) -> int:
        if self._durable_fd is None:
            try:
                self._durable_fd = os.open(self.directory / fmt.DURABLE_FILE, os.O_RDONLY)
            except FileNotFoundError:
                return 0
        mark = os.pread(self._durable_fd, 8, 0)
        return int.from_bytes(mark, "little") if len(mark) == 8 else 0

    def _close_segment(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _cleanup(self) -> None:
        """Delete segments wholly acknowledged and older than the dedupe window; never the
        newest one, which the writer appends to."""
        self._last_cleanup = time.monotonic()
        if self._acked <= 0:
            return
        horizon = time.time() - self.dedupe_window_s
        segments = fmt.list_segments(self.directory)
        for (_first, path), (next_first, _next_path) in itertools.pairwise(segments):
            if next_first - 1 > self._acked:
                break
            try:
                if path.stat().st_mtime <= horizon:
                    path.unlink()
            except FileNotFoundError:
                continue
