"""Snapshot expiry: old snapshots go, with exactly the files only they could read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from tests.maintenance.helpers import files_on_disk, local, snapshot_data_files, sorted_rows

from lakebed import Lake
from lakebed.catalog import Table
from lakebed.errors import ConfigError, NotFoundError
from lakebed.maintenance import expire_snapshots, optimize

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])


def _batch(start: int, n: int = 2) -> pa.Table:
    ids = list(range(start, start + n))
    return pa.table({"id": ids, "name": [f"n{i}" for i in ids]}, schema=SCHEMA)


def _history(lake: Lake) -> Table:
    """5 appends, an overwrite of everything (a delete and an append), 2 more appends:
    9 snapshots."""
    table = lake.create_table("db.items", schema=SCHEMA)
    for i in range(5):
        table.append(_batch(i * 10))
    table.overwrite(_batch(100, 3))
    table.append(_batch(200))
    table.append(_batch(300))
    return table


def _metadata_avro(table: Table) -> set[str]:
    """Manifest lists and manifests each snapshot reads."""
    io = table.iceberg.io
    out: set[str] = set()
    for snap in table.iceberg.metadata.snapshots:
        out.add(local(snap.manifest_list))
        out.update(local(m.manifest_path) for m in snap.manifests(io))
    return out


def test_expiry_deletes_exactly_the_files_only_expired_snapshots_read(lake: Lake) -> None:
    table = _history(lake)
    snaps = table.snapshots()
    assert len(snaps) == 9
    kept, gone = snaps[6:], snaps[:6]
    rows_of = {s.snapshot_id: table.scan(snapshot_id=s.snapshot_id) for s in kept}
    data_of = {s.snapshot_id: snapshot_data_files(table, s.snapshot_id) for s in snaps}
    live_data = set().union(*(data_of[s.snapshot_id] for s in kept))
    dead_data = set().union(*(data_of[s.snapshot_id] for s in gone)) - live_data
    assert len(dead_data) == 5  # the overwrite removed the five appended files
    parquet_before = files_on_disk(table, ".parquet")
    avro_before = files_on_disk(table, ".avro")

    report = expire_snapshots(table, older_than=timedelta(0), retain_last=3)

    assert report.expired_snapshot_ids == sorted(s.snapshot_id for s in gone)
    assert report.retained_snapshot_ids == sorted(s.snapshot_id for s in kept)
    assert report.deleted_data_files == 5 and report.deleted_bytes > 0
    assert files_on_disk(table, ".parquet") == parquet_before - dead_data
    assert [s.snapshot_id for s in table.snapshots()] == [s.snapshot_id for s in kept]
    # Every manifest or manifest list still on disk is read by a kept snapshot, and vice versa.
    assert files_on_disk(table, ".avro") == _metadata_avro(table)
    deleted_avro = len(avro_before) - len(files_on_disk(table, ".avro"))
    assert report.deleted_manifests + report.deleted_manifest_lists == deleted_avro
    assert report.deleted_manifest_lists == 6
    for sid, rows in rows_of.items():
        assert sorted_rows(table.scan(snapshot_id=sid), "id") == sorted_rows(rows, "id")
    with pytest.raises(NotFoundError):
        table.scan(snapshot_id=gone[-1].snapshot_id)


def test_recent_snapshots_are_kept_by_age(lake: Lake) -> None:
    table = _history(lake)
    files = files_on_disk(table)
    report = expire_snapshots(table, older_than=timedelta(days=1))
    assert report.expired_snapshot_ids == [] and report.deleted_files == 0
    assert len(table.snapshots()) == 9
    assert files_on_disk(table) == files


def test_a_moment_as_the_cutoff(lake: Lake) -> None:
    table = _history(lake)
    snaps = table.snapshots()
    cutoff = snaps[3].timestamp
    expected = [s.snapshot_id for s in snaps if s.timestamp < cutoff]
    assert expected  # snapshots are milliseconds apart at least
    report = expire_snapshots(table, older_than=cutoff.replace(tzinfo=None))  # naive is UTC
    assert report.expired_snapshot_ids == sorted(expected)
    # Nothing read by a kept snapshot was deleted: the first kept one still scans.
    kept = table.snapshots()[0]
    assert table.scan(snapshot_id=kept.snapshot_id).num_rows == kept.total_rows


def test_tagged_snapshots_survive(lake: Lake) -> None:
    table = _history(lake)
    first = table.snapshots()[0]
    with table.iceberg.manage_snapshots() as manage:
        manage.create_tag(first.snapshot_id, "v1")
    report = expire_snapshots(table, older_than=timedelta(0))
    assert first.snapshot_id in report.retained_snapshot_ids
    assert len(report.retained_snapshot_ids) == 2  # the tag and the current snapshot
    assert table.scan(snapshot_id=first.snapshot_id).to_pylist() == _batch(0).to_pylist()
    assert table.scan().num_rows == 7


def test_expiry_after_compaction_frees_the_small_files(lake: Lake) -> None:
    table = lake.create_table("db.items", schema=SCHEMA)
    for i in range(6):
        table.append(_batch(i * 10))
    before = table.scan()
    optimize(table)
    report = expire_snapshots(table, older_than=datetime.now(UTC) + timedelta(seconds=1))
    assert report.deleted_data_files == 6
    assert len(files_on_disk(table, ".parquet")) == 1
    assert sorted_rows(table.scan(), "id") == sorted_rows(before, "id")
    assert all(
        Path(p).exists() for p in snapshot_data_files(table, table.snapshots()[0].snapshot_id)
    )


def test_bad_arguments(lake: Lake) -> None:
    table = _history(lake)
    with pytest.raises(ConfigError, match="retain_last"):
        expire_snapshots(table, retain_last=0)
    with pytest.raises(ConfigError, match="older_than"):
        expire_snapshots(table, older_than=timedelta(days=-1))
    assert len(table.snapshots()) == 9
