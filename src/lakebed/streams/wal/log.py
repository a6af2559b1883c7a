"""``WriteAheadLog``: the durable buffer behind a stream's HTTP put endpoint.

``append`` writes a batch of records as frames (see :mod:`lakebed.streams.wal.format`), fsyncs,
and only then returns their sequence numbers: a record whose sequence number a client has seen
survives a process or machine crash. Concurrent appends from threads share one fsync (group
commit). A record id seen within the dedupe window gets the sequence number it got the first
time instead of being written again, so client retries land once.

One process writes a log at a time (an ``flock`` on ``writer.lock``); readers in other processes
tail the segments (:class:`lakebed.streams.wal.source.WalSource`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
from pathlib import Path
from typing import NoReturn

from lakebed.errors import ConfigError, StorageError
from lakebed.streams.records import RecordError
from lakebed.streams.wal import format as fmt

MIB = 1 << 20
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class DiskFullError(StorageError):
    """The disk under a write-ahead log is full (or a file-size limit was hit); nothing of the
    failed batch was kept. Transient: free space and send again (the HTTP API answers 507)."""


class WriteAheadLog:
    """An append-only, segmented, fsynced log of records in ``directory``."""

    def __init__(
        self,
        directory: Path,
        *,
        segment_bytes: int = 64 * MIB,
        max_record_bytes: int = 1_024_000,
        dedupe_window_s: float = 300,
    ) -> None:
        if segment_bytes < 1024:
            raise ConfigError(
                f"segment_bytes {segment_bytes} is too small", fix="use at least 1024 bytes"
            )
        if max_record_bytes < 1:
            raise ConfigError(
                f"max_record_bytes {max_record_bytes} must be positive", fix="use at least 1"
            )
        self.directory = Path(directory)
        self.segment_bytes = segment_bytes
        self.max_record_bytes = max_record_bytes
        self.dedupe_window_s = dedupe_window_s
        self._write_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._ids: dict[str, tuple[int, int]] = {}  # record id -> (seq, timestamp ms)
        self._retired: list[int] = []  # fds of rotated segments, closed by the syncer
        self._failed: str | None = None
        self._closed = False
        self.directory.mkdir(parents=True, exist_ok=True)
        self._inode = self.directory.stat().st_ino
        self._lock_fd = self._take_lock()
        try:
            self._recover()
        except OSError as exc:
            self._release_after_failed_open()
            if exc.errno in _DISK_FULL:
                raise DiskFullError(
                    f"the disk holding the write-ahead log {self.directory} is full "
                    f"({os.strerror(exc.errno or 0)}); it cannot be opened",
                    fix="free disk space there (or move the lake's state directory to a "
                    "bigger disk)",
                    transient=True,
                ) from exc
            raise
        except BaseException:
            self._release_after_failed_open()
            raise

    def _release_after_failed_open(self) -> None:
        for name in ("_fd", "_durable_fd", "_lock_fd"):
            fd = getattr(self, name, None)
            if fd is not None:
                os.close(fd)

    # -- opening ---------------------------------------------------------------------------

    def _take_lock(self) -> int:
        path = self.directory / fmt.LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StorageError(
                f"the write-ahead log {self.directory} is already open for writing by process "
                f"{holder}",
                fix="write through that process (e.g. the lakebed server's HTTP endpoint) or "
                "stop it first; one process writes a log at a time",
            ) from None
        # The pid is for a second writer's error message; fixed width, so no truncation. On a
        # full disk it may not get written: the lock holds all the same.
        with contextlib.suppress(OSError):
            os.pwrite(fd, str(os.getpid()).ljust(20).encode(), 0)
        return fd

    def _recover(self) -> None:
        """Find the end of the log (truncating a torn last frame), rebuild the dedupe index,
        make everything on disk durable and publish it to readers."""
        segments = fmt.list_segments(self.directory)
        horizon = self._now_ms() - int(self.dedupe_window_s * 1000)
        if not segments:
            segments = [(1, self._create_segment(1))]
        for _first, path in segments[:-1]:
            try:
                if path.stat().st_mtime * 1000 < horizon:
                    continue  # nothing in it is recent enough to dedupe against
            except FileNotFoundError:
                continue  # a reader discarded it just now
            for _offset, frame in fmt.scan(path):
                if frame is not None:
                    self._remember(frame.record_id, frame.seq, frame.timestamp_ms, horizon)
        first, path = segments[-1]
        end, next_seq = 0, first
        for offset, frame in fmt.scan(path):
            if frame is None:
                end = offset
                break
            self._remember(frame.record_id, frame.seq, frame.timestamp_ms, horizon)
            next_seq = frame.seq + 1
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if os.fstat(self._fd).st_size > end:
            os.ftruncate(self._fd, end)  # a frame torn by a crash mid-write
        os.fsync(self._fd)
        self._size = end
        self._segment_first = first
        self._next_seq = next_seq
        self._synced_seq = next_seq - 1
        self._durable_fd = os.open(self.directory / fmt.DURABLE_FILE, os.O_RDWR | os.O_CREAT)
        self._publish(self._synced_seq)

    def _remember(self, record_id: str | None, seq: int, ts: int, horizon: int) -> None:
        if record_id is not None and ts >= horizon and record_id not in self._ids:
            self._ids[record_id] = (seq, ts)

    def _create_segment(self, first_seq: int) -> Path:
        path = self.directory / fmt.segment_name(first_seq)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
        self._fsync_directory()
        return path

    def _fsync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- appending -------------------------------------------------------------------------

    def is_current(self) -> bool:
        """False when the log's directory was removed (or replaced) under it, e.g. because
        its stream was dropped: appends would go to deleted files, so reopen it."""
        try:
            return self.directory.stat().st_ino == self._inode
        except FileNotFoundError:
            return False

    @property
    def last_sequence(self) -> int:
        """The sequence number of the newest durable record (0 when the log is empty)."""
        return self._synced_seq

    def append(
        self, values: list[bytes], record_ids: list[str | None] | None = None
    ) -> list[int | RecordError]:
        """Write ``values`` and make them durable; for each one, its sequence number or the
        :class:`RecordError` that kept it out (``oversize``).

        ``record_ids[i]``, when given, deduplicates: an id already appended within the dedupe
        window returns the earlier sequence number and writes nothing. Raises
        :class:`~lakebed.errors.StorageError` when the disk is full (nothing of the batch is
        kept) or the log cannot be written.
        """
        if record_ids is not None and len(record_ids) != len(values):
            raise ConfigError(
                f"append got {len(values)} values but {len(record_ids)} record ids",
                fix="pass one record id (or None) per value",
            )
        with self._write_lock:
            results, upto = self._write(values, record_ids)
        if upto > self._synced_seq:
            self._sync(upto)
        return results

    def _write(
        self, values: list[bytes], record_ids: list[str | None] | None
    ) -> tuple[list[int | RecordError], int]:
        self._check_usable()
        now = self._now_ms()
        self._expire(now)
        results: list[int | RecordError] = []
        frames: list[bytes] = []
        fresh: dict[str, int] = {}
        seq = self._next_seq
        upto = 0  # the highest sequence number the caller must wait to be durable
        for i, value in enumerate(values):
            rid = record_ids[i] if record_ids is not None else None
            rid = rid or None
            error = self._invalid(value, rid)
            if error is not None:
                results.append(error)
                continue
            if rid is not None:
                seen = fresh.get(rid) or (self._ids[rid][0] if rid in self._ids else None)
                if seen is not None:
                    results.append(seen)
                    upto = max(upto, seen)
                    continue
                fresh[rid] = seq
            frames.append(fmt.encode(seq, now, rid, bytes(value)))
            results.append(seq)
            upto = seq
            seq += 1
        if frames:
            data = b"".join(frames)
            if self._size and self._size + len(data) > self.segment_bytes:
                self._rotate()
            self._write_all(data)
            self._next_seq = seq
            for rid, rseq in fresh.items():
                self._ids[rid] = (rseq, now)
        return results, upto

    def _invalid(self, value: bytes, record_id: str | None) -> RecordError | None:
        if len(value) > self.max_record_bytes:
            return RecordError(
                "oversize",
                f"record of {len(value)} bytes is larger than the stream's max_record_bytes "
                f"({self.max_record_bytes}); split it or raise max_record_bytes",
            )
        if record_id is not None and len(record_id.encode()) > fmt.MAX_RECORD_ID_BYTES:
            return RecordError(
                "oversize",
                f"record id of {len(record_id.encode())} bytes is longer than "
                f"{fmt.MAX_RECORD_ID_BYTES}; use a shorter id (a UUID or a hash)",
            )
        return None

    def _write_all(self, data: bytes) -> None:
        start = self._size
        view = memoryview(data)
        written = 0
        try:
            while written < len(data):
                written += os.pwrite(self._fd, view[written:], start + written)
        except OSError as exc:
            self._undo(start, exc)
        self._size = start + len(data)

    def _undo(self, start: int, exc: OSError) -> NoReturn:
        """Cut a failed batch off the segment so the log ends on a whole frame; raise."""
        try:
            os.ftruncate(self._fd, start)
        except OSError as again:
            self._failed = f"it could not be repaired after a failed write ({again})"
            raise StorageError(
                f"writing to the write-ahead log {self.directory} failed ({exc}) and the log "
                f"could not be repaired ({again})",
                fix="free disk space and restart the process that writes the log; it repairs "
                "the log when it opens it",
            ) from exc
        if exc.errno in _DISK_FULL:
            raise DiskFullError(
                f"the disk holding the write-ahead log {self.directory} is full "
                f"({os.strerror(exc.errno or 0)}); the batch was not stored",
                fix="free disk space there (or move the lake's state directory to a bigger "
                "disk), then send the records again",
                transient=True,
            ) from exc
        raise StorageError(
            f"writing to the write-ahead log {self.directory} failed: {exc}; the batch was "
            "not stored",
            fix="check the disk and the directory's permissions, then send the records again",
        ) from exc

    def _rotate(self) -> None:
        """Start a new segment; the old one is fsynced first so a reader that sees the new
        segment knows the old one is complete."""
        try:
            os.fsync(self._fd)
        except OSError as exc:
            self._failed = f"fsync failed ({exc}), so records may be lost"
            raise StorageError(
                f"the write-ahead log {self.directory} could not be flushed to disk: {exc}",
                fix="check the disk, then restart the process that writes the log",
            ) from exc
        try:
            path = self._create_segment(self._next_seq)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            self._undo(self._size, exc)  # raises; the old segment stays the active one
        self._retired.append(self._fd)
        self._fd, self._size, self._segment_first = fd, 0, self._next_seq

    def _sync(self, upto: int) -> None:
        """Make everything up to ``upto`` durable: one fsync covers every thread waiting."""
        with self._sync_lock:
            if self._synced_seq >= upto:
                return
            with self._write_lock:
                self._check_usable()
                fd, target = self._fd, self._next_seq - 1
                retired, self._retired = self._retired, []
            try:
                os.fsync(fd)
            except OSError as exc:
                self._failed = f"fsync failed ({exc}), so records may be lost"
                raise StorageError(
                    f"the write-ahead log {self.directory} could not be flushed to disk: {exc}",
                    fix="check the disk, then restart the process that writes the log",
                ) from exc
            for old in retired:
                os.close(old)
            self._synced_seq = target
            self._publish(target)

    def _publish(self, seq: int) -> None:
        os.pwrite(self._durable_fd, seq.to_bytes(8, "little"), 0)

    def _expire(self, now: int) -> None:
        horizon = now - int(self.dedupe_window_s * 1000)
        ids = self._ids
        while ids:
            oldest = next(iter(ids))
            if ids[oldest][1] >= horizon:
                break
            del ids[oldest]

    def _check_usable(self) -> None:
        if self._closed:
            raise StorageError(
                f"the write-ahead log {self.directory} is closed",
                fix="open a new WriteAheadLog",
            )
        if self._failed:
            raise StorageError(
                f"the write-ahead log {self.directory} is unusable: {self._failed}",
                fix="restart the process that writes the log; it repairs the log on open",
            )

    @staticmethod
    def _now_ms() -> int:
        return time.time_ns() // 1_000_000

    def close(self) -> None:
        """Release the files and the writer lock; safe to call twice."""
        with self._sync_lock, self._write_lock:
            if self._closed:
                return
            self._closed = True
            for fd in [*self._retired, self._fd, self._durable_fd]:
                os.close(fd)
            self._retired = []
            os.close(self._lock_fd)

    def __enter__(self) -> WriteAheadLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WriteAheadLog({str(self.directory)!r}, last_sequence={self._synced_seq})"
