"""Nothing lost, nothing doubled: the delivery process SIGKILLed at random points, repeatedly.

A stream process delivers with a short interval, so it is always either buffering or
committing; it is killed at a random moment, many times, while records keep coming. After each
kill the table is at a committed snapshot (no id twice, the error output has no record twice).
At the end one more run catches up, and every produced record is in the table exactly once and
every bad record in the error output exactly once.

Two real sources, each fed by a live producer thread the whole time: the HTTP source's
write-ahead log (every record the producer was told is stored must land) and Kafka
(librdkafka's mock cluster in its own process; every record the broker acknowledged).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.servers.kafka import KafkaCluster
from tests.streams.delivery.conftest import run_until

import lakebed
from lakebed import Lake
from lakebed.catalog import Table
from lakebed.streams.manager import Streams
from lakebed.streams.records import RecordError

ROOT = Path(__file__).parents[3]
RUN = """
import sys, lakebed
from lakebed.streams.manager import Streams
lake = lakebed.open(sys.argv[1], env={})
Streams(lake).run("s1")
"""
ATTEMPTS = 8


def _start(root: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.Popen(
        [sys.executable, "-c", RUN, str(root)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _commit_time(streams: Streams, pid: int) -> datetime | None:
    status = streams.status("s1")
    commit = status.last_commit
    return commit.at if status.pid == pid and commit is not None else None


def _kill_at_random(streams: Streams, rng: random.Random, attempt: int) -> None:
    """Start the stream process; once it has delivered, SIGKILL it at a random moment. It
    delivers every ~50 ms while records flow, so the kill lands mid-buffer or mid-commit;
    every other attempt aims just after a commit, into the next delivery."""
    began = datetime.now(UTC)
    proc = _start(Path(streams.lake.config.root))
    deadline = time.monotonic() + 120
    seen = None
    while proc.poll() is None:
        seen = _commit_time(streams, proc.pid)
        if seen is not None and seen > began:
            break
        assert time.monotonic() < deadline, "the stream process did not deliver"
        time.sleep(0.02)
    if attempt % 2:
        while proc.poll() is None and _commit_time(streams, proc.pid) == seen:
            assert time.monotonic() < deadline, "the stream process stopped delivering"
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.15))
    else:
        time.sleep(rng.uniform(0.0, 0.8))
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert alive, f"the stream process ended by itself: {err.decode()[-2000:]}"


def _check_committed_state(lake: Lake) -> None:
    if lake.catalog.table_exists("db.t"):
        ids = lake.sql("SELECT id FROM db.t").column("id").to_pylist()
        assert len(ids) == len(set(ids)), "a record was delivered twice"
    if lake.catalog.table_exists("db._stream_errors"):
        keys = lake.sql("SELECT partition, position FROM db._stream_errors").to_pylist()
        assert len(keys) == len({(k["partition"], k["position"]) for k in keys}), "error twice"


def _bad(partition: str, n: int) -> bytes:
    return f'{{"id": "not a number {partition}-{n}"}}'.encode()


class Feed:
    """Records produced the whole time, on a thread: 20 good and 1 bad every ~50 ms."""

    def __init__(self, put: Callable[[list[bytes]], list[object]]) -> None:
        self.put = put
        self.stored: list[int] = []
        self.bad: list[bytes] = []
        self.last: object = None
        self.done = threading.Event()
        self.failures: list[BaseException] = []
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        n = 0
        try:
            while not self.done.is_set():
                batch = [json.dumps({"id": n + i, "pad": "x" * 100}).encode() for i in range(20)]
                batch.insert(n % 21, _bad("feed", n))
                results = self.put(batch)
                for value, result in zip(batch, results, strict=True):
                    assert not isinstance(result, RecordError), result
                    row = json.loads(value)
                    if isinstance(row["id"], int):
                        self.stored.append(row["id"])
                    else:
                        self.bad.append(value)
                self.last = results[-1]
                n += 20
                time.sleep(0.05)
        except BaseException as exc:
            self.failures.append(exc)

    def __enter__(self) -> Feed:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(30)
        assert not self.failures, self.failures


def _kill_repeatedly(streams: Streams, rng: random.Random) -> None:
    lake = streams.lake
    for attempt in range(ATTEMPTS):
        _kill_at_random(streams, rng, attempt)
        _check_committed_state(lake)


def _check_exactly_once(lake: Lake, feed: Feed) -> None:
    ids = lake.sql("SELECT id FROM db.t").column("id").to_pylist()
    assert len(ids) == len(feed.stored) and sorted(ids) == sorted(feed.stored)
    errors = lake.sql(
        "SELECT raw, partition, position, errored_at FROM db._stream_errors"
    ).to_pylist()
    raws = [e["raw"] for e in errors]
    missing = sorted(set(feed.bad) - set(raws))[:5]
    doubled = [e for e in errors if raws.count(e["raw"]) > 1][:6]
    assert sorted(raws) == sorted(feed.bad), (len(raws), len(feed.bad), missing, doubled)
    # commits cut short left only orphan data files: after a sweep the data folder holds
    # exactly the files the table refers to, and every row still reads
    table = lake.table("db.t")
    assert isinstance(table, Table)
    data = Path(table.location.removeprefix("file://")) / "data"
    lake.remove_orphan_files("db.t", older_than=timedelta(0))
    assert {f"file://{p}" for p in data.rglob("*.parquet")} == set(table.plan_files().files)
    assert len(lake.sql("SELECT id FROM db.t")) == len(feed.stored)


@pytest.mark.timeout(600)
def test_http_wal_sigkill_at_random_points_then_every_acknowledged_record_once(
    tmp_path: Path,
) -> None:
    rng = random.Random(4)
    lake = lakebed.open(tmp_path / "lake", env={})
    streams = Streams(lake)
    streams.create("s1", source={"type": "http"}, into="db.t", buffer_interval_s=0.05)
    with streams.producer("s1") as producer, Feed(producer.put_batch) as feed:  # type: ignore[arg-type]
        _kill_repeatedly(streams, rng)
    assert len(feed.stored) > 1000
    run_until(streams, "s1", lambda s: s.positions.get("http") == feed.last, timeout=120)
    _check_exactly_once(lake, feed)


@pytest.mark.timeout(600)
def test_kafka_sigkill_at_random_points_then_every_produced_record_once(
    tmp_path: Path, kafka_mock: KafkaCluster
) -> None:
    rng = random.Random(9)
    topic = f"crash-{uuid.uuid4().hex[:8]}"
    kafka_mock.create_topic(topic, partitions=3)
    lake = lakebed.open(tmp_path / "lake", env={})
    streams = Streams(lake)
    source = {
        "type": "kafka",
        "bootstrap_servers": kafka_mock.bootstrap_servers,
        "topics": [topic],
        "options": kafka_mock.source_options,
    }
    streams.create("s1", source=source, into="db.t", buffer_interval_s=0.05)

    def put(batch: list[bytes]) -> list[object]:
        kafka_mock.produce(topic, batch)  # returns once the broker has them all
        return [None] * len(batch)

    with Feed(put) as feed:
        _kill_repeatedly(streams, rng)
    produced = len(feed.stored) + len(feed.bad)
    run_until(
        streams,
        "s1",
        lambda s: sum(int(p) + 1 for p in s.positions.values()) == produced,
        timeout=120,
    )
    _check_exactly_once(lake, feed)
