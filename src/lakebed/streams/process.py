"""One process per stream: an exclusive lock on the stream's state folder, and its pid.

A stream running twice would deliver its records twice, so the delivery loop holds an
exclusive ``flock`` on ``<state dir>/lock`` while it runs and writes its pid next to it. The
kernel drops the lock when the process ends, however it ends (SIGKILL included), so a stale pid
file never makes a dead stream look alive: :func:`lock_holder` asks the lock, not the file.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lakebed.errors import ConfigError

LOCK_FILE = "lock"
PID_FILE = "pid"


def _pid(folder: Path) -> int | None:
    try:
        return int((folder / PID_FILE).read_text().strip() or 0) or None
    except (FileNotFoundError, ValueError):
        return None


@contextmanager
def stream_lock(folder: Path, name: str) -> Iterator[None]:
    """Hold the stream's lock for the block; ConfigError when another process runs it."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _pid(folder)
            raise ConfigError(
                f"stream {name!r} is already running" + (f" (pid {holder})" if holder else ""),
                fix=f"stop it first: lakebed stream stop {name}",
            ) from None
        (folder / PID_FILE).write_text(str(os.getpid()))
        try:
            yield
        finally:
            (folder / PID_FILE).unlink(missing_ok=True)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def lock_holder(folder: Path) -> int | None:
    """The pid of the process running the stream (0 if it is running but its pid is not
    known yet), or None when none is."""
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _pid(folder) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
