"""Orphan removal: unreferenced old files go; everything the table can read stays."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from tests.maintenance.helpers import age_files, files_on_disk, table_dir

from lakebed import Lake
from lakebed.catalog import Table
from lakebed.errors import ConfigError
from lakebed.maintenance import expire_snapshots, remove_orphan_files
from lakebed.maintenance.files import file_key

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])


def _batch(start: int, n: int = 2) -> pa.Table:
    ids = list(range(start, start + n))
    return pa.table({"id": ids, "name": [f"n{i}" for i in ids]}, schema=SCHEMA)


def _table_with_history(lake: Lake) -> Table:
    table = lake.catalog.create_table("db.items", SCHEMA, partition_by=["id"])
    for i in range(3):
        table.append(_batch(i * 10))
    table.overwrite(_batch(100), filter="id < 10")
    return table


def _leak_a_failed_write(table: Table) -> set[str]:
    """Data files a writer wrote and never committed or cleaned up (it crashed)."""
    before = files_on_disk(table)
    pending = table.begin_write(SCHEMA)
    pending.write(_batch(500))
    pending.savepoint()  # closes the open files, as a crash after writing them would leave
    leaked = files_on_disk(table) - before
    assert len(leaked) == 2  # one per partition
    return leaked


def _every_snapshot_scans(table: Table) -> dict[int, int]:
    return {
        s.snapshot_id: table.scan(snapshot_id=s.snapshot_id).num_rows for s in table.snapshots()
    }


def test_orphans_and_leaks_go_referenced_files_stay(lake: Lake) -> None:
    table = _table_with_history(lake)
    leaked = _leak_a_failed_write(table)
    planted = table_dir(table) / "data" / "stray.parquet"
    planted.write_bytes(b"not referenced")
    stray_meta = table_dir(table) / "metadata" / "snap-000-stray.avro"
    stray_meta.write_bytes(b"junk")
    bookmark = table_dir(table) / "metadata" / "bookmark-src.json"
    bookmark.write_text("{}")
    table.set_properties(
        **{"lakebed.bookmark.src": json.dumps({"file": bookmark.as_uri(), "offset": 3})}
    )
    rows = _every_snapshot_scans(table)
    orphans = {str(planted), str(stray_meta), *leaked}
    referenced = files_on_disk(table) - orphans
    age_files(files_on_disk(table))  # everything is old: age alone must not doom a file

    report = remove_orphan_files(table)

    assert {p.removeprefix("file://") for p in report.deleted} == orphans
    assert sorted(report.orphans) == sorted(report.deleted)
    assert report.referenced_files == len(referenced) and report.too_recent == []
    assert report.orphan_bytes > 0
    assert files_on_disk(table) == referenced
    assert bookmark.exists()
    assert _every_snapshot_scans(table) == rows
    table.append(_batch(700))  # the table keeps working
    assert table.scan().num_rows == 8


def test_recent_orphans_are_left_for_in_flight_writes(lake: Lake) -> None:
    table = _table_with_history(lake)
    leaked = _leak_a_failed_write(table)
    old = table_dir(table) / "data" / "old-stray.parquet"
    old.write_bytes(b"x" * 10)
    age_files([old], days=2)

    report = remove_orphan_files(table, older_than=timedelta(days=1))

    assert [p.removeprefix("file://") for p in report.deleted] == [str(old)]
    assert {p.removeprefix("file://") for p in report.too_recent} == leaked
    assert all(Path(p).exists() for p in leaked)
    assert remove_orphan_files(table).deleted == []  # the 3-day default spares the 2-day file


def test_dry_run_deletes_nothing(lake: Lake) -> None:
    table = _table_with_history(lake)
    planted = table_dir(table) / "data" / "stray.parquet"
    planted.write_bytes(b"x")
    files = files_on_disk(table)
    report = remove_orphan_files(table, older_than=timedelta(0), dry_run=True)
    assert [p.removeprefix("file://") for p in report.orphans] == [str(planted)]
    assert report.deleted == [] and report.dry_run
    assert files_on_disk(table) == files


def test_after_expiry_nothing_else_is_stray(
    lake: Lake,
) -> None:
    table = _table_with_history(lake)
    expire_snapshots(table, older_than=timedelta(0))
    rows = table.scan().num_rows
    report = remove_orphan_files(table, older_than=timedelta(0))
    # Expiry already deleted what only the expired snapshots read; nothing else is stray.
    assert report.deleted == []
    assert table.scan().num_rows == rows


def test_uris_are_compared_in_one_form() -> None:
    assert file_key("file:///tmp/lake/a.parquet") == file_key("/tmp/lake/a.parquet")
    assert file_key("s3a://bucket/t/a.parquet") == file_key("s3://bucket/t/a.parquet")
    assert file_key("s3://bucket/t/a.parquet") != file_key("s3://other/t/a.parquet")


def test_bad_age(lake: Lake) -> None:
    table = _table_with_history(lake)
    with pytest.raises(ConfigError, match="older_than"):
        remove_orphan_files(table, older_than=timedelta(days=-1))
