"""Crawled external tables whose partitions come from plain folders, key=value folders, and
partition columns renamed because a data column has the same name."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from lakebed import formats
from lakebed.catalog import Catalog
from lakebed.crawl import Crawler
from lakebed.query import QueryEngine
from lakebed.query.partition_paths import partition_layout
from lakebed.storage import open_store


def _jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def _text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture()
def crawled(tmp_path: Path, catalog: Catalog) -> Catalog:
    """Four tables crawled from ``<tmp>/lake/raw`` into database ``web``."""
    raw = tmp_path / "lake" / "raw"
    # Plain year/month/day folders: partition_0, partition_1, partition_2.
    _jsonl(raw / "clickstream/2026/11/01/events.jsonl", [{"user": 1, "page": "/a"}])
    _jsonl(
        raw / "clickstream/2026/11/02/events.jsonl",
        [{"user": 2, "page": "/b"}, {"user": 3, "page": "/c"}],
    )
    _jsonl(raw / "clickstream/2026/12/01/events.jsonl", [{"user": 4, "page": "/d"}])
    # day=N folders while the rows have a column `day` too: the partition is `day_part`.
    _text(raw / "sales/day=1/sales.csv", "order_id,day,amount\n1,mon,10\n2,mon,20\n")
    _text(raw / "sales/day=2/sales.csv", "order_id,day,amount\n3,tue,30\n")
    # key=value above a plain folder, in the order the catalog does not keep (region < year).
    _jsonl(raw / "orders/year=2025/eu/o.jsonl", [{"id": 1}])
    _jsonl(raw / "orders/year=2026/us/o.jsonl", [{"id": 2}, {"id": 3}])
    # Avro in plain folders: read through lakebed.formats instead of DuckDB.
    for folder, ids in (("2024", [1, 2]), ("2025", [3])):
        target = raw / "users" / folder / "users.avro"
        target.parent.mkdir(parents=True)
        formats.write(pa.table({"id": ids, "name": [f"u{i}" for i in ids]}), target, "avro")
    report = Crawler(catalog).crawl(open_store(tmp_path / "lake"), "raw", database="web")
    assert not report.skipped
    return catalog


def test_plain_folders_give_typed_partition_columns(crawled: Catalog, engine: QueryEngine) -> None:
    table = crawled.load_table("web.clickstream")
    assert table.partition_columns == {
        "partition_0": "int64",
        "partition_1": "int64",
        "partition_2": "int64",
    }
    result = engine.sql(
        "SELECT user, partition_0, partition_1, partition_2 FROM web.clickstream ORDER BY user"
    )
    assert result.to_pylist() == [
        {"user": 1, "partition_0": 2026, "partition_1": 11, "partition_2": 1},
        {"user": 2, "partition_0": 2026, "partition_1": 11, "partition_2": 2},
        {"user": 3, "partition_0": 2026, "partition_1": 11, "partition_2": 2},
        {"user": 4, "partition_0": 2026, "partition_1": 12, "partition_2": 1},
    ]
    assert result.schema.field("partition_1").type == pa.int64()
    assert engine.explain("SELECT * FROM web.clickstream")[0].method == "read_json"
    counts = engine.sql(
        "SELECT partition_1 AS month, count(*) AS n FROM web.clickstream "
        "WHERE partition_0 = 2026 GROUP BY 1 ORDER BY 1"
    )
    assert counts.to_pylist() == [{"month": 11, "n": 3}, {"month": 12, "n": 1}]


def test_renamed_partition_column_keeps_the_data_column(
    crawled: Catalog, engine: QueryEngine
) -> None:
    table = crawled.load_table("web.sales")
    assert table.partition_columns == {"day_part": "int64"}
    result = engine.sql("SELECT order_id, day, day_part FROM web.sales ORDER BY order_id")
    assert result.to_pylist() == [
        {"order_id": 1, "day": "mon", "day_part": 1},
        {"order_id": 2, "day": "mon", "day_part": 1},
        {"order_id": 3, "day": "tue", "day_part": 2},
    ]
    assert engine.explain("SELECT * FROM web.sales")[0].method == "read_csv"


def test_key_value_and_plain_levels_in_one_path(crawled: Catalog, engine: QueryEngine) -> None:
    table = crawled.load_table("web.orders")
    assert set(table.partition_columns) == {"year", "partition_1"}
    result = engine.sql("SELECT id, year, partition_1 FROM web.orders ORDER BY id")
    assert result.to_pylist() == [
        {"id": 1, "year": 2025, "partition_1": "eu"},
        {"id": 2, "year": 2026, "partition_1": "us"},
        {"id": 3, "year": 2026, "partition_1": "us"},
    ]


def test_plain_folder_partitions_through_lakebed_formats(
    crawled: Catalog, engine: QueryEngine
) -> None:
    result = engine.sql("SELECT name, partition_0 FROM web.users ORDER BY id")
    assert result.to_pylist() == [
        {"name": "u1", "partition_0": 2024},
        {"name": "u2", "partition_0": 2024},
        {"name": "u3", "partition_0": 2025},
    ]
    assert engine.explain("SELECT * FROM web.users")[0].method == "formats"


def test_hand_registered_table_with_partition_folder_deeper_than_its_location(
    catalog: Catalog, engine: QueryEngine, tmp_path: Path
) -> None:
    path = tmp_path / "ext" / "data" / "country=DE" / "part.csv"
    _text(path, "id\n1\n")
    catalog.create_database("raw")
    catalog.register_external_table(
        "raw.deep",
        location=(tmp_path / "ext").as_uri(),
        format="csv",
        schema=pa.schema([pa.field("id", pa.int64())]),
        files=[path.as_uri()],
        partition_columns={"country": "string"},
    )
    assert engine.sql("SELECT id, country FROM raw.deep").to_pylist() == [
        {"id": 1, "country": "DE"}
    ]


def test_layout_values_nulls_and_values_of_the_wrong_type() -> None:
    fields = [pa.field("date", pa.date32()), pa.field("partition_1", pa.int64())]
    layout = partition_layout(
        "s3://bucket/t",
        fields,
        ["s3://bucket/t/date=2024-01-05/7/a", "s3://bucket/t/date=__HIVE_DEFAULT_PARTITION__/x/b"],
    )
    assert layout.levels == (0, 1)
    dates, numbers = layout.columns(
        ["s3://bucket/t/date=2024-01-05/7/a", "s3://bucket/t/date=__HIVE_DEFAULT_PARTITION__/x/b"]
    )
    assert dates.to_pylist() == [date(2024, 1, 5), None]
    assert numbers.to_pylist() == [7, None]
