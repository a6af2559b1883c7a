"""select_object: S3 Select-style SQL over one raw object, by path or stream."""

from __future__ import annotations

import bz2
import gzip
import io
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakebed import formats
from lakebed.errors import NotFoundError, QueryError
from lakebed.query import QueryEngine


@pytest.fixture()
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "sales.csv"
    path.write_text("region,units,price\nnorth,3,2.5\nsouth,7,1.0\neast,5,4.0\n")
    return path


def test_csv_object(engine: QueryEngine, csv_file: Path) -> None:
    result = engine.select_object(
        str(csv_file), "SELECT s.region FROM s3object s WHERE s.units > 3 ORDER BY s.region"
    )
    assert result.to_pylist() == [{"region": "east"}, {"region": "south"}]
    total = engine.select_object(str(csv_file), "SELECT sum(units * price) AS t FROM input")
    assert total.to_pylist() == [{"t": 34.5}]


def test_jsonl_object_as_stream(engine: QueryEngine) -> None:
    data = b'{"user": "a", "score": 10}\n{"user": "b", "score": 3}\n{"user": "c", "score": 8}\n'
    result = engine.select_object(
        io.BytesIO(data),
        "SELECT user FROM S3Object WHERE score >= 8 ORDER BY user",
        format="jsonl",
    )
    assert result.to_pylist() == [{"user": "a"}, {"user": "c"}]


def test_gzipped_jsonl_file_detected_by_name(engine: QueryEngine, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"n": 1}\n{"n": 2}\n'))
    assert engine.select_object(str(path), "SELECT max(n) AS m FROM s3object").to_pylist() == [
        {"m": 2}
    ]


@pytest.mark.parametrize(
    ("name", "compress"),
    [
        ("sales.csv.bz2", bz2.compress),
        ("sales.csv.zst", lambda data: pa.compress(data, codec="zstd", asbytes=True)),
        ("sales.tab", lambda data: data.replace(b",", b"\t")),
    ],
)
def test_format_from_name_looks_through_compression(
    engine: QueryEngine, tmp_path: Path, name: str, compress: Callable[[bytes], bytes]
) -> None:
    path = tmp_path / name
    path.write_bytes(compress(b"region,units\nnorth,3\nsouth,7\n"))
    result = engine.select_object(str(path), "SELECT sum(units) AS n FROM s3object")
    assert result.to_pylist() == [{"n": 10}]


def test_gzipped_stream_without_name(engine: QueryEngine) -> None:
    stream = io.BytesIO(gzip.compress(b"a,b\n1,2\n3,4\n"))
    result = engine.select_object(stream, "SELECT sum(b) AS s FROM s3object", format="csv")
    assert result.to_pylist() == [{"s": 6}]


def test_parquet_and_avro_objects(engine: QueryEngine, tmp_path: Path) -> None:
    table = pa.table({"k": [1, 2, 3], "v": ["x", "y", "z"]})
    pq.write_table(table, tmp_path / "t.parquet")
    formats.write(table, tmp_path / "t.avro", "avro")
    for name in ("t.parquet", "t.avro"):
        result = engine.select_object(str(tmp_path / name), "SELECT v FROM s3object WHERE k = 2")
        assert result.to_pylist() == [{"v": "y"}]


def test_only_the_object_can_be_queried(engine: QueryEngine, csv_file: Path) -> None:
    with pytest.raises(QueryError, match="only the one object"):
        engine.select_object(str(csv_file), "SELECT * FROM s3object JOIN shop.orders ON true")
    with pytest.raises(QueryError, match="does not read s3object"):
        engine.select_object(str(csv_file), "SELECT 1")
    with pytest.raises(QueryError, match="only SELECT"):
        engine.select_object(str(csv_file), "DROP TABLE s3object")


def test_missing_object_and_unknown_format(engine: QueryEngine, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        engine.select_object(str(tmp_path / "nope.csv"), "SELECT * FROM s3object")
    odd = tmp_path / "blob.bin"
    odd.write_bytes(b"\x00\x01\x02\x03")
    with pytest.raises(QueryError, match="cannot tell the format"):
        engine.select_object(str(odd), "SELECT * FROM s3object")


def test_bad_query_over_object(engine: QueryEngine, csv_file: Path) -> None:
    with pytest.raises(QueryError, match="nosuch"):
        engine.select_object(str(csv_file), "SELECT nosuch FROM s3object")


def test_other_files_cannot_be_read_through_table_functions(
    engine: QueryEngine, csv_file: Path
) -> None:
    with pytest.raises(QueryError, match="only the one object"):
        engine.select_object(
            str(csv_file), f"SELECT * FROM s3object, read_csv('{csv_file}') AS other"
        )
    with_cte = engine.select_object(
        str(csv_file), "WITH x AS (SELECT * FROM s3object) SELECT count(*) AS n FROM x"
    )
    assert with_cte.to_pylist() == [{"n": 3}]


def test_csv_object_with_malformed_rows_and_no_extension(engine: QueryEngine) -> None:
    data = b"region,units\nnorth,3\nsouth,7,extra\neast,5\nwest\n" + b"".join(
        b"r%d,%d\n" % (i, i) for i in range(20)
    )
    result = engine.select_object(
        io.BytesIO(data), "SELECT region FROM s3object WHERE units IN (3, 5) ORDER BY region"
    )
    assert result.column("region").to_pylist() == ["east", "north", "r3", "r5"]


def test_unreadable_object_is_a_query_error(engine: QueryEngine) -> None:
    with pytest.raises(QueryError, match="parquet"):
        engine.select_object(
            io.BytesIO(b"PAR1 truncated"), "SELECT * FROM s3object", format="parquet"
        )
