"""SELECT over Iceberg tables: projections, aggregates, joins, dialects and errors."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lakebed.catalog import Catalog, Table
from lakebed.errors import NotFoundError, QueryError
from lakebed.query import QueryEngine


def test_select_filter_and_order(engine: QueryEngine, orders: Table) -> None:
    result = engine.sql(
        "SELECT order_id, amount FROM shop.orders WHERE country = 'FR' ORDER BY order_id"
    )
    assert isinstance(result, pa.Table)
    assert result.column_names == ["order_id", "amount"]
    assert result.column("order_id").to_pylist() == [6, 7, 8, 9, 10]


def test_aggregate_group_by(engine: QueryEngine, orders: Table) -> None:
    result = engine.sql(
        "SELECT country, count(*) AS n, sum(amount) AS total FROM shop.orders "
        "GROUP BY country ORDER BY country"
    )
    assert result.to_pylist() == [
        {"country": "DE", "n": 5, "total": 15.0},
        {"country": "FR", "n": 5, "total": 40.0},
        {"country": "US", "n": 5, "total": 65.0},
    ]


def test_join_two_tables_with_aliases(engine: QueryEngine, orders: Table, customers: Table) -> None:
    result = engine.sql(
        "SELECT c.name, count(*) AS n FROM shop.orders o JOIN shop.countries c "
        "ON o.country = c.country WHERE o.amount > 12 GROUP BY c.name ORDER BY c.name"
    )
    assert result.to_pylist() == [{"name": "USA", "n": 3}]


def test_qualified_column_names_without_alias(engine: QueryEngine, orders: Table) -> None:
    result = engine.sql(
        "SELECT shop.orders.order_id, orders.country FROM shop.orders WHERE orders.order_id = 3"
    )
    assert result.to_pylist() == [{"order_id": 3, "country": "DE"}]


def test_cte_and_subquery(engine: QueryEngine, orders: Table) -> None:
    result = engine.sql(
        "WITH big AS (SELECT * FROM shop.orders WHERE amount >= 10) "
        "SELECT count(*) AS n FROM big WHERE order_id IN (SELECT order_id FROM shop.orders "
        "WHERE country = 'US')"
    )
    assert result.to_pylist() == [{"n": 5}]


def test_self_join_reads_each_reference(engine: QueryEngine, orders: Table) -> None:
    result = engine.sql(
        "SELECT a.order_id FROM shop.orders a JOIN shop.orders b ON a.order_id = b.order_id + 1 "
        "WHERE b.country = 'DE' ORDER BY 1"
    )
    assert result.column("order_id").to_pylist() == [2, 3, 4, 5, 6]


def test_empty_table_has_its_columns(engine: QueryEngine, catalog: Catalog) -> None:
    schema = pa.schema([pa.field("id", pa.int64()), pa.field("label", pa.string())])
    catalog.create_table("shop.empty", schema)
    result = engine.sql("SELECT * FROM shop.empty")
    assert result.num_rows == 0
    assert result.column_names == ["id", "label"]
    assert result.schema.field("id").type == pa.int64()
    assert engine.sql("SELECT count(*) AS n FROM shop.empty").to_pylist() == [{"n": 0}]


def test_athena_functions_are_translated(engine: QueryEngine, orders: Table) -> None:
    result = engine.sql(
        "SELECT approx_distinct(country) AS countries, "
        "cardinality(ARRAY[1, 2, 3]) AS three, "
        "date_parse('2024-03-05', '%Y-%m-%d') AS parsed, "
        "date_format(min(ts), '%Y-%m') AS month "
        "FROM shop.orders",
        dialect="athena",
    )
    row = result.to_pylist()[0]
    assert row["countries"] == 3
    assert row["three"] == 3
    assert row["parsed"].isoformat().startswith("2024-03-05")
    assert row["month"] == "2024-01"


def test_trino_and_spark_dialects(engine: QueryEngine, orders: Table) -> None:
    trino = engine.sql(
        "SELECT element_at(ARRAY['a', 'b'], 2) AS x, count_if(amount > 10) AS n FROM shop.orders",
        dialect="trino",
    )
    assert trino.to_pylist() == [{"x": "b", "n": 5}]
    spark = engine.sql(
        "SELECT `country`, size(array(1, 2)) AS two FROM shop.orders WHERE order_id = 1",
        dialect="spark",
    )
    assert spark.to_pylist() == [{"country": "DE", "two": 2}]


def test_duckdb_table_function_still_allowed(engine: QueryEngine) -> None:
    assert engine.sql("SELECT sum(range) AS s FROM range(5)").to_pylist() == [{"s": 10}]


def test_explain_tables_lists_reads(engine: QueryEngine, orders: Table, customers: Table) -> None:
    query = (
        "INSERT INTO shop.orders SELECT o.* FROM shop.orders o "
        "JOIN shop.countries c USING (country) JOIN shop.orders p ON p.order_id = o.order_id"
    )
    assert engine.explain_tables(query) == ["shop.orders", "shop.countries"]


def test_invalid_sql_names_position(engine: QueryEngine) -> None:
    with pytest.raises(QueryError) as err:
        engine.sql("SELECT FROM WHERE (")
    assert "line 1" in str(err.value)
    assert "column" in str(err.value)


def test_unknown_table_lists_tables(engine: QueryEngine, orders: Table) -> None:
    with pytest.raises(NotFoundError) as err:
        engine.sql("SELECT * FROM shop.ordrs")
    message = str(err.value)
    assert "shop.ordrs" in message
    assert "shop.orders" in message


def test_unknown_database(engine: QueryEngine) -> None:
    with pytest.raises(NotFoundError, match="database 'nope' does not exist"):
        engine.sql("SELECT * FROM nope.t")


def test_unqualified_table_is_explained(engine: QueryEngine, orders: Table) -> None:
    with pytest.raises(NotFoundError, match="not qualified"):
        engine.sql("SELECT * FROM orders")


def test_unknown_column_error_names_table(engine: QueryEngine, orders: Table) -> None:
    with pytest.raises(QueryError) as err:
        engine.sql("SELECT nosuch FROM shop.orders")
    assert "nosuch" in str(err.value)
    assert "__lakebed_" not in str(err.value)


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TABLE shop.orders",
        "CREATE TABLE shop.t (a INT)",
        "ATTACH 'other.db' AS other",
        "COPY (SELECT 1) TO 'out.csv'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET threads = 1",
        "PRAGMA version",
        "DELETE FROM shop.orders",
        "CREATE VIEW shop.v AS SELECT 1",
    ],
)
def test_statements_that_change_duckdb_are_rejected(
    engine: QueryEngine, orders: Table, statement: str
) -> None:
    with pytest.raises(QueryError, match=r"CREATE TABLE \.\.\. AS SELECT"):
        engine.sql(statement)
    assert engine.sql("SELECT count(*) AS n FROM shop.orders").to_pylist() == [{"n": 15}]


def test_several_statements_rejected(engine: QueryEngine) -> None:
    with pytest.raises(QueryError, match="one SQL statement"):
        engine.sql("SELECT 1; SELECT 2")


def test_unknown_dialect(engine: QueryEngine) -> None:
    with pytest.raises(QueryError, match="unknown SQL dialect"):
        engine.sql("SELECT 1", dialect="oracle9")


def test_python_variables_are_not_tables(engine: QueryEngine) -> None:
    with pytest.raises((QueryError, NotFoundError)):
        engine.sql('SELECT * FROM "con"')


def test_concurrent_queries_from_threads(engine: QueryEngine, orders: Table) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def count(country: str) -> int:
        result = engine.sql(f"SELECT count(*) AS n FROM shop.orders WHERE country = '{country}'")
        return int(result.column("n")[0].as_py())

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(count, ["DE", "FR", "US", "XX"] * 3))
    assert counts == [5, 5, 5, 0] * 3


def test_bad_memory_limit(catalog: Catalog) -> None:
    with pytest.raises(QueryError, match="memory_limit"):
        QueryEngine(catalog, memory_limit="lots").sql("SELECT 1")
