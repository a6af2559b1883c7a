"""Snapshot expiry: forget old snapshots, then delete the files only they could read.

pyiceberg's ``maintenance.expire_snapshots()`` only removes snapshots from the metadata; it
never deletes a file. This module chooses the snapshots (age cutoff, the newest ``retain_last``
of every branch, every branch and tag head), has pyiceberg commit their removal, and then deletes
the data files, manifests and manifest lists that were reachable from the expired snapshots but
from no snapshot left in the table *after* the commit (read back from the catalog), so a file a
retained snapshot, or a writer that committed meanwhile, can read is never deleted.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pyiceberg.io import FileIO
from pyiceberg.table.refs import SnapshotRefType

from lakebed.catalog.errors import mapped_errors
from lakebed.errors import ConfigError
from lakebed.maintenance._checks import require_table
from lakebed.maintenance.files import FileSet, delete_files, snapshot_files
from lakebed.maintenance.reports import ExpireReport

if TYPE_CHECKING:
    from pyiceberg.table.metadata import TableMetadata

    from lakebed.catalog import Table

#: Table property (Iceberg's own) giving the default age cutoff in milliseconds.
MAX_AGE_PROPERTY = "history.expire.max-snapshot-age-ms"
#: The cutoff when neither the call nor the table gives one (Iceberg's default: 5 days).
DEFAULT_MAX_AGE = timedelta(days=5)


def cutoff_ms(older_than: datetime | timedelta | None, properties: dict[str, str]) -> int:
    """The cutoff as epoch milliseconds: snapshots strictly older may expire."""
    now = datetime.now(UTC)
    if older_than is None:
        raw = properties.get(MAX_AGE_PROPERTY)
        if raw is None:
            return int((now - DEFAULT_MAX_AGE).timestamp() * 1000)
        try:
            older_than = timedelta(milliseconds=int(raw))
        except ValueError:
            raise ConfigError(
                f"table property {MAX_AGE_PROPERTY}={raw!r} is not a whole number of ms",
                fix=f"set {MAX_AGE_PROPERTY} to milliseconds, e.g. 432000000 for 5 days",
            ) from None
    if isinstance(older_than, timedelta):
        if older_than < timedelta(0):
            raise ConfigError(
                f"older_than must not be negative, not {older_than}",
                fix="pass an age like timedelta(days=7)",
            )
        older_than = now - older_than
    if not isinstance(older_than, datetime):
        raise ConfigError(
            f"older_than must be a datetime or timedelta, not {type(older_than).__name__}",
            fix="pass e.g. timedelta(days=7)",
        )
    if older_than.tzinfo is None:
        older_than = older_than.replace(tzinfo=UTC)
    return int(older_than.timestamp() * 1000)


def retained_ids(metadata: TableMetadata, cutoff: int, retain_last: int) -> set[int]:
    """Snapshots to keep: branch/tag heads, the current snapshot, the newest ``retain_last``
    ancestors of every branch, and every snapshot at or after ``cutoff``."""
    keep = {s.snapshot_id for s in metadata.snapshots if s.timestamp_ms >= cutoff}
    if metadata.current_snapshot_id is not None:
        keep.add(metadata.current_snapshot_id)
    for ref in metadata.refs.values():
        keep.add(ref.snapshot_id)
        if ref.snapshot_ref_type != SnapshotRefType.BRANCH:
            continue
        snap = metadata.snapshot_by_id(ref.snapshot_id)
        depth = 0
        while snap is not None and depth < retain_last:
            keep.add(snap.snapshot_id)
            depth += 1
            parent = snap.parent_snapshot_id
            snap = None if parent is None else metadata.snapshot_by_id(parent)
    return keep


def expire_snapshots(
    table: Table,
    *,
    older_than: datetime | timedelta | None = None,
    retain_last: int = 1,
) -> ExpireReport:
    """Drop snapshots older than ``older_than`` and delete the files only they reference.

    ``older_than`` is an age (``timedelta(days=7)``) or a moment (naive datetimes are UTC);
    None uses the table property ``history.expire.max-snapshot-age-ms`` and, without it,
    Iceberg's default of 5 days. Always kept: the newest ``retain_last``
    snapshots of every branch (the current one included) and every snapshot a tag or branch
    points to. Expired snapshots can no longer be read (time travel to them fails).
    """
    table = require_table(table, "expire_snapshots")
    if not isinstance(retain_last, int) or retain_last < 1:
        raise ConfigError(
            f"retain_last must be 1 or more, not {retain_last!r}",
            fix="keep at least the current snapshot: retain_last=1",
        )
    started = time.monotonic()
    table.refresh()
    iceberg = table.iceberg
    metadata = iceberg.metadata
    cutoff = cutoff_ms(older_than, dict(metadata.properties))
    keep = retained_ids(metadata, cutoff, retain_last)
    expired = [s for s in metadata.snapshots if s.snapshot_id not in keep]
    report = ExpireReport(table=table.ident)
    if not expired:
        report.retained_snapshot_ids = sorted(s.snapshot_id for s in metadata.snapshots)
        report.seconds = time.monotonic() - started
        return report

    # Deleted entries too: a file dropped by an expired snapshot whose earlier snapshots were
    # expired by another tool would otherwise never be freed.
    candidates = snapshot_files(iceberg.io, expired, live_only=False)
    with mapped_errors(f"table {table.ident}"):
        iceberg.maintenance.expire_snapshots().by_ids([s.snapshot_id for s in expired]).commit()
    table.refresh()
    after = iceberg.metadata
    still = snapshot_files(iceberg.io, after.snapshots)
    removed = {s.snapshot_id for s in expired} - {s.snapshot_id for s in after.snapshots}

    report.expired_snapshot_ids = sorted(removed)
    report.retained_snapshot_ids = sorted(s.snapshot_id for s in after.snapshots)
    _delete_unreachable(iceberg.io, candidates, still, report)
    report.seconds = time.monotonic() - started
    return report


def _delete_unreachable(
    io: FileIO, candidates: FileSet, still: FileSet, report: ExpireReport
) -> None:
    live = still.keys()
    kinds = (
        ("deleted_data_files", candidates.data_files),
        ("deleted_manifests", candidates.manifests),
        ("deleted_manifest_lists", candidates.manifest_lists),
    )
    # Data files first: a crash midway leaves manifests that still list what remains.
    for attr, files in kinds:
        doomed = {uri: size for key, (uri, size) in files.items() if key not in live}
        gone = delete_files(io, doomed)
        setattr(report, attr, len(gone))
        report.deleted_bytes += sum(doomed[uri] for uri in gone)
