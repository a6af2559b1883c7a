"""Fixtures for the query tests: a real SQLite catalog in a temporary folder, a real DuckDB."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from lakebed.catalog import Catalog, Table
from lakebed.query import QueryEngine

ORDERS_SCHEMA = pa.schema(
    [
        pa.field("order_id", pa.int64()),
        pa.field("country", pa.string()),
        pa.field("amount", pa.float64()),
        pa.field("ts", pa.timestamp("us")),
    ]
)


def orders_batch(start: int, country: str, n: int = 5) -> pa.Table:
    """``n`` orders from ``country`` with ids from ``start``."""
    return pa.table(
        {
            "order_id": list(range(start, start + n)),
            "country": [country] * n,
            "amount": [float(i) for i in range(start, start + n)],
            "ts": [datetime(2024, 1, 1 + (i % 28), 12, 0) for i in range(start, start + n)],
        },
        schema=ORDERS_SCHEMA,
    )


@pytest.fixture()
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(f"sqlite:///{tmp_path}/catalog.db", f"file://{tmp_path}/warehouse")
    cat.create_database("shop")
    return cat


@pytest.fixture()
def engine(catalog: Catalog) -> QueryEngine:
    return QueryEngine(catalog, threads=2)


@pytest.fixture()
def orders(catalog: Catalog) -> Table:
    """shop.orders partitioned by country, three appends (DE, FR, US), 15 rows."""
    table = catalog.create_table("shop.orders", ORDERS_SCHEMA, partition_by=["country"])
    for start, country in ((1, "DE"), (6, "FR"), (11, "US")):
        table.append(orders_batch(start, country))
    return table


@pytest.fixture()
def customers(catalog: Catalog) -> Table:
    schema = pa.schema([pa.field("country", pa.string()), pa.field("name", pa.string())])
    table = catalog.create_table("shop.countries", schema)
    table.append(
        pa.table({"country": ["DE", "FR", "US"], "name": ["Germany", "France", "USA"]}, schema)
    )
    return table


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
