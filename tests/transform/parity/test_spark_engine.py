"""The Spark engine itself: loading files and Arrow with the same row order as DuckDB, types,
errors, streaming and writing the output, sessions that do not see each other's views."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.transform.parity.compare import differences, family

from lakebed.errors import ConfigError, QueryError
from lakebed.transform.engines.duckdb import DuckDBEngine
from lakebed.transform.engines.spark import SparkEngine
from lakebed.transform.ops.base import ROW
from lakebed.transform.sample import sample_table


def _files(tmp_path: Path) -> list[str]:
    table = sample_table()
    folder = tmp_path / "in put"  # a space, as real paths have
    folder.mkdir()
    paths = [str(folder / "b part.parquet"), str(folder / "a-part.parquet")]
    pq.write_table(table.slice(0, 12), paths[0])
    pq.write_table(table.slice(12).drop_columns(["notes"]), paths[1])  # a column missing
    return paths


def test_files_load_with_the_same_row_order_column_as_duckdb(
    tmp_path: Path, spark_engine: SparkEngine
) -> None:
    files = _files(tmp_path)
    schema = sample_table().schema
    sql = f'SELECT {ROW}, id, notes FROM "files" ORDER BY {ROW}'
    with DuckDBEngine(threads=1) as duck, SparkEngine() as spark:
        duck.load_files("files", files, schema)
        spark.load_files("files", files, schema)
        expected = duck.query(sql)
        assert expected.column(ROW).to_pylist()[11:13] == [11, 1 << 40]
        assert differences(expected, spark.query(sql)) == []
        assert spark.to_arrow("files").column("notes").null_count == 1 + 8


def test_arrow_types_map_as_duckdb_reports_them(spark_engine: SparkEngine) -> None:
    table = pa.table(
        {
            "i8": pa.array([1, None], pa.int8()),
            "i32": pa.array([1, 2], pa.int32()),
            "f32": pa.array([1.5, None], pa.float32()),
            "dec": pa.array([decimal.Decimal("1.25"), None], pa.decimal128(10, 2)),
            "d": pa.array([dt.date(2024, 1, 2), None], pa.date32()),
            "ts": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 6), None], pa.timestamp("us")),
            "tz": pa.array(
                [dt.datetime(2024, 1, 2, tzinfo=dt.UTC), None], pa.timestamp("us", tz="UTC")
            ),
            "b": pa.array([b"\x00\x01", None], pa.binary()),
            "m": pa.array([[("k", 1)], None], pa.map_(pa.string(), pa.int64())),
            "ok": pa.array([True, None], pa.bool_()),
        }
    )
    with DuckDBEngine(threads=1) as duck:
        duck.load_arrow("t", table)
        spark_engine.load_arrow("types", table)
        d_out, s_out = duck.to_arrow("t"), spark_engine.to_arrow("types")
    assert [family(f.type) for f in s_out.schema] == [family(f.type) for f in d_out.schema]
    assert s_out.schema.field("ts").type == pa.timestamp("us")
    assert differences(d_out, s_out) == []


def test_sql_errors_become_query_errors_with_one_line(spark_engine: SparkEngine) -> None:
    with pytest.raises(QueryError) as info:
        spark_engine.create_view("bad", 'SELECT "no_such_column" FROM "input"')
    assert "no_such_column" in info.value.message and "\n" not in info.value.message
    with pytest.raises(QueryError):
        spark_engine.query("SELECT FROM WHERE")


def test_batches_stream_in_row_order(spark_engine: SparkEngine) -> None:
    spark_engine.create_view("desc", f'SELECT id, {ROW} FROM "input" ORDER BY id DESC')
    batches = list(spark_engine.batches("desc", batch_rows=7))
    assert all(b.num_rows <= 7 for b in batches)
    ids = pa.Table.from_batches(batches).column("id").to_pylist()
    assert ids == list(range(1, 21)) and batches[0].schema.names == ["id"]


def test_write_parquet_lets_spark_write_ordered_files(
    tmp_path: Path, spark_engine: SparkEngine
) -> None:
    out = str(tmp_path / "out")
    files = spark_engine.write_parquet("input", out)
    assert files and all(Path(f).exists() for f in files)
    written = pa.concat_tables([pq.read_table(f) for f in files])
    assert written.column_names == sample_table().column_names
    assert written.column("id").to_pylist() == list(range(1, 21))
    with pytest.raises(QueryError):
        spark_engine.write_parquet("input", out)  # never overwrites


def test_engines_keep_their_views_to_themselves(spark_engine: SparkEngine) -> None:
    other = SparkEngine()
    other.load_arrow("only_here", pa.table({"x": [1]}))
    with pytest.raises(QueryError):
        spark_engine.schema("only_here")
    other.close()
    other.close()  # twice is fine
    assert spark_engine.to_arrow("input").num_rows == 20
    with pytest.raises(ConfigError, match="master"):
        SparkEngine(master="local[1]")
