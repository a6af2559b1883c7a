"""Streaming writes: bounded chunks, one atomic snapshot, nothing committed when a stream fails.

Run on every catalog backend (SQLite file and real PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from lakebed.catalog import Catalog, Table
from lakebed.catalog.datafiles import MAX_ENCODE_LANES, encode_lanes
from lakebed.errors import ConfigError, FormatError

SCHEMA = pa.schema([("id", pa.int64()), ("ts", pa.timestamp("us")), ("country", pa.string())])


def batch(first: int, count: int, day: int = 1) -> pa.RecordBatch:
    ids = list(range(first, first + count))
    ts = [datetime(2024, 1, day + i % 3, i % 24) for i in range(count)]
    return pa.RecordBatch.from_pydict(
        {"id": ids, "ts": ts, "country": ["DE"] * count}, schema=SCHEMA
    )


def data_files(table: Table) -> list[Path]:
    root = Path(table.location.removeprefix("file://")) / "data"
    return sorted(root.rglob("*.parquet"))


def table_ids(table: Table) -> list[int]:
    return sorted(table.scan(columns=["id"]).column("id").to_pylist())


def test_reader_append_to_partitioned_table_is_one_snapshot(catalog: Catalog) -> None:
    table = catalog.create_table("db.events", SCHEMA, partition_by=["day(ts)"])
    reader = pa.RecordBatchReader.from_batches(SCHEMA, [batch(0, 50), batch(50, 50)])
    snap = table.append(reader, properties={"source": "s3://bucket/a.csv"})
    assert table_ids(table) == list(range(100))
    assert snap.operation == "append"
    assert snap.summary["source"] == "s3://bucket/a.csv"
    assert len(table.snapshots()) == 1
    assert table.plan_files(filter="ts >= '2024-01-03'").rows == 32  # partitions are pruned


def test_chunks_are_written_while_the_stream_runs(catalog: Catalog) -> None:
    table = catalog.create_table("db.events", SCHEMA, partition_by=["day(ts)"])
    seen_files: list[int] = []
    with table.begin_write(SCHEMA, chunk_bytes=1, target_file_size=1) as pending:

        def stream() -> Iterator[pa.RecordBatch]:
            for n in range(5):
                seen_files.append(pending.files)
                yield batch(n * 10, 10)

        assert pending.write(stream()) == 50
        pending.commit({"run": "1"})
    # each chunk's files were on disk before the next batch was even produced
    assert seen_files == sorted(seen_files) and seen_files[-1] >= 4
    assert table_ids(table) == list(range(50))
    assert len(table.snapshots()) == 1
    assert table.stats().data_files == len(data_files(table)) > 5


def test_small_chunks_fill_right_sized_files(catalog: Catalog) -> None:
    table = catalog.create_table("db.events", SCHEMA, partition_by=["day(ts)"])
    days = {row["ts"].date() for row in batch(0, 200).to_pylist()}
    with table.begin_write(SCHEMA, chunk_bytes=1, target_file_size=64 << 20) as pending:
        pending.write((batch(n * 10, 10) for n in range(20)), atomic=False)
        pending.commit()
    # 20 chunks of 10 rows, but one file per partition: files roll at the target size only
    assert table.stats().data_files == len(days)
    assert table_ids(table) == list(range(200))


def test_files_roll_over_at_the_target_size(catalog: Catalog) -> None:
    table = catalog.create_table("db.events", SCHEMA)
    target = 8 << 10
    with table.begin_write(SCHEMA, chunk_bytes=1, target_file_size=target) as pending:
        pending.write((batch(n * 1000, 1000) for n in range(20)), atomic=False)
        pending.commit()
    sizes = sorted(f.stat().st_size for f in data_files(table))
    assert len(sizes) > 3
    assert all(size >= target for size in sizes[1:])  # only the last file may fall short
    assert table_ids(table) == list(range(20_000))


def test_stream_failing_midway_commits_nothing(catalog: Catalog) -> None:
    table = catalog.create_table("db.events", SCHEMA)
    before = table.append([batch(0, 3)])

    def broken() -> Iterator[pa.RecordBatch]:
        yield batch(100, 10)
        yield batch(110, 10)
        raise FormatError("events.csv: line 21 is not valid CSV", fix="repair the file")

    with pytest.raises(FormatError, match="line 21"):
        table.append(broken())
    assert table.refresh().current_snapshot() == before
    assert table_ids(table) == [0, 1, 2]
    assert len(data_files(table)) == 1  # the half-written stream's files are gone


def test_lanes_encode_chunks_at_once_and_a_failed_part_leaves_no_file(catalog: Catalog) -> None:
    table = catalog.create_table("db.events", SCHEMA)

    def broken() -> Iterator[pa.RecordBatch]:
        yield from (batch(1000 + n * 10, 10) for n in range(4))
        raise FormatError("events.csv: line 41 is not valid CSV", fix="repair the file")

    with table.begin_write(SCHEMA, chunk_bytes=1, lanes=3) as pending:
        assert pending.write(batch(n * 10, 10) for n in range(9)) == 90
        with pytest.raises(FormatError, match="line 41"):
            pending.write(broken())
        pending.commit()
    assert table_ids(table) == list(range(90))
    # one file per lane (the chunks are far below the target size), none left from the failure
    assert table.stats().data_files == len(data_files(table)) == 3


def test_encode_lanes_follow_the_cores() -> None:
    assert encode_lanes(3) == 3
    assert encode_lanes(1000) == MAX_ENCODE_LANES
    assert 1 <= encode_lanes() <= MAX_ENCODE_LANES


def test_streaming_append_evolves_schema_in_the_same_commit(catalog: Catalog) -> None:
    table = catalog.create_table("db.events", SCHEMA)
    table.append(batch(0, 2))
    wider = pa.schema([*SCHEMA, pa.field("score", pa.float64())])
    extra = pa.RecordBatch.from_pydict(
        {**batch(2, 2).to_pydict(), "score": [0.5, 1.5]}, schema=wider
    )
    table.append(pa.RecordBatchReader.from_batches(wider, [extra]))
    assert table.schema.names == ["id", "ts", "country", "score"]
    assert table.scan().sort_by("id").column("score").to_pylist() == [None, None, 0.5, 1.5]
    assert len(table.snapshots()) == 2


def test_schema_change_of_a_failed_stream_is_not_applied(catalog: Catalog) -> None:
    table = catalog.create_table("db.events", SCHEMA)
    wider = pa.schema([*SCHEMA, pa.field("score", pa.float64())])

    def broken() -> Iterator[pa.RecordBatch]:
        yield pa.RecordBatch.from_pydict({**batch(0, 1).to_pydict(), "score": [1.0]}, wider)
        raise OSError("connection reset")

    with pytest.raises(OSError, match="reset"):
        table.append(broken())
    assert table.refresh().schema.names == ["id", "ts", "country"]
    assert table.current_snapshot() is None


def test_rollback_to_savepoint_drops_only_that_part(catalog: Catalog) -> None:
    table = catalog.create_table("db.events", SCHEMA, partition_by=["country"])
    with table.begin_write(SCHEMA) as pending:
        pending.write([batch(0, 5)])
        mark = pending.savepoint()
        pending.write([batch(5, 5)])
        pending.rollback(mark)
        assert pending.rows == 5
        pending.commit()
    assert table_ids(table) == [0, 1, 2, 3, 4]
    assert len(data_files(table)) == table.stats().data_files == 1
    with pytest.raises(ConfigError, match="already committed"):
        pending.write([batch(9, 1)])


def test_streaming_overwrite_replaces_matching_rows(catalog: Catalog) -> None:
    table = catalog.create_table("db.events", SCHEMA, partition_by=["day(ts)"])
    table.append(batch(0, 6))  # days 1, 2, 3
    new = pa.RecordBatchReader.from_batches(SCHEMA, [batch(100, 1, day=1)])
    table.overwrite(new, filter="ts < '2024-01-02'")
    assert table_ids(table) == [1, 2, 4, 5, 100]


def test_pending_write_commits_after_a_concurrent_append(
    open_catalog: Callable[[], Catalog],
) -> None:
    first = open_catalog()
    first.create_database("db")
    table = first.create_table("db.events", SCHEMA)
    other = open_catalog().load_table("db.events")
    assert isinstance(other, Table)
    with table.begin_write(SCHEMA) as pending:
        pending.write([batch(0, 3)])
        other.append(batch(100, 2))  # lands while this write is pending
        pending.commit({"run": "late"})
    assert table_ids(table.refresh()) == [0, 1, 2, 100, 101]
    assert len(table.snapshots()) == 2
    assert table.snapshots()[-1].summary["run"] == "late"
