"""What a load did: :class:`IngestReport`, returned by ``lake.ingest`` and shown by the CLI."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class IngestReport:
    """One load's outcome. Rows reconcile: ``rows_read == rows_written + rows_quarantined``
    (for ``cdc``, ``rows_written`` counts applied change rows, deletes included)."""

    run_id: str
    target: str
    source: str
    mode: str
    started_at: datetime
    finished_at: datetime | None = None
    #: ``"succeeded"``, ``"failed"``, or ``"nothing-new"`` (an incremental load found nothing).
    status: str = "running"
    parts: int = 0
    rows_read: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    #: Rows of the table removed by the load (overwrite, merge updates, cdc deletes).
    rows_deleted: int = 0
    data_files: int = 0
    bytes_written: int = 0
    snapshot_ids: list[int] = field(default_factory=list)
    bookmark: str | None = None
    schema_changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_written + self.rows_quarantined

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["started_at"] = self.started_at.isoformat()
        out["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        out["seconds"] = self.seconds
        out["reconciles"] = self.reconciles
        return out
