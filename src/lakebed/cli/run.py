"""CLI commands for ingestion jobs: ``run`` a job file, ``schedule`` job files, list ``runs``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lakebed.cli import render
from lakebed.cli.app import app, state
from lakebed.errors import LakebedError
from lakebed.jobs import Job, JobEvent, JobResult, Scheduler, load_job, run_job
from lakebed.jobs.runner import IngestProgress

_UPCOMING = 3


@app.command("run")
def run_command(
    ctx: typer.Context,
    job_file: Annotated[Path, typer.Argument(help="A job file (.yaml, .yml or .json).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the job file and show the plan; load nothing.")
    ] = False,
) -> None:
    """Run the ingestion job in JOB_FILE once: its load, then its `after` steps."""
    st = state(ctx)
    job = load_job(job_file)
    if dry_run:
        _show_plan(job, as_json=st.as_json)
        return
    _quiet_logs()
    with _ingest_bar(job.name, enabled=not st.as_json) as progress:
        result = run_job(st.lake, job, progress=progress)
    if st.as_json:
        render.emit_json(result.to_dict())
    else:
        _show_result(result)
    if not result.ok:
        raise _job_failed(result)


@app.command()
def schedule(
    ctx: typer.Context,
    job_files: Annotated[list[Path], typer.Argument(help="One or more job files.")],
    once: Annotated[
        bool, typer.Option("--once", help="Run every job one time, now, then exit.")
    ] = False,
) -> None:
    """Run jobs at their cron times and when new files arrive, until SIGTERM or Ctrl-C."""
    st = state(ctx)
    jobs = [load_job(path) for path in job_files]
    _quiet_logs()
    scheduler = Scheduler(st.lake, jobs, on_event=_json_event if st.as_json else _print_event)
    if not st.as_json and not once:
        for job in jobs:
            render.errors.print(f"scheduling [bold]{job.name}[/bold]: {_when(job)}")
    scheduler.run(once=once)
    if scheduler.failures:
        raise LakebedError(
            f"{scheduler.failures} job run(s) failed",
            fix="see the messages above, and `lakebed runs` for the recorded runs",
        )


@app.command()
def runs(
    ctx: typer.Context,
    job: Annotated[str | None, typer.Option("--job", help="Only this job's runs.")] = None,
    table: Annotated[str | None, typer.Option("--table", help="Only runs into DB.TABLE.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many.")] = 20,
) -> None:
    """List recorded ingestion runs, newest first."""
    st = state(ctx)
    records = st.lake.runs(job=job, target=table, limit=limit)
    if st.as_json:
        render.emit_json([_record_dict(r) for r in records])
        return
    rows = [
        {
            "run": r.run_id[:12],
            "job": r.job or "",
            "table": r.target,
            "status": r.status,
            "started": r.started_at.strftime("%Y-%m-%d %H:%M:%S") if r.started_at else "",
            "seconds": _seconds(r.started_at, r.finished_at),
            "read": r.rows_read,
            "written": r.rows_written,
            "quarantined": r.rows_quarantined,
            "error": r.error or "",
        }
        for r in records
    ]
    render.emit_rows(rows, title="ingestion runs")


# -- rendering --------------------------------------------------------------------------------


def _quiet_logs() -> None:
    """The CLI shows failures itself; keep the jobs logger from printing them a second time."""
    logger = logging.getLogger("lakebed.jobs")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())


def _job_failed(result: JobResult) -> LakebedError:
    if result.error:
        return LakebedError(
            f"job {result.job} failed: {result.error}",
            fix="fix the cause and run the job again (a failed load leaves the table as it was)",
        )
    steps = [s.step for s in result.failed_steps]
    return LakebedError(
        f"job {result.job}: the load succeeded but {', '.join(steps)} failed",
        fix=f"see the errors above; retry with `lakebed {steps[0]} {result.target}`",
    )


@contextmanager
def _ingest_bar(name: str, *, enabled: bool = True) -> Iterator[IngestProgress | None]:
    """A parts bar with a row count, fed by ``lake.ingest``'s ``progress(done, total, rows)``."""
    if not enabled or not render.errors.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("parts, {task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        console=render.errors,
        transient=True,
    ) as bar:
        task = bar.add_task(f"job {name}", total=None, rows=0)

        def progress(done: int, total: int, rows: int) -> None:
            bar.update(task, completed=done, total=total, rows=rows)

        yield progress


def _show_plan(job: Job, *, as_json: bool) -> None:
    plan = job.plan()
    if job.schedule:
        from datetime import datetime

        upcoming = job.schedule.upcoming(datetime.now().astimezone(), _UPCOMING)
        plan["next_runs"] = [t.isoformat(timespec="minutes") for t in upcoming]
    if as_json:
        render.emit_json(plan)
        return
    rows = [{"": key, "value": _plain(value)} for key, value in plan.items() if value]
    render.emit_rows(rows, title=f"job {job.name} (dry run: nothing loaded)")


def _show_result(result: JobResult) -> None:
    render.emit_rows([result.summary()], title=f"job {result.job} into {result.target}")
    if result.error:
        render.errors.print(f"[bold red]load failed:[/bold red] {result.error}", highlight=False)
    if result.steps:
        render.emit_rows(
            [
                {
                    "step": s.step,
                    "status": "ok" if s.ok else "failed",
                    "seconds": round(s.seconds, 2),
                    "error": s.error or "",
                }
                for s in result.steps
            ],
            title="maintenance",
        )
    report = result.report
    for note in (report.notes + report.schema_changes) if report else []:
        render.console.print(note, highlight=False)


def _print_event(event: JobEvent) -> None:
    when = event.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    colour = {"failed": "red", "skipped": "yellow", "poll-failed": "red", "succeeded": "green"}
    kind = f"[{colour[event.kind]}]{event.kind}[/]" if event.kind in colour else event.kind
    line = f"{when} {event.job} {kind}"
    if event.result is not None and event.result.report is not None:
        r = event.result.report
        line += f" ({r.rows_read} read, {r.rows_written} written, {r.rows_quarantined} quarantined)"
    if event.detail and event.kind != "succeeded":
        line += f": {event.detail}"
    render.errors.print(line, highlight=False)


def _json_event(event: JobEvent) -> None:
    import json

    print(json.dumps(event.to_dict(), default=str), flush=True)


def _when(job: Job) -> str:
    parts = []
    if job.schedule:
        parts.append(f"cron '{job.schedule}'")
    if job.trigger:
        parts.append(f"new files in {job.trigger.new_files} (every {job.trigger.poll:g}s)")
    return " or ".join(parts) or "never (no schedule or trigger)"


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _seconds(started: Any, finished: Any) -> str:
    if started is None or finished is None:
        return ""
    return f"{(finished - started).total_seconds():.1f}"


def _record_dict(record: Any) -> dict[str, Any]:
    if hasattr(record, "to_dict"):
        return dict(record.to_dict())
    if hasattr(record, "__dataclass_fields__"):
        return {k: getattr(record, k) for k in record.__dataclass_fields__}
    return dict(vars(record))
