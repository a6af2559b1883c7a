"""Settling runs whose process died, so the next run neither loses nor doubles their records.

A load commits its rows with ``lakebed.run-id`` in the snapshot summary, and quarantines its
bad records (tagged with the run id) just before. A run still marked ``running`` whose process
is gone either committed (its id is in a snapshot: it succeeded) or did not (its quarantined
records are taken back, since the next run meets the same records again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakebed.catalog import Table
from lakebed.catalog.naming import TableRef
from lakebed.quarantine import Quarantine

if TYPE_CHECKING:
    from lakebed.catalog import Catalog
    from lakebed.ingest.runs import RunLog

#: The snapshot summary key naming the run that committed the snapshot.
RUN_ID = "lakebed.run-id"


def settle_abandoned(catalog: Catalog, runs: RunLog, target: str) -> list[str]:
    """Settle runs of ``target`` whose process died: committed or not, by the snapshots."""
    notes: list[str] = []
    abandoned = runs.abandoned(target)
    if not abandoned:
        return notes
    committed: set[str] = set()
    table = catalog.load_table(target) if catalog.table_exists(target) else None
    if isinstance(table, Table):
        committed = {s.summary[RUN_ID] for s in table.snapshots() if RUN_ID in s.summary}
    quarantine = Quarantine(catalog, TableRef.parse(target).database)
    for run in abandoned:
        if run.run_id in committed:
            runs.mark(run.run_id, "succeeded", "its process died after the commit")
            continue
        quarantine.discard(run.run_id)
        runs.mark(run.run_id, "failed", "its process died before the commit; nothing was loaded")
        notes.append(f"run {run.run_id} had died before its commit; it was marked failed")
    return notes
