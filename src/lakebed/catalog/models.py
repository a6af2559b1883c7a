"""Plain records the catalog hands out: snapshots, scan plans, table statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa


@dataclass(frozen=True)
class SnapshotInfo:
    """One committed version of a table."""

    snapshot_id: int
    parent_id: int | None
    timestamp: datetime  # timezone-aware, UTC
    operation: str  # "append", "overwrite", "delete", "replace"
    summary: dict[str, str]

    @property
    def added_rows(self) -> int:
        """Rows this snapshot added."""
        return int(self.summary.get("added-records", 0))

    @property
    def total_rows(self) -> int:
        """Rows in the table as of this snapshot."""
        return int(self.summary.get("total-records", 0))


def snapshot_info(snapshot: Any) -> SnapshotInfo:
    """A :class:`SnapshotInfo` from a pyiceberg snapshot."""
    summary = snapshot.summary
    values = dict(summary.model_dump()) if summary is not None else {}
    operation = str(values.pop("operation", "unknown"))
    return SnapshotInfo(
        snapshot_id=snapshot.snapshot_id,
        parent_id=snapshot.parent_snapshot_id,
        timestamp=datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC),
        operation=operation,
        summary={k: str(v) for k, v in values.items()},
    )


@dataclass(frozen=True)
class ScanPlan:
    """The data files a read of one snapshot needs, partition-pruned by the filter.

    When ``has_deletes`` is True some files have row-level deletes; read through
    :meth:`Table.scan` then, since reading the files alone would return deleted rows.
    """

    files: list[str]  # full URIs of Parquet data files
    has_deletes: bool
    schema: pa.Schema  # the schema of that snapshot
    snapshot_id: int | None
    rows: int = 0  # rows in the planned files, before deletes and row filters
    bytes: int = 0
    file_rows: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TableStats:
    """Size of a table's current snapshot."""

    rows: int
    data_files: int
    total_bytes: int
    snapshots: int
    snapshot_id: int | None
