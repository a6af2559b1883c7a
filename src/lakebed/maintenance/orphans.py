"""Orphan removal: delete files under a table's location that no part of the table references.

Orphans come from writes that failed after writing data files, commits that lost a race, and
metadata files dropped from the metadata log. Everything the table can reach is kept (metadata
files in the log, statistics, lakebed bookmark files, and the manifest lists, manifests, data and
delete files of every snapshot still in the table); of the rest, only files older than
``older_than`` are deleted, so the files of a write still in flight are never touched.

pyiceberg has no orphan removal; the listing uses the same pyarrow filesystem as the table's
FileIO, so local folders and S3 work alike.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from lakebed.errors import ConfigError, StorageError
from lakebed.maintenance._checks import require_table
from lakebed.maintenance.files import (
    delete_files,
    file_key,
    list_files,
    referenced_files,
)
from lakebed.maintenance.reports import OrphanReport

if TYPE_CHECKING:
    from lakebed.catalog import Table

#: The default minimum age of a file before it may be deleted as an orphan.
DEFAULT_ORPHAN_AGE = timedelta(days=3)


def remove_orphan_files(
    table: Table,
    *,
    older_than: timedelta = DEFAULT_ORPHAN_AGE,
    dry_run: bool = False,
) -> OrphanReport:
    """Delete files under the table's location that the table does not reference and that are
    older than ``older_than`` (default 3 days); with ``dry_run``, only report them."""
    table = require_table(table, "remove_orphan_files")
    if not isinstance(older_than, timedelta) or older_than < timedelta(0):
        raise ConfigError(
            f"older_than must be a non-negative timedelta, not {older_than!r}",
            fix="pass an age like timedelta(days=3)",
        )
    started = time.monotonic()
    table.refresh()
    iceberg = table.iceberg
    referenced = referenced_files(iceberg).keys()
    # Taken before listing, so a file written while the listing runs is always too recent.
    cutoff = datetime.now(UTC) - older_than
    listed = list(list_files(iceberg.io, table.location))
    report = OrphanReport(table=table.ident, dry_run=dry_run, scanned_files=len(listed))

    orphans = []
    matched = 0
    for item in listed:
        if file_key(item.uri) in referenced:
            matched += 1
            continue
        if item.modified < cutoff:
            orphans.append(item)
        else:
            report.too_recent.append(item.uri)
    report.referenced_files = matched
    _check_matching(table, matched, len(listed))

    report.orphans = [item.uri for item in orphans]
    report.orphan_bytes = sum(item.size for item in orphans)
    if not dry_run:
        report.deleted = delete_files(iceberg.io, report.orphans)
    report.seconds = time.monotonic() - started
    return report


def _check_matching(table: Table, matched: int, listed: int) -> None:
    """Refuse to go on when the listing and the references plainly use different spellings of
    the same files: that would make every live file look like an orphan."""
    if listed and not matched:  # the current metadata file alone always lies there
        raise StorageError(
            f"none of the {listed} files under {table.location} matches a file table "
            f"{table.ident} references; refusing to delete anything",
            fix="check that the table's location and its metadata use the same storage URIs",
        )
