"""What the per-query savings must not change: fresh snapshots on every call, repeated query
texts, tables read more than once, and tables whose schema changed."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakebed.catalog import Catalog, ExternalTable, Table
from lakebed.query import QueryEngine

from .conftest import orders_batch


class CountingCatalog(Catalog):
    """A real catalog that counts the table loads a query makes."""

    loads: int = 0

    def load_table(self, ident: str) -> Table | ExternalTable:
        self.loads += 1
        return super().load_table(ident)


def test_a_new_commit_is_seen_by_the_next_query(engine: QueryEngine, orders: Table) -> None:
    query = "SELECT count(*) AS n, max(order_id) AS top FROM shop.orders WHERE country = 'DE'"
    assert engine.sql(query).to_pylist() == [{"n": 5, "top": 5}]
    orders.append(orders_batch(100, "DE", n=2))
    assert engine.sql(query).to_pylist() == [{"n": 7, "top": 101}]


def test_the_same_text_runs_again_and_in_other_dialects(engine: QueryEngine, orders: Table) -> None:
    query = "SELECT country, count(*) AS n FROM shop.orders GROUP BY country ORDER BY country"
    first = engine.sql(query)
    assert engine.sql(query) == first
    assert engine.sql(query, dialect="trino") == first
    assert engine.explain(query)[0].ident == "shop.orders"


def test_a_table_read_twice_is_loaded_and_planned_once(tmp_path: Path, orders: Table) -> None:
    catalog = CountingCatalog(f"sqlite:///{tmp_path}/catalog.db", f"file://{tmp_path}/warehouse")
    engine = QueryEngine(catalog, threads=1)
    query = (
        "SELECT count(*) AS n FROM shop.orders a JOIN shop.orders b ON a.order_id = b.order_id "
        "WHERE a.country = 'FR' AND b.country = 'FR'"
    )
    assert engine.sql(query).to_pylist() == [{"n": 5}]
    assert catalog.loads == 1
    first, second = engine.explain(query)
    assert first.snapshot_id == second.snapshot_id
    assert first.files == second.files and len(first.files) == 1  # pruned to FR


def test_renamed_column_still_reads_old_files_by_field_id(
    engine: QueryEngine, orders: Table
) -> None:
    orders.evolve_schema(rename={"amount": "total"})
    result = engine.sql("SELECT sum(total) AS s FROM shop.orders WHERE order_id <= 5")
    assert result.to_pylist() == [{"s": 15.0}]


def test_user_ctes_and_lake_tables_together(engine: QueryEngine, orders: Table) -> None:
    result = engine.sql(
        "WITH de AS (SELECT * FROM shop.orders WHERE country = 'DE'), "
        "big AS (SELECT * FROM de WHERE amount > 2) "
        "SELECT count(*) AS n FROM big UNION ALL SELECT count(*) FROM shop.orders"
    )
    assert sorted(result.column("n").to_pylist()) == [3, 15]


def test_external_parquet_in_place(catalog: Catalog, engine: QueryEngine, tmp_path: Path) -> None:
    path = tmp_path / "ext" / "2024" / "a.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.table({"id": [1, 2]}), path)
    catalog.create_database("raw")
    catalog.register_external_table(
        "raw.p",
        location=(tmp_path / "ext").as_uri(),
        format="parquet",
        schema=pa.schema([pa.field("id", pa.int64())]),
        files=[path.as_uri()],
        partition_columns={"partition_0": "int64"},
    )
    result = engine.sql("SELECT sum(id) AS s, min(partition_0) AS y FROM raw.p")
    assert result.to_pylist() == [{"s": 3, "y": 2024}]
    assert engine.explain("SELECT * FROM raw.p")[0].method == "read_parquet"


def test_plans_of_unchanged_snapshots_are_reused_across_queries(
    engine: QueryEngine, orders: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int | None] = []
    plan_files = Table.plan_files

    def counting(self: Table, **kwargs: object) -> object:
        calls.append(1)
        return plan_files(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Table, "plan_files", counting)
    query = "SELECT count(*) AS n FROM shop.orders WHERE country = 'DE'"
    assert engine.sql(query).to_pylist() == [{"n": 5}]
    assert engine.sql(query).to_pylist() == [{"n": 5}]
    assert len(calls) == 1  # the second query reused the plan of the same snapshot
    orders.append(orders_batch(200, "DE", n=1))
    assert engine.sql(query).to_pylist() == [{"n": 6}]
    assert len(calls) == 2  # a new snapshot is planned afresh
