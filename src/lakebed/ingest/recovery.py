"""Settling runs whose process died, so the next run neither loses nor doubles their records.

A load commits its rows with ``lakebed.run-id`` in the snapshot summary, and quarantines its
bad records (tagged with the run id) just before. A run still marked ``running`` whose process
is gone either committed (its id is in a snapshot: it succeeded) or did not (its quarantined
records are taken back, since the next run meets the same records again).

A run is known to be gone when its pid is dead on this host, or when its heartbeat expired
(see :mod:`lakebed.ingest.runs`). :func:`unlock` settles one by hand, for a user who knows that
a run on another host died and will not wait for its heartbeat to expire.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from lakebed.catalog import Table
from lakebed.catalog.naming import TableRef
from lakebed.errors import ConflictError, NotFoundError
from lakebed.ingest.bookmarks import check_name
from lakebed.ingest.runs import RunLog, RunRecord, pid_alive
from lakebed.quarantine import Quarantine

if TYPE_CHECKING:
    from lakebed.catalog import Catalog

#: The snapshot summary key naming the run that committed the snapshot.
RUN_ID = "lakebed.run-id"


def _committed(catalog: Catalog, target: str) -> set[str]:
    """The run ids the snapshots of table ``target`` carry."""
    table = catalog.load_table(target) if catalog.table_exists(target) else None
    if not isinstance(table, Table):
        return set()
    return {s.summary[RUN_ID] for s in table.snapshots() if RUN_ID in s.summary}


def _settle(
    run: RunRecord, runs: RunLog, committed: set[str], quarantine: Quarantine, why: str
) -> str | None:
    """Mark a dead run succeeded (it committed) or failed (its quarantined records taken back);
    returns a note for a failed one."""
    if run.run_id in committed:
        runs.mark(run.run_id, "succeeded", f"{why} after the commit")
        return None
    quarantine.discard(run.run_id)
    runs.mark(run.run_id, "failed", f"{why} before the commit; nothing was loaded")
    return f"run {run.run_id} had died before its commit; it was marked failed"


def settle_abandoned(catalog: Catalog, runs: RunLog, target: str) -> list[str]:
    """Settle runs of ``target`` whose process died: committed or not, by the snapshots."""
    abandoned = runs.abandoned(target)
    if not abandoned:
        return []
    committed = _committed(catalog, target)
    quarantine = Quarantine(catalog, TableRef.parse(target).database)
    notes = []
    for run in abandoned:
        note = _settle(run, runs, committed, quarantine, "its process died")
        if note:
            notes.append(note)
    return notes


def unlock(catalog: Catalog, target: str, bookmark: str) -> str:
    """Release the lock on ``bookmark`` of table ``target`` held by a run that died (e.g. on
    another host): the run is settled as if its death had been seen (marked failed, its
    quarantined records taken back; or succeeded, if its commit landed) and the lock freed.
    Returns what was done, in words."""
    ident = str(TableRef.parse(target))
    name = f"{ident}#{check_name(bookmark)}"
    runs = RunLog(catalog)
    held = runs.holder(name)
    if held is None:
        raise NotFoundError(
            f"bookmark {bookmark!r} of table {ident} is not locked",
            fix="nothing to unlock: no run is loading it (`lakebed runs` shows the recent runs)",
        )
    if pid_alive(held.host, held.pid) and held.pid != os.getpid():
        raise ConflictError(
            f"bookmark {bookmark!r} of table {ident} is held by run {held.run_id}, whose process "
            f"{held.pid} on this host ({held.host}) is still running",
            fix=f"let it finish, or stop that process (kill {held.pid}) and unlock again",
        )
    run = runs.get(held.run_id)
    words = f"bookmark {bookmark!r} of {ident} unlocked"
    if run is not None and run.status == "running":
        quarantine = Quarantine(catalog, TableRef.parse(ident).database)
        committed = _committed(catalog, ident)
        note = _settle(run, runs, committed, quarantine, "unlocked by hand: its process died")
        state = "failed, its quarantined records taken back" if note else "succeeded"
        words += f"; run {run.run_id} (pid {run.pid} on {run.host}) marked {state}"
    runs.unlock(name, held.run_id)
    return words
