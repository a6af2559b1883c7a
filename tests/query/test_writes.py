"""CREATE TABLE AS SELECT and INSERT INTO: one Iceberg snapshot each, readable right away."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lakebed.catalog import Catalog, Table
from lakebed.errors import AlreadyExistsError, QueryError, SchemaError
from lakebed.query import QueryEngine


def test_ctas_creates_a_table_with_one_snapshot(
    engine: QueryEngine, catalog: Catalog, orders: Table
) -> None:
    result = engine.sql(
        "CREATE TABLE shop.totals AS SELECT country, sum(amount) AS total, count(*) AS n "
        "FROM shop.orders GROUP BY country"
    )
    row = result.to_pylist()[0]
    assert row["table"] == "shop.totals" and row["rows_written"] == 3
    table = catalog.load_table("shop.totals")
    assert isinstance(table, Table)
    assert [s.snapshot_id for s in table.snapshots()] == [row["snapshot_id"]]
    assert table.schema.field("n").type == pa.int64()
    back = engine.sql("SELECT country, total FROM shop.totals ORDER BY country")
    assert back.to_pylist()[0] == {"country": "DE", "total": 15.0}


def test_ctas_athena_partitioned_by(engine: QueryEngine, catalog: Catalog, orders: Table) -> None:
    engine.sql(
        "CREATE TABLE shop.by_country WITH (format = 'PARQUET', partitioned_by = ARRAY['country']) "
        "AS SELECT order_id, amount, country FROM shop.orders",
        dialect="athena",
    )
    table = catalog.load_table("shop.by_country")
    assert isinstance(table, Table)
    assert table.partition_by == ["country"]
    assert len(table.plan_files().files) == 3
    plan = engine.explain("SELECT * FROM shop.by_country WHERE country = 'US'")
    assert len(plan[0].files) == 1


def test_ctas_trino_partitioning_transforms(
    engine: QueryEngine, catalog: Catalog, orders: Table
) -> None:
    engine.sql(
        "CREATE TABLE shop.by_day WITH (partitioning = ARRAY['day(ts)', 'bucket(order_id, 4)']) "
        "AS SELECT * FROM shop.orders",
        dialect="trino",
    )
    table = catalog.load_table("shop.by_day")
    assert isinstance(table, Table)
    assert table.partition_by == ["day(ts)", "bucket(4, order_id)"]


def test_ctas_existing_table(engine: QueryEngine, orders: Table) -> None:
    with pytest.raises(AlreadyExistsError, match=r"shop\.orders already exists"):
        engine.sql("CREATE TABLE shop.orders AS SELECT 1 AS x")
    result = engine.sql("CREATE TABLE IF NOT EXISTS shop.orders AS SELECT 1 AS x")
    assert result.to_pylist()[0]["rows_written"] == 0
    assert len(orders.refresh().snapshots()) == 3


def test_ctas_unsupported_property(engine: QueryEngine, orders: Table) -> None:
    with pytest.raises(QueryError, match="not supported"):
        engine.sql(
            "CREATE TABLE shop.x WITH (format = 'ORC') AS SELECT * FROM shop.orders",
            dialect="athena",
        )


def test_ctas_null_column_needs_a_type(engine: QueryEngine, catalog: Catalog) -> None:
    with pytest.raises(QueryError, match="only NULLs"):
        engine.sql("CREATE TABLE shop.x AS SELECT 1 AS a, NULL AS b")
    assert not catalog.table_exists("shop.x")


def test_insert_select_adds_one_snapshot(engine: QueryEngine, orders: Table) -> None:
    result = engine.sql(
        "INSERT INTO shop.orders SELECT order_id + 100, country, amount, ts FROM shop.orders "
        "WHERE country = 'DE'"
    )
    row = result.to_pylist()[0]
    assert row["rows_written"] == 5
    snapshots = orders.refresh().snapshots()
    assert len(snapshots) == 4 and snapshots[-1].snapshot_id == row["snapshot_id"]
    assert engine.sql("SELECT count(*) AS n FROM shop.orders").to_pylist() == [{"n": 20}]


def test_insert_with_column_list_and_values(engine: QueryEngine, orders: Table) -> None:
    engine.sql("INSERT INTO shop.orders (country, order_id) VALUES ('NL', 500), ('NL', 501)")
    rows = engine.sql(
        "SELECT order_id, amount FROM shop.orders WHERE country = 'NL' ORDER BY order_id"
    )
    assert rows.to_pylist() == [
        {"order_id": 500, "amount": None},
        {"order_id": 501, "amount": None},
    ]


def test_insert_wrong_column_count(engine: QueryEngine, orders: Table) -> None:
    with pytest.raises(QueryError, match="gives 2 columns; the table has 4"):
        engine.sql("INSERT INTO shop.orders SELECT 1, 'x'")


def test_insert_unknown_column(engine: QueryEngine, orders: Table) -> None:
    with pytest.raises(SchemaError, match="no column 'nope'"):
        engine.sql("INSERT INTO shop.orders (order_id, nope) VALUES (1, 2)")


def test_insert_overwrite(engine: QueryEngine, orders: Table) -> None:
    engine.sql(
        "INSERT OVERWRITE TABLE shop.orders SELECT * FROM shop.orders WHERE country = 'US'",
        dialect="spark",
    )
    assert engine.sql("SELECT count(*) AS n FROM shop.orders").to_pylist() == [{"n": 5}]
