"""What a maintenance run did: plain dataclasses with ``to_dict`` (for ``--json``) and
``summary_rows`` (for the CLI's table)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


def _human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"


@dataclass
class OptimizeReport:
    """Result of :func:`lakebed.maintenance.optimize`.

    ``files_before``/``files_after`` and ``bytes_before``/``bytes_after`` are the table's data
    files and bytes around the run; ``rewritten_files``/``rewritten_bytes`` what was read and
    replaced, ``added_files``/``added_bytes`` what replaced it, ``rows`` the rows rewritten.
    ``snapshot_id`` is the new snapshot (None when there was nothing to compact).
    """

    table: str
    target_file_size: int
    files_before: int = 0
    files_after: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    rewritten_files: int = 0
    rewritten_bytes: int = 0
    added_files: int = 0
    added_bytes: int = 0
    rows: int = 0
    groups: int = 0
    snapshot_id: int | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary_rows(self) -> list[dict[str, Any]]:
        return [
            {"": "data files", "before": self.files_before, "after": self.files_after},
            {
                "": "bytes",
                "before": _human(self.bytes_before),
                "after": _human(self.bytes_after),
            },
            {"": "rewritten", "before": self.rewritten_files, "after": self.added_files},
            {"": "rows rewritten", "before": self.rows, "after": self.rows},
        ]

    def notes(self) -> list[str]:
        if self.snapshot_id is None:
            return [f"{self.table}: nothing to compact"]
        return [
            f"{self.table}: {self.groups} group(s) compacted in {self.seconds:.1f}s, "
            f"snapshot {self.snapshot_id}"
        ]


@dataclass
class ExpireReport:
    """Result of :func:`lakebed.maintenance.expire_snapshots`: the snapshots removed, those
    kept, and the files deleted because only expired snapshots could reach them."""

    table: str
    expired_snapshot_ids: list[int] = field(default_factory=list)
    retained_snapshot_ids: list[int] = field(default_factory=list)
    deleted_data_files: int = 0
    deleted_manifests: int = 0
    deleted_manifest_lists: int = 0
    deleted_bytes: int = 0
    seconds: float = 0.0

    @property
    def deleted_files(self) -> int:
        return self.deleted_data_files + self.deleted_manifests + self.deleted_manifest_lists

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "deleted_files": self.deleted_files}

    def summary_rows(self) -> list[dict[str, Any]]:
        return [
            {"": "snapshots expired", "count": len(self.expired_snapshot_ids)},
            {"": "snapshots kept", "count": len(self.retained_snapshot_ids)},
            {"": "data files deleted", "count": self.deleted_data_files},
            {"": "manifests deleted", "count": self.deleted_manifests},
            {"": "manifest lists deleted", "count": self.deleted_manifest_lists},
            {"": "bytes freed", "count": _human(self.deleted_bytes)},
        ]


@dataclass
class OrphanReport:
    """Result of :func:`lakebed.maintenance.remove_orphan_files`.

    ``orphans`` are the unreferenced files old enough to delete (deleted unless ``dry_run``);
    ``too_recent`` the unreferenced files left alone because a write may still be using them.
    """

    table: str
    dry_run: bool
    scanned_files: int = 0
    referenced_files: int = 0
    orphans: list[str] = field(default_factory=list)
    orphan_bytes: int = 0
    deleted: list[str] = field(default_factory=list)
    too_recent: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary_rows(self) -> list[dict[str, Any]]:
        return [
            {"": "files under the table", "count": self.scanned_files},
            {"": "referenced", "count": self.referenced_files},
            {"": "orphans", "count": len(self.orphans)},
            {"": "deleted", "count": len(self.deleted)},
            {"": "orphans too recent to delete", "count": len(self.too_recent)},
            {"": "orphan bytes", "count": _human(self.orphan_bytes)},
        ]
