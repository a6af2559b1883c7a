"""A lake, a file-backed source folder and helpers to define and run streams over them."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.streams.delivery.filelog import FileLogConfig

import lakebed
from lakebed import Lake
from lakebed.streams.manager import Streams
from lakebed.streams.metrics import StreamStatus


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = lakebed.open(tmp_path / "lake", env={})
    yield lake
    if "catalog" in vars(lake):
        lake.catalog.close()


@pytest.fixture
def streams(lake: Lake) -> Streams:
    return Streams(lake)


@pytest.fixture
def logdir(tmp_path: Path) -> Path:
    folder = tmp_path / "log"
    folder.mkdir()
    return folder


@pytest.fixture
def make_stream(streams: Streams, logdir: Path) -> Callable[..., str]:
    """Define a stream over the file log, fast hints by default; returns its name."""

    def make(name: str = "s1", into: str = "db.t", **options: Any) -> str:
        options.setdefault("buffer_interval_s", 0.05)
        source = FileLogConfig(folder=str(logdir), down_flag=options.pop("down_flag", None))
        streams.create(name, source=source, into=into, **options)
        return name

    return make


def records(*rows: dict[str, Any]) -> list[bytes]:
    return [json.dumps(row).encode() for row in rows]


def run_until(
    streams: Streams, name: str, done: Callable[[StreamStatus], bool], *, timeout: float = 30.0
) -> StreamStatus:
    """Run the stream in this thread until ``done`` holds (a watchdog stops it)."""
    stop = threading.Event()
    watchdog = threading.Timer(timeout, stop.set)
    watchdog.start()
    try:
        status = streams.run(name, stop=stop, until=done)
    finally:
        watchdog.cancel()
    assert not stop.is_set(), f"stream {name} did not get there in {timeout} s: {status}"
    return status


@pytest.fixture
def in_thread(streams: Streams) -> Iterator[Callable[[str], threading.Event]]:
    """Run a stream on a thread; returns its stop event (stopped and joined at teardown)."""
    threads: list[tuple[threading.Thread, threading.Event]] = []
    failures: list[BaseException] = []

    def start(name: str) -> threading.Event:
        stop = threading.Event()

        def body() -> None:
            try:
                streams.run(name, stop=stop)
            except BaseException as exc:  # surfaced at teardown
                failures.append(exc)

        thread = threading.Thread(target=body, daemon=True)
        thread.start()
        threads.append((thread, stop))
        return stop

    yield start
    for thread, stop in threads:
        stop.set()
        thread.join(30)
    assert not failures, failures
