"""Iceberg table behaviour, run on every catalog backend (SQLite file and real PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from lakebed.catalog import Catalog, Table
from lakebed.errors import ConfigError, NotFoundError, QueryError, SchemaError

SCHEMA = pa.schema([("id", pa.int32()), ("ts", pa.timestamp("us")), ("country", pa.string())])


def rows(ids: list[int], day: int = 1, country: str = "DE") -> pa.Table:
    ts = [datetime(2024, 1, day, i % 24) for i in range(len(ids))]
    return pa.table({"id": ids, "ts": ts, "country": [country] * len(ids)}, schema=SCHEMA)


def make_table(catalog: Catalog, partition_by: tuple[str, ...] = ()) -> Table:
    return catalog.create_table("db.events", SCHEMA, partition_by=partition_by)


def ids(table: pa.Table) -> list[int]:
    return sorted(table.column("id").to_pylist())


def test_new_table_is_empty(catalog: Catalog) -> None:
    table = make_table(catalog)
    assert table.current_snapshot() is None
    assert table.snapshots() == []
    assert table.scan().num_rows == 0
    assert table.scan().schema == SCHEMA
    assert table.plan_files().files == []
    assert table.stats().rows == 0


def test_appends_make_snapshots(catalog: Catalog) -> None:
    table = make_table(catalog)
    first = table.append(rows([1, 2, 3]))
    assert first.operation == "append"
    assert first.added_rows == 3
    assert first.total_rows == 3
    assert first.parent_id is None
    assert first.timestamp.tzinfo is not None

    second = table.append(rows([4, 5]), properties={"kafka.offsets": "p0=41"})
    assert second.parent_id == first.snapshot_id
    assert second.summary["kafka.offsets"] == "p0=41"
    assert [s.snapshot_id for s in table.snapshots()] == [first.snapshot_id, second.snapshot_id]
    assert table.current_snapshot() == second

    assert ids(table.scan()) == [1, 2, 3, 4, 5]
    stats = table.stats()
    assert (stats.rows, stats.data_files, stats.snapshots) == (5, 2, 2)
    assert stats.total_bytes > 0


def test_scan_columns_filter_limit(catalog: Catalog) -> None:
    table = make_table(catalog)
    table.append(rows([1, 2, 3], country="DE"))
    table.append(rows([7, 8], day=5, country="FR"))
    result = table.scan(columns=["country", "id"], filter="country = 'FR'")
    assert result.column_names == ["country", "id"]
    assert ids(result) == [7, 8]
    assert ids(table.scan(filter="ts >= '2024-01-05'")) == [7, 8]
    assert ids(table.scan(filter="ts < '2024-01-01 02:00'")) == [1, 2]
    assert ids(table.scan(filter="id in (1, 8) or id = 3")) == [1, 3, 8]
    assert table.scan(limit=2).num_rows == 2
    with pytest.raises(QueryError, match=r"'cuntry'.*did you mean 'country'"):
        table.scan(filter="cuntry = 'DE'")
    with pytest.raises(QueryError, match="invalid filter"):
        table.scan(filter="id = = 3")
    with pytest.raises(QueryError, match="'nme'"):
        table.scan(columns=["nme"])


def test_rows_are_read_in_the_order_they_were_added(catalog: Catalog) -> None:
    table = make_table(catalog, partition_by=("country",))
    table.append(rows([1, 2], country="DE"))
    table.append(rows([3, 4], country="FR"))
    table.append(pa.concat_tables([rows([5], country="FR"), rows([6], country="DE")]))
    table.append(rows([7, 8], country="DE"))
    assert table.scan().column("id").to_pylist() == [1, 2, 3, 4, 5, 6, 7, 8]
    assert table.scan(limit=3).column("id").to_pylist() == [1, 2, 3]
    assert table.scan(filter="country = 'DE'").column("id").to_pylist() == [1, 2, 6, 7, 8]
    first = table.snapshots()[1].snapshot_id  # time travel: the order of that snapshot's rows
    assert table.scan(snapshot_id=first).column("id").to_pylist() == [1, 2, 3, 4]


def test_time_travel_by_snapshot_and_timestamp(catalog: Catalog) -> None:
    table = make_table(catalog)
    first = table.append(rows([1, 2]))
    time.sleep(0.01)
    second = table.append(rows([3]))
    table.overwrite(rows([9]))

    assert ids(table.scan()) == [9]
    assert ids(table.scan(snapshot_id=first.snapshot_id)) == [1, 2]
    assert ids(table.scan(snapshot_id=second.snapshot_id)) == [1, 2, 3]
    assert ids(table.scan(as_of=first.timestamp)) == [1, 2]
    assert ids(table.scan(as_of=first.timestamp + timedelta(microseconds=500))) == [1, 2]
    naive_utc = second.timestamp.astimezone(UTC).replace(tzinfo=None)
    assert ids(table.scan(as_of=naive_utc)) == [1, 2, 3]
    assert table.snapshot_as_of(datetime.now(UTC) + timedelta(days=1)).total_rows == 1
    assert len(table.plan_files(snapshot_id=first.snapshot_id).files) == 1

    with pytest.raises(NotFoundError, match="no snapshot at or before"):
        table.scan(as_of=first.timestamp - timedelta(seconds=5))
    with pytest.raises(NotFoundError, match="no snapshot 12345"):
        table.scan(snapshot_id=12345)
    with pytest.raises(ConfigError, match="not both"):
        table.scan(snapshot_id=first.snapshot_id, as_of=first.timestamp)


def test_append_adds_new_columns(catalog: Catalog) -> None:
    table = make_table(catalog)
    first = table.append(rows([1]))
    more = rows([2]).append_column("score", pa.array([0.5], pa.float64()))
    table.append(more)
    assert table.schema.names == ["id", "ts", "country", "score"]
    result = table.scan().sort_by("id")
    assert result.column("score").to_pylist() == [None, 0.5]
    # Old snapshots keep their old schema.
    assert table.scan(snapshot_id=first.snapshot_id).schema == SCHEMA
    # Data lacking a column gets nulls there.
    table.append(pa.table({"id": pa.array([3], pa.int32())}))
    assert table.scan(filter="id = 3").column("country").to_pylist() == [None]


def test_append_widens_int32_to_int64(catalog: Catalog) -> None:
    table = make_table(catalog)
    table.append(rows([1]))
    big = pa.table({"id": pa.array([2**40], pa.int64()), "ts": [datetime(2024, 1, 2)]})
    table.append(big)
    assert table.schema.field("id").type == pa.int64()
    assert ids(table.scan()) == [1, 2**40]
    # Narrower data still fits the wider column.
    table.append(rows([7]))
    assert table.schema.field("id").type == pa.int64()
    assert table.stats().rows == 3


def test_incompatible_append_is_schema_error(catalog: Catalog) -> None:
    table = make_table(catalog)
    before = table.append(rows([1]))
    bad = pa.table({"id": ["not a number"], "country": ["DE"]})
    with pytest.raises(SchemaError, match=r"column 'id'.*int32.*string"):
        table.append(bad)
    with pytest.raises(SchemaError, match=r"'ID'.*differs only by case"):
        table.append(pa.table({"ID": pa.array([1], pa.int32())}))
    assert table.refresh().current_snapshot() == before
    assert table.schema == SCHEMA


def test_arrow_types_iceberg_lacks_are_converted(catalog: Catalog) -> None:
    schema = pa.schema(
        [
            ("ts", pa.timestamp("ns", tz="Europe/Berlin")),
            ("n", pa.uint32()),
            ("small", pa.int8()),
            ("text", pa.large_string()),
            ("nothing", pa.null()),
            ("tag", pa.dictionary(pa.int8(), pa.string())),
        ]
    )
    table = catalog.create_table("db.odd", schema)
    assert table.schema == pa.schema(
        [
            ("ts", pa.timestamp("us", tz="UTC")),
            ("n", pa.int64()),
            ("small", pa.int32()),
            ("text", pa.string()),
            ("nothing", pa.string()),
            ("tag", pa.string()),
        ]
    )
    ts = pa.array([1_700_000_000_123_456_789], pa.timestamp("ns", tz="Europe/Berlin"))
    data = pa.table(
        {
            "ts": ts,
            "n": pa.array([4_000_000_000], pa.uint32()),
            "small": pa.array([-3], pa.int8()),
            "text": pa.array(["x"], pa.large_string()),
            "nothing": pa.nulls(1),
            "tag": pa.array(["a"]).dictionary_encode(),
        }
    )
    table.append(data)
    row = table.scan().to_pylist()[0]
    assert row["n"] == 4_000_000_000
    assert row["small"] == -3
    assert row["tag"] == "a"
    assert row["nothing"] is None
    assert row["ts"] == datetime.fromtimestamp(1_700_000_000.123456, tz=UTC)


def test_evolve_schema(catalog: Catalog) -> None:
    table = make_table(catalog)
    first = table.append(rows([1]))
    table.evolve_schema(
        add=pa.schema([("label", pa.string())]),
        rename={"country": "region"},
        widen={"id": pa.int64()},
    )
    assert table.schema.names == ["id", "ts", "region", "label"]
    assert table.schema.field("id").type == pa.int64()
    assert table.scan().column("region").to_pylist() == ["DE"]
    table.evolve_schema(drop=["label"])
    assert "label" not in table.schema.names
    assert table.scan(snapshot_id=first.snapshot_id).column_names == ["id", "ts", "country"]
    with pytest.raises(SchemaError, match="'nope'"):
        table.evolve_schema(drop=["nope"])
    with pytest.raises(SchemaError, match="cannot change"):
        table.evolve_schema(widen={"region": pa.int64()})


def test_overwrite_with_filter(catalog: Catalog) -> None:
    table = make_table(catalog, partition_by=("day(ts)",))
    table.append(pa.concat_tables([rows([1, 2], day=1), rows([3, 4], day=2)]))
    snap = table.overwrite(rows([10], day=1), filter="ts < '2024-01-02'")
    assert ids(table.scan()) == [3, 4, 10]
    assert snap == table.current_snapshot()
    table.overwrite(rows([20], day=3))
    assert ids(table.scan()) == [20]


def test_plan_files_prunes_partitions(catalog: Catalog) -> None:
    table = make_table(catalog, partition_by=("day(ts)",))
    table.append(pa.concat_tables([rows([1, 2], day=1), rows([3], day=2), rows([4], day=3)]))
    everything = table.plan_files()
    assert len(everything.files) == 3
    assert everything.rows == 4
    assert not everything.has_deletes
    assert everything.schema == SCHEMA

    plan = table.plan_files(filter="ts >= '2024-01-02' and ts < '2024-01-03'")
    assert len(plan.files) == 1
    assert "ts_day=2024-01-02" in plan.files[0]
    assert plan.files[0].startswith("file://")
    assert plan.snapshot_id == table.current_snapshot().snapshot_id  # type: ignore[union-attr]
    day_two = pa.parquet.read_table(plan.files[0].removeprefix("file://"))
    assert day_two.column("id").to_pylist() == [3]


def test_concurrent_appends_all_land(open_catalog: Callable[[], Catalog]) -> None:
    setup = open_catalog()
    setup.create_database("db")
    setup.create_table("db.events", SCHEMA)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(first_id: int) -> None:
        try:
            table = open_catalog().load_table("db.events")
            assert isinstance(table, Table)
            barrier.wait()
            for n in range(2):
                table.append(rows([first_id + n]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(start,)) for start in (100, 200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    table = setup.load_table("db.events")
    assert isinstance(table, Table)
    assert ids(table.scan()) == [100, 101, 200, 201]
    assert len(table.snapshots()) == 4


def test_bad_write_input(catalog: Catalog) -> None:
    table = make_table(catalog)
    with pytest.raises(ConfigError, match="dict"):
        table.append({"id": [1]})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="string"):
        table.append(rows([1]), properties={"offset": 5})  # type: ignore[dict-item]
    reader = pa.RecordBatchReader.from_batches(SCHEMA, rows([5, 6]).to_batches())
    table.append(reader)
    assert ids(table.scan()) == [5, 6]
