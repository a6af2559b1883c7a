"""The run log: every load recorded in the catalog database, and locks so one bookmark is
loaded by one run at a time.

``lakebed_ingest_runs`` has a row per run (start, end, status, rows read/written/quarantined,
snapshot ids, error); ``lakebed runs`` lists them. A run whose process died shows as
``running`` until the next run of the same target finds it: the table's snapshots tell whether
its commit landed (the snapshot summary carries ``lakebed.run-id``), and the run is marked
``succeeded`` or ``failed`` accordingly (see :mod:`lakebed.ingest.runner`).

A running run renews ``expires_at`` (its heartbeat, every quarter of its ``lock_ttl``). A run
is dead when its process is gone on this host (dead pid), or when its heartbeat has expired
(any host: a container that was killed, a pod that came back under another name).

``lakebed_ingest_locks`` holds one row per bookmark being loaded; a second run of the same
bookmark fails fast with who holds it. A lock whose run is dead is taken over;
:func:`~lakebed.ingest.recovery.unlock` releases one by hand.
"""

from __future__ import annotations

import builtins
import json
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

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
    #: Until when a running run counts as alive without a newer heartbeat.
    sa.Column("expires_at", sa.DateTime(timezone=True)),
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
    expires_at: datetime | None = None

    @property
    def alive(self) -> bool:
        """Whether the run's process may still be loading."""
        return self.status == "running" and _alive(
            self.host, self.pid, self.expires_at, self.started_at
        )


#: How long a run recorded without a heartbeat (by an older lakebed) counts as alive.
LEGACY_TTL = timedelta(hours=12)


def pid_alive(host: str, pid: int) -> bool | None:
    """Whether process ``pid`` runs, when ``host`` is this host (None: another host)."""
    if host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive(host: str, pid: int, expires_at: datetime | None, started_at: datetime) -> bool:
    """Whether the process that wrote a row may still run: not when its pid is gone on this
    host, nor when its heartbeat expired (without one, LEGACY_TTL after it started)."""
    if pid_alive(host, pid) is False:
        return False
    until = _utc(expires_at) or (_utc(started_at) or datetime.now(UTC)) + LEGACY_TTL
    return datetime.now(UTC) < until


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # SQLite gives naive datetimes back
    return value


class RunLog:
    """Runs and locks in the catalog's SQL database."""

    def __init__(self, catalog: Catalog) -> None:
        self.engine = catalog.engine
        _metadata.create_all(self.engine, checkfirst=True)
        _upgrade(self.engine)

    def start(self, report: IngestReport, *, job: str, ttl: float = 600.0) -> None:
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
                    expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
                )
            )

    def heartbeat(self, run_id: str, ttl: float) -> None:
        """Renew a running run's ``expires_at`` to ``ttl`` seconds from now."""
        with self.engine.begin() as conn:
            conn.execute(
                _runs.update()
                .where((_runs.c.run_id == run_id) & (_runs.c.status == "running"))
                .values(expires_at=datetime.now(UTC) + timedelta(seconds=ttl))
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
        run_id: str | None = None,
    ) -> builtins.list[RunRecord]:
        """Recorded runs, newest first."""
        query = sa.select(_runs).order_by(_runs.c.started_at.desc()).limit(limit)
        if run_id is not None:
            query = query.where(_runs.c.run_id == run_id)
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
                expires_at=_utc(r["expires_at"]),
            )
            for r in rows
        ]

    def get(self, run_id: str) -> RunRecord | None:
        """The run ``run_id`` (None when none was recorded)."""
        found = self.list(run_id=run_id, limit=1)
        return found[0] if found else None

    def abandoned(self, target: str) -> builtins.list[RunRecord]:
        """Runs of ``target`` still marked running whose process is gone."""
        return [
            run for run in self.list(target=target, status="running", limit=1000) if not run.alive
        ]

    # -- locks -------------------------------------------------------------------------------

    def holder(self, name: str) -> sa.Row[Any] | None:
        """The lock row of ``name`` (run_id, host, pid, acquired_at), None when it is free."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(_locks).where(_locks.c.name == name)).first()

    def _holder_alive(self, held: sa.Row[Any]) -> tuple[bool, datetime | None]:
        """Whether the run holding a lock may still run, and until when it counts as alive."""
        run = self.get(held.run_id)
        if run is None:
            started = _utc(held.acquired_at) or datetime.now(UTC)
            return _alive(held.host, held.pid, None, started), started + LEGACY_TTL
        return run.alive, run.expires_at

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
                held = self.holder(name)
                alive, until = (False, None) if held is None else self._holder_alive(held)
                if held is not None and alive:
                    table, _, bookmark = name.partition("#")
                    expiry = (
                        f"; its heartbeat expires at {until:%Y-%m-%d %H:%M:%S %Z}" if until else ""
                    )
                    raise ConflictError(
                        f"{name} is being loaded by run {held.run_id} (pid {held.pid} on "
                        f"{held.host}, since {held.acquired_at}{expiry})",
                        fix="wait for that run to finish (runs of one bookmark go one at a time); "
                        "if its process is gone, the lock is taken over once its heartbeat "
                        "expires, or release it now with "
                        f"`lakebed bookmarks {table} --unlock {bookmark}`",
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


def _upgrade(engine: sa.Engine) -> None:
    """Add ``expires_at`` to a runs table an older lakebed created without it."""
    columns = {c["name"] for c in sa.inspect(engine).get_columns(_runs.name)}
    if "expires_at" in columns:
        return
    kind = _runs.c.expires_at.type.compile(dialect=engine.dialect)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"ALTER TABLE {_runs.name} ADD COLUMN expires_at {kind}"))
    except SQLAlchemyError:
        columns = {c["name"] for c in sa.inspect(engine).get_columns(_runs.name)}
        if "expires_at" not in columns:  # not another process adding it at the same moment
            raise


class Heartbeat:
    """Renews a run's ``expires_at`` every quarter of ``ttl`` while a load runs (a thread)."""

    def __init__(self, runs: RunLog, run_id: str, ttl: float) -> None:
        self.runs = runs
        self.run_id = run_id
        self.ttl = ttl
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lakebed-heartbeat", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 4):
            try:
                self.runs.heartbeat(self.run_id, self.ttl)
            except SQLAlchemyError:
                continue  # a busy catalog: the next beat tries again, well within the ttl

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
