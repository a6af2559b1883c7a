"""The scheduler on a fake clock: the right times, no overlaps, failures survived, triggers."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lakebed.errors import ConfigError
from lakebed.ingest.report import IngestReport
from lakebed.jobs import Job, JobResult, NewFileWatcher, Scheduler, parse_job
from lakebed.lake import Lake, open_lake

START = datetime(2026, 11, 23, 10, 7, tzinfo=UTC)


class FakeClock:
    """Time that moves only when the scheduler sleeps; ``before`` runs first, with the target
    time, and the clock stops the scheduler once it would pass ``until``."""

    def __init__(
        self, start: datetime, until: datetime, before: Callable[[datetime], None] | None = None
    ) -> None:
        self.time = start
        self.until = until
        self.before = before
        self.sleeps = 0

    def now(self) -> datetime:
        return self.time

    def sleep(self, seconds: float, stop: threading.Event) -> None:
        self.sleeps += 1
        target = self.time + timedelta(seconds=seconds)
        if self.before is not None:
            self.before(target)
        if target > self.until:
            stop.set()
            return
        self.time = target


def job(name: str, **fields: Any) -> Job:
    return parse_job({"name": name, "source": "data/in", "into": "shop.orders", **fields})


def ok_result(j: Job) -> JobResult:
    now = datetime.now(UTC)
    report = IngestReport(
        run_id="r", target=j.into, source=j.source, mode="append", started_at=now,
        finished_at=now, status="succeeded", rows_read=1, rows_written=1,
    )  # fmt: skip
    return JobResult(job=j.name, target=j.into, report=report)


class Recorder:
    """A runner that notes (job, time) for each run, per the scheduler's clock."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.runs: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, _lake: Lake, j: Job) -> JobResult:
        with self.lock:
            self.runs.append((j.name, self.clock.now().strftime("%H:%M")))
        return ok_result(j)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = open_lake(tmp_path / "lake")
    lake.init()
    return lake


def test_runs_each_job_at_its_cron_times(lake: Lake) -> None:
    clock = FakeClock(START, START.replace(hour=11, minute=31))
    recorder = Recorder(clock)
    jobs = [job("quarter", schedule="*/15 * * * *"), job("hourly", schedule="@hourly")]
    scheduler = Scheduler(lake, jobs, clock=clock, runner=recorder, tz=UTC)
    clock.before = lambda _t: scheduler.wait_idle()
    scheduler.run()
    assert sorted(recorder.runs, key=lambda r: (r[1], r[0])) == [
        ("quarter", "10:15"),
        ("quarter", "10:30"),
        ("quarter", "10:45"),
        ("hourly", "11:00"),
        ("quarter", "11:00"),
        ("quarter", "11:15"),
        ("quarter", "11:30"),
    ]
    assert scheduler.failures == 0
    assert [e.kind for e in scheduler.history].count("succeeded") == 7
    assert clock.sleeps < 20  # it sleeps until the next time, it does not spin


def test_cron_times_follow_the_given_time_zone(lake: Lake) -> None:
    from zoneinfo import ZoneInfo

    tokyo = ZoneInfo("Asia/Tokyo")  # UTC+9: 02:00 in Tokyo is 17:00 UTC the day before
    start = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    clock = FakeClock(start, start + timedelta(hours=2))
    recorder = Recorder(clock)
    scheduler = Scheduler(
        lake, [job("nightly", schedule="0 2 * * *")], clock=clock, runner=recorder, tz=tokyo
    )
    clock.before = lambda _t: scheduler.wait_idle()
    scheduler.run()
    assert recorder.runs == [("nightly", "17:00")]


def test_a_run_still_going_is_not_started_again(lake: Lake) -> None:
    release, started = threading.Event(), threading.Event()
    clock = FakeClock(START, START.replace(minute=35))
    calls: list[str] = []

    def slow(_lake: Lake, j: Job) -> JobResult:
        calls.append(clock.now().strftime("%H:%M"))
        started.set()
        if len(calls) == 1:
            assert release.wait(10)
        return ok_result(j)

    scheduler = Scheduler(lake, [job("slow", schedule="*/10 * * * *")], clock=clock, runner=slow)

    def before(target: datetime) -> None:
        if target > START.replace(minute=10):
            assert started.wait(10)  # the first run has begun before time moves on
        if target >= START.replace(minute=30):
            release.set()
            scheduler.wait_idle()

    clock.before = before
    scheduler.run()
    assert calls == ["10:10", "10:30"]
    skipped = [e for e in scheduler.history if e.kind == "skipped"]
    assert [(e.job, e.at.strftime("%H:%M")) for e in skipped] == [("slow", "10:20")]
    assert "still running" in skipped[0].detail


def test_failures_are_logged_and_the_schedule_goes_on(
    lake: Lake, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(START, START.replace(minute=35))
    calls: list[int] = []

    def flaky(_lake: Lake, j: Job) -> JobResult:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        if len(calls) == 2:
            return JobResult(job=j.name, target=j.into, report=None, error="no such table")
        return ok_result(j)

    scheduler = Scheduler(lake, [job("flaky", schedule="*/10 * * * *")], clock=clock, runner=flaky)
    clock.before = lambda _t: scheduler.wait_idle()
    with caplog.at_level("INFO", logger="lakebed.jobs"):
        scheduler.run()
    ends = [(e.kind, e.detail) for e in scheduler.history if e.kind != "started"]
    assert ends == [
        ("failed", "database went away"),
        ("failed", "no such table"),
        ("succeeded", "schedule"),
    ]
    assert scheduler.failures == 2
    assert "database went away" in caplog.text


def test_new_files_in_a_local_folder_trigger_runs(lake: Lake, tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "a.csv").write_text("id\n1\n")
    clock = FakeClock(START, START + timedelta(minutes=3))
    recorder = Recorder(clock)
    j = job("watch", trigger={"new_files": str(incoming), "poll": "30s"})
    scheduler = Scheduler(lake, [j], clock=clock, runner=recorder)

    def before(target: datetime) -> None:
        scheduler.wait_idle()
        if target == START + timedelta(seconds=60):
            (incoming / "b.csv").write_text("id\n2\n")
        if target == START + timedelta(seconds=120):
            (incoming / "a.csv").write_text("id\n1\n3\n")  # rewritten: a new size

    clock.before = before
    scheduler.run()
    # first poll: the job never ran, so the file already there is new; then each arrival
    assert recorder.runs == [("watch", "10:07"), ("watch", "10:08"), ("watch", "10:09")]
    assert [e.detail for e in scheduler.history if e.kind == "started"] == [
        "1 new file(s)",
        "1 new file(s)",
        "1 new file(s)",
    ]


def test_files_arriving_during_a_run_fire_once_it_ends(lake: Lake, tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "a.csv").write_text("id\n1\n")
    release, started = threading.Event(), threading.Event()
    clock = FakeClock(START, START + timedelta(seconds=100))
    calls: list[str] = []

    def slow(_lake: Lake, j: Job) -> JobResult:
        calls.append(clock.now().strftime("%M:%S"))
        started.set()
        if len(calls) == 1:
            assert release.wait(10)
        return ok_result(j)

    j = job("watch", trigger={"new_files": str(incoming), "poll": 10})
    scheduler = Scheduler(lake, [j], clock=clock, runner=slow)

    def before(target: datetime) -> None:
        assert started.wait(10)
        if target == START + timedelta(seconds=10):
            (incoming / "b.csv").write_text("id\n2\n")  # arrives while the first run is busy
        if target >= START + timedelta(seconds=30):
            release.set()
            scheduler.wait_idle()

    clock.before = before
    scheduler.run()
    assert calls == ["07:00", "07:30"]
    assert [e.at.second for e in scheduler.history if e.kind == "skipped"] == [10, 20]


def test_a_missing_trigger_folder_waits_for_it(lake: Lake, tmp_path: Path) -> None:
    later = tmp_path / "later"
    clock = FakeClock(START, START + timedelta(seconds=45))
    recorder = Recorder(clock)
    j = job("watch", trigger={"new_files": str(later), "poll": 10})
    scheduler = Scheduler(lake, [j], clock=clock, runner=recorder)

    def before(target: datetime) -> None:
        scheduler.wait_idle()
        if target == START + timedelta(seconds=20):
            later.mkdir()
            (later / "x.json").write_text("{}")

    clock.before = before
    scheduler.run()
    assert recorder.runs == [("watch", "10:07")]
    assert scheduler.clock.now() == START + timedelta(seconds=40)


def test_watcher_after_a_previous_run_ignores_what_is_there(lake: Lake, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "old.csv").write_text("x\n")
    watcher = NewFileWatcher(lake, str(folder), seen_before=True)
    assert watcher.poll()[1] == frozenset()
    (folder / "new.csv").write_text("y\n")
    listing, new = watcher.poll()
    assert {key for key, _, _ in new} == {"new.csv"}
    assert watcher.poll()[1] == new  # still new until accepted
    watcher.accept(listing)
    assert watcher.poll()[1] == frozenset()
    (folder / "new.csv").unlink()
    assert watcher.poll()[1] == frozenset()  # a deletion fires nothing


def test_once_runs_every_job_now(lake: Lake) -> None:
    clock = FakeClock(START, START + timedelta(days=1))
    recorder = Recorder(clock)
    jobs = [job("a", schedule="@daily"), job("b")]
    scheduler = Scheduler(lake, jobs, clock=clock, runner=recorder)
    scheduler.run(once=True)
    assert recorder.runs == [("a", "10:07"), ("b", "10:07")]
    assert clock.sleeps == 0


def test_sigterm_stops_after_the_current_run(lake: Lake) -> None:
    original = signal.getsignal(signal.SIGTERM)
    clock = FakeClock(START, START + timedelta(days=1))
    finished: list[str] = []

    def stopping(_lake: Lake, j: Job) -> JobResult:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)  # still working when the signal is handled
        finished.append(j.name)
        return ok_result(j)

    scheduler = Scheduler(lake, [job("a", schedule="* * * * *")], clock=clock, runner=stopping)
    clock.before = lambda _t: scheduler.wait_idle()
    scheduler.run()
    assert finished == ["a"]
    assert [e.kind for e in scheduler.history] == ["started", "succeeded"]
    assert clock.now() < START + timedelta(minutes=5)
    assert signal.getsignal(signal.SIGTERM) == original


def test_a_stop_event_from_another_thread(lake: Lake) -> None:
    stop = threading.Event()
    scheduler = Scheduler(lake, [job("a", schedule="@yearly")])
    runner = threading.Thread(target=scheduler.run, kwargs={"stop": stop})
    runner.start()
    stop.set()
    runner.join(5)
    assert not runner.is_alive()
    assert list(scheduler.history) == []


def test_jobs_need_a_schedule_or_trigger_and_distinct_names(lake: Lake) -> None:
    with pytest.raises(ConfigError, match="'dup'"):
        Scheduler(lake, [job("dup", schedule="@daily"), job("dup", schedule="@hourly")])
    scheduler = Scheduler(lake, [job("idle")])
    with pytest.raises(ConfigError, match="idle have neither a schedule nor a trigger"):
        scheduler.run()
