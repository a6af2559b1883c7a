"""Running one job: its load, then its maintenance steps, into a :class:`JobResult`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lakebed.errors import LakebedError
from lakebed.jobs.model import Job

if TYPE_CHECKING:
    from lakebed.ingest.report import IngestReport
    from lakebed.lake import Lake

log = logging.getLogger("lakebed.jobs")

#: ``progress(done_parts, total_parts, rows)``, as ``lake.ingest`` calls it.
IngestProgress = Callable[[int, int, int], None]

#: Each ``after`` step and the Lake method that does it.
STEP_METHODS = {
    "optimize": "optimize",
    "expire-snapshots": "expire_snapshots",
    "remove-orphans": "remove_orphan_files",
}


@dataclass
class StepResult:
    """One maintenance step's outcome: ``error`` is None when it succeeded."""

    step: str
    seconds: float
    error: str | None = None
    report: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "ok": self.ok,
            "seconds": self.seconds,
            "error": self.error,
            "report": self.report,
        }


@dataclass
class JobResult:
    """What a job run did: the load's report (None when the load raised) and every step."""

    job: str
    target: str
    report: IngestReport | None
    steps: list[StepResult] = field(default_factory=list)
    #: The load's error when it raised instead of returning a report.
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the load succeeded (or found nothing new) and every step succeeded."""
        if self.error is not None or self.report is None:
            return False
        if self.report.status == "failed":
            return False
        return all(step.ok for step in self.steps)

    @property
    def exit_code(self) -> int:
        """0 when the job succeeded, 1 when the load or a step failed."""
        return 0 if self.ok else 1

    @property
    def failed_steps(self) -> list[StepResult]:
        return [s for s in self.steps if not s.ok]

    def summary(self) -> dict[str, Any]:
        """One flat row for a summary table: the load's status and rows, snapshots, seconds."""
        report = self.report
        return {
            "job": self.job,
            "status": report.status if report else "failed",
            "read": report.rows_read if report else None,
            "written": report.rows_written if report else None,
            "quarantined": report.rows_quarantined if report else None,
            "snapshots": len(report.snapshot_ids) if report else None,
            "seconds": round(report.seconds or 0.0, 2) if report else None,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "target": self.target,
            "ok": self.ok,
            "error": self.error,
            "ingest": self.report.to_dict() if self.report else None,
            "steps": [s.to_dict() for s in self.steps],
        }


def run_job(lake: Lake, job: Job, *, progress: IngestProgress | None = None) -> JobResult:
    """Load ``job.source`` into ``job.into``, then run the ``after`` steps in order.

    The load is recorded in the catalog's run log under the job's name (``lakebed runs``).
    ``lake.ingest`` records the run in the catalog. A load that raises a LakebedError is
    returned as a failed :class:`JobResult` (its message in ``error``); the steps then do not
    run, since they would work on a table the load did not change. A failing step is recorded
    and the next one still runs. Any other exception (a bug) propagates.
    """
    log.info("job %s: loading %s into %s", job.name, job.shown_source, job.into)
    try:
        report = lake.ingest(
            job.source, into=job.into, progress=progress, job=job.name, **job.ingest_kwargs()
        )
    except Exception as exc:  # recorded, not raised: the scheduler and exit code report it
        log.error("job %s: load failed: %s", job.name, exc, exc_info=_unexpected(exc))
        return JobResult(job=job.name, target=job.into, report=None, error=_describe(exc))
    result = JobResult(job=job.name, target=job.into, report=report)
    if report.status == "failed":
        result.error = report.error
        return result
    for step in job.after:
        result.steps.append(_run_step(lake, job, step))
    return result


def _run_step(lake: Lake, job: Job, step: str) -> StepResult:
    started = time.monotonic()
    try:
        outcome = getattr(lake, STEP_METHODS[step])(job.into)
    except Exception as exc:  # one failing step does not stop the next
        log.error("job %s: %s failed: %s", job.name, step, exc, exc_info=_unexpected(exc))
        return StepResult(step, time.monotonic() - started, error=_describe(exc))
    report = outcome.to_dict() if hasattr(outcome, "to_dict") else None
    return StepResult(step, time.monotonic() - started, report=report)


def _unexpected(exc: Exception) -> bool:
    """Whether to log a traceback: for errors that are not lakebed's own (likely bugs)."""
    return not isinstance(exc, LakebedError)


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, LakebedError) else f"{type(exc).__name__}: {exc}"
