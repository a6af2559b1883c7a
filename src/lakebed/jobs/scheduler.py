"""The scheduler: runs jobs at their cron times and when new files arrive for them.

Each run happens on its own thread, so a slow job never delays another; a job never runs twice
at once: when its time comes (or files arrive) while it is still running, that run is skipped
and logged (new files stay pending and fire once it is free). A failing run is logged and the
scheduler goes on. SIGTERM or SIGINT (Ctrl-C) stop it: no new run starts, and it returns once
the runs under way have finished (a second Ctrl-C abandons them).

Cron times are read on the wall clock of ``tz`` (default: the machine's local time zone).
Time comes from a :class:`Clock`, so tests can run a day of schedule in milliseconds.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal, Protocol

from lakebed.errors import ConfigError
from lakebed.jobs.model import Job
from lakebed.jobs.runner import JobResult, run_job
from lakebed.jobs.triggers import NewFileWatcher, job_has_run

if TYPE_CHECKING:
    from lakebed.lake import Lake

log = logging.getLogger("lakebed.jobs")

EventKind = Literal["started", "succeeded", "failed", "skipped", "poll-failed"]
Runner = Callable[["Lake", Job], JobResult]


class Clock(Protocol):
    """Where the scheduler gets the time from and how it waits."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...

    def sleep(self, seconds: float, stop: threading.Event) -> None:
        """Wait ``seconds``, returning early when ``stop`` is set."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float, stop: threading.Event) -> None:
        stop.wait(seconds)


@dataclass(frozen=True)
class JobEvent:
    """Something the scheduler did: a run started, ended, or was skipped."""

    at: datetime
    job: str
    kind: EventKind
    #: Why it ran ("schedule", "3 new file(s)", "once") or what went wrong.
    detail: str = ""
    result: JobResult | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "at": self.at.isoformat(),
            "job": self.job,
            "event": self.kind,
            "detail": self.detail,
        }
        if self.result is not None:
            out["result"] = self.result.to_dict()
        return out


@dataclass
class _Slot:
    job: Job
    watcher: NewFileWatcher | None = None
    next_cron: datetime | None = None
    next_poll: datetime | None = None
    worker: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self.worker is not None and self.worker.is_alive()


class Scheduler:
    """Run ``jobs`` on their schedules and triggers until stopped.

    ``runner`` runs one job (default :func:`~lakebed.jobs.runner.run_job`); ``on_event`` is
    called with each :class:`JobEvent` (from worker threads too); ``history`` keeps the last
    ``max_events`` of them.
    """

    def __init__(
        self,
        lake: Lake,
        jobs: Sequence[Job],
        *,
        clock: Clock | None = None,
        runner: Runner = run_job,
        on_event: Callable[[JobEvent], None] | None = None,
        tz: tzinfo | None = None,
        max_events: int = 1000,
    ) -> None:
        names = [job.name for job in jobs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(
                f"more than one job is named {', '.join(map(repr, duplicates))}",
                fix="give every job file a distinct name",
            )
        self.lake = lake
        self.jobs = list(jobs)
        self.clock: Clock = clock or SystemClock()
        self.runner = runner
        self.on_event = on_event
        self.tz = tz
        self.history: deque[JobEvent] = deque(maxlen=max_events)
        #: Runs that failed (or raised) since the scheduler was made.
        self.failures = 0
        self._lock = threading.Lock()
        self._slots = [_Slot(job) for job in jobs]

    # -- the loop -----------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None, once: bool = False) -> None:
        """Schedule until ``stop`` is set (or SIGTERM/SIGINT arrives on the main thread).

        ``once=True`` instead runs every job one time, now, one after another, and returns.
        """
        stop = stop or threading.Event()
        restore = _handle_signals(stop)
        try:
            if once:
                for slot in self._slots:
                    if not stop.is_set():
                        self._execute(slot, "once")
                return
            self._loop(stop)
        finally:
            try:
                self.wait_idle()
            finally:
                restore()

    def _loop(self, stop: threading.Event) -> None:
        idle = [s.job.name for s in self._slots if not (s.job.schedule or s.job.trigger)]
        if idle:
            raise ConfigError(
                f"job(s) {', '.join(idle)} have neither a schedule nor a trigger",
                fix="add 'schedule:' or 'trigger:' to the job file, or use `lakebed run`",
            )
        now = self.clock.now()
        for slot in self._slots:
            if slot.job.schedule:
                slot.next_cron = slot.job.schedule.next_after(self._wall(now))
            if slot.job.trigger:
                slot.watcher = NewFileWatcher(
                    self.lake,
                    slot.job.trigger.new_files,
                    seen_before=job_has_run(self.lake, slot.job.name),
                )
                slot.next_poll = now
        while not stop.is_set():
            now = self.clock.now()
            for slot in self._slots:
                if stop.is_set():
                    break
                self._tick(slot, now)
            wake = min(t for s in self._slots for t in (s.next_cron, s.next_poll) if t)
            self.clock.sleep(max(0.0, (wake - self.clock.now()).total_seconds()), stop)

    def _tick(self, slot: _Slot, now: datetime) -> None:
        job = slot.job
        if job.schedule and slot.next_cron and now >= slot.next_cron:
            self._fire(slot, now, "schedule")
            slot.next_cron = job.schedule.next_after(self._wall(now))
        if job.trigger and slot.watcher and slot.next_poll and now >= slot.next_poll:
            slot.next_poll = now + timedelta(seconds=job.trigger.poll)
            try:
                listing, new = slot.watcher.poll()
            except Exception as exc:  # a store hiccup must not stop the scheduler
                self._emit(JobEvent(now, job.name, "poll-failed", str(exc)))
                return
            if new and self._fire(slot, now, f"{len(new)} new file(s)"):
                slot.watcher.accept(listing)

    def _fire(self, slot: _Slot, now: datetime, reason: str) -> bool:
        """Start a run of ``slot``'s job on a thread, unless one is still going."""
        if slot.busy:
            self._emit(JobEvent(now, slot.job.name, "skipped", f"{reason}: still running"))
            return False
        slot.worker = threading.Thread(
            target=self._execute, args=(slot, reason), name=f"job-{slot.job.name}", daemon=True
        )  # daemon: a second Ctrl-C may abandon it (its commit is atomic either way)
        slot.worker.start()
        return True

    def _execute(self, slot: _Slot, reason: str) -> None:
        job = slot.job
        self._emit(JobEvent(self.clock.now(), job.name, "started", reason))
        try:
            result = self.runner(self.lake, job)
        except Exception as exc:  # a crashing run is logged; the scheduler goes on
            log.exception("job %s crashed", job.name)
            with self._lock:
                self.failures += 1
            self._emit(JobEvent(self.clock.now(), job.name, "failed", f"{exc}"))
            return
        if result.ok:
            self._emit(JobEvent(self.clock.now(), job.name, "succeeded", reason, result))
            return
        with self._lock:
            self.failures += 1
        why = result.error or "; ".join(f"{s.step}: {s.error}" for s in result.failed_steps)
        self._emit(JobEvent(self.clock.now(), job.name, "failed", why, result))

    # -- helpers ------------------------------------------------------------------------------

    def wait_idle(self, timeout: float | None = None) -> None:
        """Block until no run is under way."""
        for slot in self._slots:
            worker = slot.worker
            if worker is not None:
                worker.join(timeout)

    def _wall(self, now: datetime) -> datetime:
        return now.astimezone(self.tz)

    def _emit(self, event: JobEvent) -> None:
        quiet = event.kind in ("started", "succeeded")
        level = logging.INFO if quiet else logging.WARNING
        log.log(level, "job %s %s %s", event.job, event.kind, event.detail)
        with self._lock:
            self.history.append(event)
        if self.on_event is not None:
            self.on_event(event)


def _handle_signals(stop: threading.Event) -> Callable[[], None]:
    """Make SIGTERM/SIGINT set ``stop`` (main thread only); returns a function undoing it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        log.warning("%s: stopping after the runs under way", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
