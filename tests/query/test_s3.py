"""SQL over a lake in an S3-compatible store (moto in server mode): pyarrow datasets, not httpfs."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from tests.servers.s3 import S3Endpoint

from lakebed.catalog import Catalog, s3_io_properties
from lakebed.query import QueryEngine
from lakebed.storage.s3 import S3Store

pytestmark = pytest.mark.s3


@pytest.fixture()
def s3_lake(moto_s3: S3Endpoint, tmp_path: Path) -> tuple[Catalog, QueryEngine, S3Store]:
    bucket = moto_s3.create_bucket("query")
    store = S3Store(f"s3://{bucket}/lake", moto_s3.s3_config())
    io = s3_io_properties(moto_s3.s3_config())
    catalog = Catalog(
        f"sqlite:///{tmp_path}/c.db", f"s3://{bucket}/lake/warehouse", io_properties=io
    )
    catalog.create_database("shop")
    return catalog, QueryEngine(catalog, filesystem=store.arrow_filesystem()), store


def test_iceberg_table_on_s3(s3_lake: tuple[Catalog, QueryEngine, S3Store]) -> None:
    catalog, engine, _ = s3_lake
    schema = pa.schema([pa.field("k", pa.string()), pa.field("v", pa.int64())])
    table = catalog.create_table("shop.kv", schema, partition_by=["k"])
    table.append(pa.table({"k": ["a", "a", "b"], "v": [1, 2, 3]}, schema))
    table.append(pa.table({"k": ["c"], "v": [4]}, schema))
    result = engine.sql("SELECT k, sum(v) AS s FROM shop.kv GROUP BY k ORDER BY k")
    assert result.to_pylist() == [{"k": "a", "s": 3}, {"k": "b", "s": 3}, {"k": "c", "s": 4}]
    plan = engine.explain("SELECT * FROM shop.kv WHERE k = 'b'")
    assert plan[0].method == "arrow_dataset" and len(plan[0].files) == 1
    engine.sql("CREATE TABLE shop.kv2 AS SELECT * FROM shop.kv WHERE v > 1")
    assert engine.sql("SELECT count(*) AS n FROM shop.kv2").to_pylist() == [{"n": 3}]


def test_external_csv_and_select_object_on_s3(
    s3_lake: tuple[Catalog, QueryEngine, S3Store],
) -> None:
    catalog, engine, store = s3_lake
    store.put("raw/day=1/a.csv", b"id,name\n1,x\n2,y\n")
    store.put("raw/day=2/b.csv", b"id,name\n3,z\n")
    catalog.create_database("raw")
    catalog.register_external_table(
        "raw.people",
        location=store.uri("raw"),
        format="csv",
        schema=pa.schema([pa.field("id", pa.int64()), pa.field("name", pa.string())]),
        partition_columns={"day": "int32"},
    )
    result = engine.sql("SELECT name, day FROM raw.people WHERE id > 1 ORDER BY id")
    assert result.to_pylist() == [{"name": "y", "day": 1}, {"name": "z", "day": 2}]
    obj = engine.select_object(store.uri("raw/day=1/a.csv"), "SELECT max(id) AS m FROM s3object")
    assert obj.to_pylist() == [{"m": 2}]
