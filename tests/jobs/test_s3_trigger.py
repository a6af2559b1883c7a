"""A job whose trigger watches an ``s3://`` prefix on a real S3 server (moto), run by the
scheduler on a fake clock with the real job runner: objects put under the prefix are loaded,
objects put anywhere else (another folder, a sibling prefix that merely starts with the same
letters) neither start a run nor land in the table."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.servers.s3 import S3Endpoint

import lakebed
from lakebed.jobs import JobEvent, Scheduler, parse_job

START = datetime(2026, 11, 23, 10, 7, tzinfo=UTC)

pytestmark = pytest.mark.s3


class FakeClock:
    """Time that moves only when the scheduler sleeps; ``before(target)`` runs first, and the
    scheduler is stopped once time would pass ``until``."""

    def __init__(self, until: datetime, before: Callable[[datetime], None]) -> None:
        self.time = START
        self.until = until
        self.before = before

    def now(self) -> datetime:
        return self.time

    def sleep(self, seconds: float, stop: threading.Event) -> None:
        target = self.time + timedelta(seconds=seconds)
        self.before(target)
        if target > self.until:
            stop.set()
            return
        self.time = target


def test_new_objects_under_an_s3_prefix_trigger_loads(moto_s3: S3Endpoint, tmp_path: Path) -> None:
    bucket = moto_s3.create_bucket("trigger")
    client = moto_s3.client()

    def put(key: str, text: str) -> None:
        client.put_object(Bucket=bucket, Key=key, Body=text.encode())

    lake = lakebed.open(tmp_path / "lake", env={}, s3=moto_s3.s3_config().model_dump())
    lake.init()
    prefix = f"s3://{bucket}/landing"
    job = parse_job(
        {
            "name": "watch",
            "source": prefix,
            "into": "raw.events",
            "incremental": True,
            "trigger": {"new_files": prefix, "poll": "10s"},
        }
    )
    put("landing/a.csv", "id\n1\n2\n")  # there before the job ever ran: loaded by the first poll
    events: list[JobEvent] = []
    scheduler: Scheduler

    def before(target: datetime) -> None:
        scheduler.wait_idle()
        second = int((target - START).total_seconds())
        if second == 10:  # elsewhere in the bucket, including a sibling of the prefix
            put("other/z.csv", "id\n100\n")
            put("landing-old/y.csv", "id\n200\n")
            put("landing.csv", "id\n300\n")
        if second == 30:
            put("landing/more/b.csv", "id\n3\n")

    clock = FakeClock(START + timedelta(seconds=55), before)
    scheduler = Scheduler(lake, [job], clock=clock, on_event=events.append)
    scheduler.run()

    started = [
        (int((e.at - START).total_seconds()), e.detail) for e in events if e.kind == "started"
    ]
    assert started == [(0, "1 new file(s)"), (30, "1 new file(s)")]
    ended = [e for e in events if e.kind in ("succeeded", "failed")]
    assert [e.kind for e in ended] == ["succeeded", "succeeded"], [e.detail for e in ended]
    written = [e.result.report.rows_written for e in ended if e.result and e.result.report]
    assert written == [2, 1]
    assert scheduler.failures == 0
    ids = lake.sql("SELECT id FROM raw.events ORDER BY id").column("id").to_pylist()
    assert ids == [1, 2, 3]
    runs = lake.runs(job="watch")
    assert [r.status for r in runs] == ["succeeded", "succeeded"]
    assert all(r.source.startswith(f"s3://{bucket}/landing") for r in runs)
