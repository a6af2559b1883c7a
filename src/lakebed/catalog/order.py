"""Rows in the order they were added: table scans plan their data files oldest first.

pyiceberg plans a snapshot's files manifest by manifest, and a snapshot's manifest list starts
with the newest manifest, so the rows appended last would be read first. :class:`AddedOrder`
plans the same files and orders them by the data sequence number of the commit that added
each (the files of one commit keep their order in it). A table appended to day by day is then
read day by day, and what depends on row order (a recipe's fill with the last valid value,
rolling windows, first-K samples) sees the rows as they came. A compaction's output counts as
added by the compaction, after the files it left alone.
"""

from __future__ import annotations

import inspect

from pyiceberg.manifest import ManifestEntry
from pyiceberg.table import DataScan, FileScanTask, ManifestGroupPlanner


class AddedOrder(DataScan):
    """A :class:`DataScan` whose :meth:`plan_files` lists the oldest data files first
    (catalogs that plan scans on the server are not used by lakebed)."""

    def plan_files(self) -> list[FileScanTask]:
        snapshot = self.snapshot()
        if snapshot is None:
            return []
        added: dict[str, int] = {}

        def note(entry: ManifestEntry) -> bool:
            added[entry.data_file.file_path] = entry.sequence_number or 0
            return True

        planner = ManifestGroupPlanner(
            table_metadata=self.table_metadata,
            io=self.io,
            row_filter=self.row_filter,
            case_sensitive=self.case_sensitive,
            options=self.options,
        )
        tasks = planner.plan_files(snapshot.manifests(self.io), note)
        return sorted(tasks, key=lambda task: added[task.file.file_path])  # stable


def in_added_order(scan: DataScan) -> AddedOrder:
    """``scan`` (from ``Table.scan``), planning its files oldest first."""
    params = inspect.signature(DataScan.__init__).parameters.keys() - {"self"}
    return AddedOrder(**{name: getattr(scan, name) for name in params})
