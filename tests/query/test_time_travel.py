"""Time travel: FOR VERSION AS OF and FOR TIMESTAMP AS OF, rewritten for DuckDB."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from lakebed.catalog import Table
from lakebed.errors import NotFoundError, QueryError
from lakebed.query import QueryEngine


def test_version_as_of_reads_old_snapshot(engine: QueryEngine, orders: Table) -> None:
    first = orders.snapshots()[0].snapshot_id
    for dialect in ("trino", "athena"):
        result = engine.sql(
            f"SELECT count(*) AS n FROM shop.orders FOR VERSION AS OF {first}", dialect=dialect
        )
        assert result.to_pylist() == [{"n": 5}]
    spark = engine.sql(
        f"SELECT count(*) AS n FROM shop.orders VERSION AS OF {first}", dialect="spark"
    )
    assert spark.to_pylist() == [{"n": 5}]
    assert engine.sql("SELECT count(*) AS n FROM shop.orders").to_pylist() == [{"n": 15}]


def test_current_and_old_snapshot_in_one_query(engine: QueryEngine, orders: Table) -> None:
    second = orders.snapshots()[1].snapshot_id
    result = engine.sql(
        "SELECT (SELECT count(*) FROM shop.orders) AS now, "
        f"(SELECT count(*) FROM shop.orders FOR VERSION AS OF {second} AS o) AS then",
        dialect="trino",
    )
    assert result.to_pylist() == [{"now": 15, "then": 10}]


def test_timestamp_as_of(engine: QueryEngine, orders: Table) -> None:
    time.sleep(0.01)
    snaps = orders.snapshots()
    # Midway between the first and second commits: only the first is visible.
    midpoint = snaps[0].timestamp + (snaps[1].timestamp - snaps[0].timestamp) / 2
    if midpoint == snaps[0].timestamp:
        midpoint = snaps[0].timestamp
    text = midpoint.strftime("%Y-%m-%d %H:%M:%S.%f")
    result = engine.sql(
        f"SELECT count(*) AS n FROM shop.orders FOR TIMESTAMP AS OF TIMESTAMP '{text}'",
        dialect="athena",
    )
    expected = 5 if snaps[1].timestamp > midpoint else 10
    assert result.to_pylist() == [{"n": expected}]
    latest = (snaps[-1].timestamp + timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
    result = engine.sql(
        f"SELECT count(*) AS n FROM shop.orders FOR TIMESTAMP AS OF TIMESTAMP '{latest} UTC'",
        dialect="trino",
    )
    assert result.to_pylist() == [{"n": 15}]


def test_timestamp_before_first_snapshot(engine: QueryEngine, orders: Table) -> None:
    with pytest.raises(NotFoundError, match="no snapshot at or before"):
        engine.sql(
            "SELECT * FROM shop.orders FOR TIMESTAMP AS OF TIMESTAMP '2000-01-01 00:00:00'",
            dialect="trino",
        )


def test_unknown_snapshot_id(engine: QueryEngine, orders: Table) -> None:
    with pytest.raises(NotFoundError, match="no snapshot 42"):
        engine.sql("SELECT * FROM shop.orders FOR VERSION AS OF 42", dialect="trino")


def test_bad_version_value(engine: QueryEngine, orders: Table) -> None:
    with pytest.raises(QueryError, match="not an integer"):
        engine.sql("SELECT * FROM shop.orders FOR VERSION AS OF 'abc'", dialect="trino")


def test_old_snapshot_after_schema_evolution(engine: QueryEngine, orders: Table) -> None:
    import pyarrow as pa

    first = orders.snapshots()[0].snapshot_id
    orders.evolve_schema(rename={"amount": "total"})
    orders.append(
        pa.table(
            {"order_id": [100], "country": ["DE"], "total": [1.5], "ts": [None]},
            schema=orders.schema,
        )
    )
    now = engine.sql("SELECT sum(total) AS s, count(*) AS n FROM shop.orders")
    assert now.to_pylist() == [{"s": 121.5, "n": 16}]
    old = engine.sql(
        f"SELECT sum(amount) AS s FROM shop.orders FOR VERSION AS OF {first}", dialect="trino"
    )
    assert old.to_pylist() == [{"s": 15.0}]
