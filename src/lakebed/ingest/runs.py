"""The run log: every load recorded in the catalog database, and locks so one bookmark is
loaded by one run at a time.

``lakebed_ingest_runs`` has a row per run (start, end, status, rows read/written/quarantined,
snapshot ids, error); ``lakebed runs`` lists them. A run whose process died shows as
``running`` until the next run of the same target finds it: the table's snapshots tell whether
its commit landed (the snapshot summary carries ``lakebed.run-id``), and the run is marked
``succeeded`` or ``failed`` accordingly (see :mod:`lakebed.ingest.runner`).

``lakebed_ingest_locks`` holds one row per bookmark being loaded; a second run of the same
bookmark fails fast with who holds it. A lock whose process is gone (same host, dead pid) is
taken over.
"""

from __future__ import annotations

import builtins
import json
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lakebed.errors import ConflictError

if TYPE_CHECKING:
    from lakebed.catalog import Catalog
    from lakebed.ingest.report import IngestReport

_metadata = sa.MetaData()
_runs = sa.Table(
    "lakebed_ingest_runs",
    _metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("job", sa.String(255), nullable=False),
    sa.Column("target", sa.String(511), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("mode", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("rows_read", sa.BigInteger, nullable=False, default=0),
    sa.Column("rows_written", sa.BigInteger, nullable=False, default=0),
    sa.Column("rows_quarantined", sa.BigInteger, nullable=False, default=0),
    sa.Column("snapshot_ids", sa.Text, nullable=False, default="[]"),
    sa.Column("error", sa.Text),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
)
_locks = sa.Table(
    "lakebed_ingest_locks",
    _metadata,
    sa.Column("name", sa.String(767), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class RunRecord:
    """One recorded run."""

    run_id: str
    job: str
    target: str
    source: str
    mode: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    rows_read: int
    rows_written: int
    rows_quarantined: int
    snapshot_ids: list[int] = field(default_factory=list)
    error: str | None = None
    host: str = ""
    pid: int = 0


def _alive(host: str, pid: int) -> bool:
    """Whether the process that wrote a row may still run (unknown hosts count as alive)."""
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # SQLite gives naive datetimes back
    return value


class RunLog:
    """Runs and locks in the catalog's SQL database."""

    def __init__(self, catalog: Catalog) -> None:
        self.engine = catalog.engine
        _metadata.create_all(self.engine, checkfirst=True)

    def start(self, report: IngestReport, *, job: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                _runs.insert().values(
                    run_id=report.run_id,
                    job=job,
                    target=report.target,
                    source=report.source,
                    mode=report.mode,
                    status="running",
                    started_at=report.started_at,
                    snapshot_ids="[]",
                    rows_read=0,
                    rows_written=0,
                    rows_quarantined=0,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                )
            )

    def finish(self, report: IngestReport) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                _runs.update()
                .where(_runs.c.run_id == report.run_id)
                .values(
                    status=report.status,
                    finished_at=report.finished_at,
                    rows_read=report.rows_read,
                    rows_written=report.rows_written,
                    rows_quarantined=report.rows_quarantined,
                    snapshot_ids=json.dumps(report.snapshot_ids),
                    error=report.error,
                )
            )

    def mark(self, run_id: str, status: str, error: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                _runs.update()
                .where(_runs.c.run_id == run_id)
                .values(status=status, error=error, finished_at=datetime.now(UTC))
            )

    def list(
        self,
        job: str | None = None,
        target: str | None = None,
        limit: int = 50,
        status: str | None = None,
    ) -> builtins.list[RunRecord]:
        """Recorded runs, newest first."""
        query = sa.select(_runs).order_by(_runs.c.started_at.desc()).limit(limit)
        if job is not None:
            query = query.where(_runs.c.job == job)
        if target is not None:
            query = query.where(_runs.c.target == target)
        if status is not None:
            query = query.where(_runs.c.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            RunRecord(
                run_id=r["run_id"],
                job=r["job"],
                target=r["target"],
                source=r["source"],
                mode=r["mode"],
                status=r["status"],
                started_at=_utc(r["started_at"]) or datetime.now(UTC),
                finished_at=_utc(r["finished_at"]),
                rows_read=r["rows_read"],
                rows_written=r["rows_written"],
                rows_quarantined=r["rows_quarantined"],
                snapshot_ids=json.loads(r["snapshot_ids"] or "[]"),
                error=r["error"],
                host=r["host"],
                pid=r["pid"],
            )
            for r in rows
        ]

    def abandoned(self, target: str) -> builtins.list[RunRecord]:
        """Runs of ``target`` still marked running whose process is gone."""
        return [
            run
            for run in self.list(target=target, status="running", limit=1000)
            if not _alive(run.host, run.pid)
        ]

    # -- locks -------------------------------------------------------------------------------

    def lock(self, name: str, run_id: str) -> None:
        """Take the lock ``name`` for ``run_id``; ConflictError when a live run holds it."""
        for _ in range(2):
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        _locks.insert().values(
                            name=name,
                            run_id=run_id,
                            host=socket.gethostname(),
                            pid=os.getpid(),
                            acquired_at=datetime.now(UTC),
                        )
                    )
                return
            except IntegrityError:
                with self.engine.connect() as conn:
                    held = conn.execute(sa.select(_locks).where(_locks.c.name == name)).first()
                if held is not None and _alive(held.host, held.pid):
                    raise ConflictError(
                        f"{name} is being loaded by run {held.run_id} (pid {held.pid} on "
                        f"{held.host}, since {held.acquired_at})",
                        fix="wait for that run to finish; runs of one bookmark go one at a time",
                    ) from None
                with self.engine.begin() as conn:  # its process is gone: take it over
                    conn.execute(
                        _locks.delete().where(
                            (_locks.c.name == name)
                            & (_locks.c.run_id == (held.run_id if held else ""))
                        )
                    )
        raise ConflictError(f"could not take the lock {name}", fix="run it again")

    def unlock(self, name: str, run_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                _locks.delete().where((_locks.c.name == name) & (_locks.c.run_id == run_id))
            )
