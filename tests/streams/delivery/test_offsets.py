"""Positions and window state committed with the rows: read back through other writers'
snapshots, after snapshot expiry, and from a file when large."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa

from lakebed import Lake
from lakebed.catalog import Table
from lakebed.streams.offsets import (
    checkpoint_properties,
    is_after,
    merge_positions,
    read_checkpoint,
)


def _table(lake: Lake) -> Table:
    return lake.create_table("db.t", schema=pa.schema([("id", pa.int64())]))


def _commit(table: Table, props: tuple[dict[str, str], dict[str, str]], rows: list[int]) -> None:
    summary, table_props = props
    with table.begin_write(pa.schema([("id", pa.int64())])) as pending:
        pending.write(pa.table({"id": pa.array(rows, pa.int64())}))
        pending.commit(summary, table_properties=table_props)


def test_position_order_knows_offsets_and_redis_entry_ids() -> None:
    assert is_after(10, 9) and not is_after(9, 10) and is_after(0, None)
    assert is_after("1700000000000-10", "1700000000000-2")  # not text order
    assert is_after("1700000000001-0", "1700000000000-99")
    assert merge_positions({"a": 5, "b": "1-2"}, {"a": 3, "b": "1-10", "c": 0}) == {
        "a": 5,
        "b": "1-10",
        "c": 0,
    }


def test_checkpoint_survives_other_writers_and_snapshot_expiry(lake: Lake) -> None:
    table = _table(lake)
    _commit(table, checkpoint_properties(table, "s", {"p0": 7}, "b1"), [1])
    for n in range(3):
        table.append(pa.table({"id": pa.array([100 + n], pa.int64())}))
    found = read_checkpoint(table, "s")
    assert found.positions == {"p0": 7} and found.batch_id == "b1"
    lake.expire_snapshots("db.t", older_than=timedelta(0), retain_last=1)
    assert read_checkpoint(table, "s").positions == {"p0": 7}  # from the table property
    assert read_checkpoint(table, "other").positions == {}


def test_a_rolled_back_table_rolls_the_positions_back(lake: Lake) -> None:
    table = _table(lake)
    _commit(table, checkpoint_properties(table, "s", {"p0": 1}, "b1"), [1])
    first = table.current_snapshot()
    assert first is not None
    _commit(table, checkpoint_properties(table, "s", {"p0": 2}, "b2"), [2])
    table.iceberg.manage_snapshots().rollback_to_snapshot(first.snapshot_id).commit()
    # the rows of b2 are gone from the table, so the stream must deliver them again
    assert read_checkpoint(table, "s").positions == {"p0": 1}


def test_large_window_state_goes_to_a_file_the_orphan_sweep_keeps(lake: Lake) -> None:
    table = _table(lake)
    state = bytes(range(256)) * 64  # 16 KiB
    _commit(table, checkpoint_properties(table, "w", {"p0": 3}, "b1", state), [1])
    summary = table.current_snapshot().summary  # type: ignore[union-attr]
    assert '"file":' in summary["lakebed.bookmark.stream.w"]
    lake.remove_orphan_files("db.t", older_than=timedelta(0))
    found = read_checkpoint(table, "w")
    assert found.window_state == state and found.positions == {"p0": 3}
    files = list(Path(table.location.removeprefix("file://"), "metadata").rglob("stream.w-*"))
    assert len(files) == 1
    assert [b.name for b in lake.bookmarks("db.t")] == ["stream.w"]
