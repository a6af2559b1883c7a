"""Compaction: many small files become few, with the same rows, in one snapshot."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.maintenance.helpers import files_on_disk, local, snapshot_data_files, sorted_rows

from lakebed import Lake
from lakebed.catalog import Table
from lakebed.errors import ConfigError, ConflictError
from lakebed.maintenance import optimize

SCHEMA = pa.schema([("id", pa.int64()), ("region", pa.string()), ("amount", pa.float64())])


def _rows(start: int, n: int, region: str = "eu") -> pa.Table:
    ids = list(range(start, start + n))
    return pa.table(
        {"id": ids, "region": [region] * n, "amount": [i * 0.5 for i in ids]}, schema=SCHEMA
    )


def _small_appends(lake: Lake, count: int, ident: str = "db.events") -> Table:
    table = lake.create_table(ident, schema=SCHEMA)
    for i in range(count):
        # Descending ids across appends, so a sorted result cannot come from append order.
        table.append(_rows((count - i) * 10, 3))
    return table


def _tiny_files(table: Table, count: int, start: int = 100_000) -> None:
    """``count`` one-row data files in one snapshot (as a stream of tiny files lands)."""
    batches = (_rows(start + i, 1).to_batches()[0] for i in range(count))
    with table.begin_write(SCHEMA, chunk_bytes=1, target_file_size=1) as pending:
        pending.write(batches)
        pending.commit()


def test_many_small_appends_become_one_file_with_the_same_rows(lake: Lake) -> None:
    table = _small_appends(lake, 25)
    _tiny_files(table, 200)
    before = table.scan()
    old_snapshot = table.current_snapshot()
    assert old_snapshot is not None
    old_files = snapshot_data_files(table, old_snapshot.snapshot_id)
    assert len(old_files) == 225
    ticks: list[tuple[int, int]] = []

    report = optimize(table, progress=lambda done, total: ticks.append((done, total)))

    assert (report.files_before, report.files_after) == (225, 1)
    assert (report.rewritten_files, report.added_files, report.rows) == (225, 1, 275)
    assert report.bytes_after == report.added_bytes < report.bytes_before
    current = table.current_snapshot()
    assert current is not None and report.snapshot_id == current.snapshot_id
    assert current.summary["lakebed.operation"] == "optimize"
    assert len(table.snapshots()) == 27  # exactly one new snapshot
    assert sorted_rows(table.scan(), "id") == sorted_rows(before, "id")
    assert ticks[0] == (0, 225) and ticks[-1] == (225, 225)
    assert [done for done, _ in ticks] == list(range(226))

    # Readers of the snapshot before the compaction still see the 200 old files and rows.
    assert snapshot_data_files(table, old_snapshot.snapshot_id) == old_files
    assert all(Path(p).exists() for p in old_files)
    old_rows = table.scan(snapshot_id=old_snapshot.snapshot_id)
    assert sorted_rows(old_rows, "id") == sorted_rows(before, "id")

    again = optimize(table)
    assert again.snapshot_id is None and again.rewritten_files == 0
    assert len(table.snapshots()) == 27


def test_compaction_keeps_the_order_rows_were_added(lake: Lake) -> None:
    table = _small_appends(lake, 8)  # ids 80-82, 70-72, ..., 10-12, in that order
    before = table.scan().column("id").to_pylist()
    assert before == [i * 10 + k for i in range(8, 0, -1) for k in range(3)]
    report = optimize(table)
    assert (report.files_before, report.files_after) == (8, 1)
    assert table.scan().column("id").to_pylist() == before


def test_partitioned_table_is_compacted_per_partition(lake: Lake) -> None:
    table = lake.catalog.create_table("db.sales", SCHEMA, partition_by=["region"])
    for i in range(6):
        table.append(pa.concat_tables([_rows(i * 10, 2, "eu"), _rows(i * 10 + 5, 2, "us")]))
    table.append(_rows(900, 2, "apac"))  # a partition with a single small file
    before = table.scan()

    report = optimize(table)

    assert report.groups == 2 and report.rewritten_files == 12 and report.added_files == 2
    files = table.iceberg.inspect.files().to_pylist()
    by_region: dict[str, int] = {}
    for entry in files:
        region = entry["partition"]["region"]
        by_region[region] = by_region.get(region, 0) + 1
    assert by_region == {"eu": 1, "us": 1, "apac": 1}
    for entry in files:  # every file holds only its own partition's rows
        regions = set(pq.read_table(local(entry["file_path"]))["region"].to_pylist())
        assert regions == {entry["partition"]["region"]}
    assert sorted_rows(table.scan(), "id") == sorted_rows(before, "id")


def test_where_limits_the_work_to_matching_partitions(lake: Lake) -> None:
    table = lake.catalog.create_table("db.sales", SCHEMA, partition_by=["region"])
    for i in range(4):
        table.append(pa.concat_tables([_rows(i * 10, 2, "eu"), _rows(i * 10 + 5, 2, "us")]))
    before = table.scan()

    report = optimize(table, where="region = 'us'")

    assert report.rewritten_files == 4 and report.files_after == 5
    counts = table.iceberg.inspect.partitions().to_pylist()
    assert {c["partition"]["region"]: c["file_count"] for c in counts} == {"eu": 4, "us": 1}
    assert sorted_rows(table.scan(), "id") == sorted_rows(before, "id")


def test_sort_by_orders_the_rows_of_the_new_file(lake: Lake) -> None:
    table = _small_appends(lake, 20)
    report = optimize(table, sort_by=["amount desc"])
    assert report.snapshot_id is not None
    (path,) = snapshot_data_files(table, report.snapshot_id)
    amounts = pq.read_table(path)["amount"].to_pylist()
    assert amounts == sorted(amounts, reverse=True) and len(amounts) == 60


def test_the_tables_sort_order_is_the_default(lake: Lake) -> None:
    table = lake.catalog.create_table("db.sorted", SCHEMA, sort_by=["id"])
    for i in range(10):
        table.append(_rows(100 - i * 10, 3))
    report = optimize(table)
    assert report.snapshot_id is not None
    (path,) = snapshot_data_files(table, report.snapshot_id)
    ids = pq.read_table(path)["id"].to_pylist()
    assert ids == sorted(ids)


def test_large_files_are_left_alone(lake: Lake) -> None:
    table = _small_appends(lake, 5)
    sizes = [entry["file_size_in_bytes"] for entry in table.iceberg.inspect.files().to_pylist()]
    # Every file is at least 75% of this target, so none counts as small.
    report = optimize(table, target_file_size=min(sizes))
    assert report.snapshot_id is None and report.files_after == 5
    table.set_properties(**{"write.target-file-size-bytes": str(min(sizes))})
    assert optimize(table).snapshot_id is None
    assert optimize(table, target_file_size=64 << 20).files_after == 1


def test_renamed_and_added_columns_survive_compaction(lake: Lake) -> None:
    table = _small_appends(lake, 3)
    table.evolve_schema(rename={"amount": "price"}, add=pa.schema([("note", pa.string())]))
    table.append(
        pa.table({"id": [1], "region": ["eu"], "price": [9.5], "note": ["new"]}),
    )
    before = table.scan()
    optimize(table)
    after = table.scan()
    assert after.column_names == ["id", "region", "price", "note"]
    assert sorted_rows(after, "id") == sorted_rows(before, "id")
    assert after.filter(pa.compute.is_valid(after["price"])).num_rows == 10


def test_a_concurrent_removal_of_an_input_is_a_conflict(lake: Lake) -> None:
    table = _small_appends(lake, 10)
    other = lake.table("db.events")
    assert isinstance(other, Table)
    replacement = _rows(5000, 4)

    def overwrite_meanwhile(done: int, total: int) -> None:
        if done == 0:  # after planning, before any file is rewritten
            other.overwrite(replacement)

    with pytest.raises(ConflictError):
        optimize(table, progress=overwrite_meanwhile)

    table.refresh()
    assert sorted_rows(table.scan(), "id") == sorted_rows(replacement, "id")
    assert all(s.summary.get("lakebed.operation") != "optimize" for s in table.snapshots())
    # The compaction's new files were cleaned up: every data file on disk belongs to a snapshot.
    referenced = set().union(
        *(snapshot_data_files(table, s.snapshot_id) for s in table.snapshots())
    )
    assert files_on_disk(table, ".parquet") == referenced


def test_a_concurrent_append_is_kept(lake: Lake) -> None:
    table = _small_appends(lake, 10)
    other = lake.table("db.events")
    assert isinstance(other, Table)
    extra = _rows(7000, 2)

    def append_meanwhile(done: int, total: int) -> None:
        if done == 0:
            other.append(extra)

    report = optimize(table, progress=append_meanwhile)
    assert report.rewritten_files == 10
    assert table.stats().rows == 32
    assert table.stats().data_files == 2  # the compacted file plus the concurrent append


def test_bad_arguments_name_the_fix(lake: Lake) -> None:
    table = _small_appends(lake, 2)
    with pytest.raises(ConfigError, match="amout"):
        optimize(table, sort_by=["amout"])
    with pytest.raises(ConfigError, match="min_input_files"):
        optimize(table, min_input_files=0)
    with pytest.raises(ConfigError, match="target_file_size"):
        optimize(table, target_file_size=0)


def test_an_empty_table_has_nothing_to_compact(lake: Lake) -> None:
    table = lake.create_table("db.empty", schema=SCHEMA)
    report = optimize(table)
    assert report.snapshot_id is None and report.files_before == report.files_after == 0
