"""Partition pruning: WHERE predicates become the catalog's filter and fewer files are read."""

from __future__ import annotations

import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from lakebed.catalog import Catalog, Table
from lakebed.query import QueryEngine
from lakebed.query.pushdown import pushdown_filter

from .conftest import ORDERS_SCHEMA


def test_where_on_partition_column_prunes_files(engine: QueryEngine, orders: Table) -> None:
    everything = engine.explain("SELECT * FROM shop.orders")
    assert len(everything) == 1 and len(everything[0].files) == 3
    assert everything[0].method == "read_parquet"

    pruned = engine.explain("SELECT * FROM shop.orders WHERE country = 'FR' AND amount > 0")
    assert pruned[0].filter == '"country" = \'FR\' and "amount" > 0.0'
    assert len(pruned[0].files) == 1
    assert "country=FR" in pruned[0].files[0]
    result = engine.sql("SELECT count(*) AS n FROM shop.orders WHERE country = 'FR' AND amount > 0")
    assert result.to_pylist() == [{"n": 5}]


def test_in_and_between_prune(engine: QueryEngine, orders: Table) -> None:
    plan = engine.explain("SELECT * FROM shop.orders WHERE country IN ('DE', 'US')")
    assert len(plan[0].files) == 2
    plan = engine.explain("SELECT * FROM shop.orders WHERE order_id BETWEEN 6 AND 8")
    assert len(plan[0].files) == 1  # column statistics prune the DE and US files
    rows = engine.sql("SELECT order_id FROM shop.orders WHERE order_id BETWEEN 6 AND 8 ORDER BY 1")
    assert rows.column("order_id").to_pylist() == [6, 7, 8]


def test_join_prunes_each_side_by_its_own_predicates(
    engine: QueryEngine, orders: Table, customers: Table
) -> None:
    plans = engine.explain(
        "SELECT * FROM shop.orders o JOIN shop.countries c ON o.country = c.country "
        "WHERE o.country = 'US' AND c.name = 'USA'"
    )
    assert [p.filter for p in plans] == ["\"country\" = 'US'", "\"name\" = 'USA'"]
    assert len(plans[0].files) == 1


def test_or_is_not_pushed_and_results_stay_right(engine: QueryEngine, orders: Table) -> None:
    query = "SELECT count(*) AS n FROM shop.orders WHERE country = 'FR' OR amount < 2"
    assert engine.explain(query)[0].filter is None
    assert engine.sql(query).to_pylist() == [{"n": 6}]


def test_timestamp_literal_pushdown(engine: QueryEngine, orders: Table) -> None:
    query = "SELECT count(*) AS n FROM shop.orders WHERE ts >= TIMESTAMP '2024-01-12 00:00:00'"
    plan = engine.explain(query, dialect="athena")
    assert plan[0].filter == "\"ts\" >= '2024-01-12T00:00:00'"
    assert len(plan[0].files) == 1  # only the US orders are from the 12th on
    assert engine.sql(query, dialect="athena").to_pylist() == [{"n": 5}]


def test_case_insensitive_column_names(engine: QueryEngine, orders: Table) -> None:
    plan = engine.explain("SELECT * FROM shop.orders WHERE COUNTRY = 'DE'")
    assert len(plan[0].files) == 1


def _filter(sql: str, schema: pa.Schema = ORDERS_SCHEMA) -> str | None:
    tree = sqlglot.parse_one(sql, read="duckdb")
    table = next(t for t in tree.find_all(exp.Table) if t.name == "orders")
    return pushdown_filter(table, schema)


@pytest.mark.parametrize(
    "sql",
    [
        # unqualified column with a join: might belong to the other table
        "SELECT * FROM shop.orders JOIN other.t ON true WHERE country = 'DE'",
        # a column of another table
        "SELECT * FROM shop.orders o JOIN other.t x ON true WHERE x.country = 'DE'",
        # the predicate is in an outer query, the table in a subquery
        "SELECT * FROM (SELECT * FROM shop.orders) s WHERE country = 'DE'",
        # a lossy literal for an integer column
        "SELECT * FROM shop.orders WHERE order_id < 1.5",
        # a string compared to a number column
        "SELECT * FROM shop.orders WHERE amount = 'x'",
        # functions, NOT and IS NULL are left to DuckDB
        "SELECT * FROM shop.orders WHERE lower(country) = 'de'",
        "SELECT * FROM shop.orders WHERE NOT country = 'DE'",
        "SELECT * FROM shop.orders WHERE country IS NULL",
        "SELECT * FROM shop.orders WHERE country IN (SELECT c FROM other.t)",
        "SELECT * FROM shop.orders WHERE country = other_column",
    ],
)
def test_unsure_predicates_are_not_pushed(sql: str) -> None:
    assert _filter(sql) is None


def test_pushed_literals_are_exact() -> None:
    assert _filter("SELECT * FROM shop.orders WHERE 3 < order_id") == '"order_id" > 3'
    assert _filter("SELECT * FROM shop.orders WHERE amount >= -2") == '"amount" >= -2.0'
    assert (
        _filter("SELECT * FROM shop.orders WHERE country = 'O''Neil'") == "\"country\" = 'O''Neil'"
    )
    assert (
        _filter("SELECT * FROM shop.orders WHERE ts < '2024-02-01'")
        == "\"ts\" < '2024-02-01T00:00:00'"
    )


def test_filter_the_catalog_cannot_use_is_dropped(catalog: Catalog, engine: QueryEngine) -> None:
    schema = pa.schema([pa.field("d", pa.date32()), pa.field("v", pa.int64())])
    table = catalog.create_table("shop.days", schema, partition_by=["d"])
    import datetime as dt

    table.append(pa.table({"d": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)], "v": [1, 2]}, schema))
    result = engine.sql("SELECT v FROM shop.days WHERE d = DATE '2024-01-02'")
    assert result.to_pylist() == [{"v": 2}]
    assert len(engine.explain("SELECT v FROM shop.days WHERE d = DATE '2024-01-02'")[0].files) == 1
