"""The public helpers: registry, read_schema, write (atomic), convert (streaming)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakebed import formats
from lakebed.errors import ConfigError, FormatError, NotFoundError

from .conftest import nested_table


def test_public_names() -> None:
    assert set(formats.__all__) == {
        "DEFAULT_BATCH_ROWS",
        "FORMAT_NAMES",
        "BadRecord",
        "ConvertResult",
        "Format",
        "OnBadRecord",
        "SchemaReader",
        "convert",
        "detect",
        "format_for_path",
        "get_format",
        "open_decompressed",
        "read",
        "read_schema",
        "sample_schema",
        "strip_compression_suffix",
        "write",
    }
    for name in formats.__all__:
        assert getattr(formats, name) is not None


@pytest.mark.parametrize("name", formats.FORMAT_NAMES)
def test_every_format_is_registered_with_its_metadata(name: str) -> None:
    fmt = formats.get_format(name)
    assert fmt.name == name
    assert fmt.extensions and all(ext.startswith(".") for ext in fmt.extensions)
    assert "/" in fmt.content_type


def test_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="parquet") as err:
        formats.get_format("xlsx")
    assert "xlsx" in str(err.value)


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"nope\.csv"):
        list(formats.read(tmp_path / "nope.csv"))


def test_read_schema_from_footer_and_from_a_sample(tmp_path: Path) -> None:
    table = nested_table()
    formats.write(table, tmp_path / "t.parquet", "parquet")
    formats.write(table, tmp_path / "t.avro", "avro")
    (tmp_path / "t.jsonl").write_text('{"a": 1, "b": {"c": "x"}}\n{"a": 2, "b": null}\n')

    assert formats.read_schema(tmp_path / "t.parquet") == table.schema
    assert formats.read_schema(tmp_path / "t.avro") == table.schema
    assert formats.read_schema(tmp_path / "t.jsonl") == pa.schema(
        [("a", pa.int64()), ("b", pa.struct([("c", pa.string())]))]
    )


def test_read_accepts_a_binary_stream() -> None:
    sink = io.BytesIO()
    formats.write(nested_table(), sink, "parquet")
    sink.seek(0)

    got = pa.Table.from_batches(list(formats.read(sink)))

    assert got.equals(nested_table())


def test_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    def batches() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch({"a": [1, 2]})
        raise RuntimeError("source went away")

    target = tmp_path / "out.parquet"
    with pytest.raises(RuntimeError, match="went away"):
        formats.write(batches(), target, "parquet")

    assert list(tmp_path.iterdir()) == []


def test_write_replaces_an_existing_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    assert formats.write(pa.table({"a": [1, 2]}), target, "csv") == 2

    assert target.read_text() == '"a"\n1\n2\n'


def test_write_of_no_batches_needs_a_schema(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="schema"):
        formats.write([], tmp_path / "x.parquet", "parquet")
    schema = pa.schema([("a", pa.int64())])
    assert formats.write([], tmp_path / "x.parquet", "parquet", schema=schema) == 0
    assert formats.read_schema(tmp_path / "x.parquet") == schema


def test_convert_streams_batch_by_batch(tmp_path: Path) -> None:
    src = tmp_path / "big.jsonl"
    with src.open("w") as out:
        for i in range(20_000):
            out.write(json.dumps({"id": i, "name": f"n{i}", "tags": [i % 3]}) + "\n")
    dest = tmp_path / "big.parquet"

    result = formats.convert(src, dest, to="parquet", batch_rows=2_000, compression="zstd")

    assert result.rows == 20_000 and result.bad_records == 0
    assert result.batches == 10
    assert result.source_format == "jsonl" and result.dest_format == "parquet"
    assert result.bytes_written == dest.stat().st_size
    parquet = pq.ParquetFile(dest)
    assert parquet.num_row_groups == 10  # one per batch: nothing was gathered in memory
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"


def test_convert_counts_bad_records_and_reconciles(tmp_path: Path) -> None:
    src = tmp_path / "messy.csv"
    src.write_text("id,v\n1,a\n2\n3,c\n4,d,e\n5,f\n")
    quarantine: list[formats.BadRecord] = []

    result = formats.convert(
        src, tmp_path / "clean.jsonl", to="jsonl", on_bad_record=quarantine.append
    )

    assert result.rows == 3 and result.bad_records == 2 == len(quarantine)
    lines = (tmp_path / "clean.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [1, 3, 5]


def test_convert_to_a_stream_with_whole_file_compression(tmp_path: Path) -> None:
    src = tmp_path / "t.parquet"
    formats.write(nested_table(), src, "parquet")
    sink = io.BytesIO()

    result = formats.convert(src, sink, to="jsonl", compression="gzip")

    assert result.bytes_written == len(sink.getvalue())
    sink.seek(0)
    back = pa.Table.from_batches(list(formats.read(sink, schema=nested_table().schema)))
    assert back.equals(nested_table())


def test_convert_of_an_empty_file_says_there_is_nothing(tmp_path: Path) -> None:
    src = tmp_path / "empty.csv"
    src.write_bytes(b"")

    with pytest.raises(FormatError, match=r"empty\.csv.*nothing to convert"):
        formats.convert(src, tmp_path / "out.parquet", to="parquet")
    assert not (tmp_path / "out.parquet").exists()


def test_long_single_line_json_is_told_by_extension() -> None:
    head = b'{"a": "' + b"x" * 70_000
    assert formats.detect(head[:65536], "big.jsonl").name == "jsonl"
    assert formats.detect(head[:65536], "big.json").name == "json"


def test_jsonl_schema_has_fields_first_seen_in_later_rows(tmp_path) -> None:
    from lakebed import formats

    path = tmp_path / "events.jsonl"
    path.write_text('{"id": 1}\n{"id": 2, "referrer": "ad"}\n{"id": 3.5, "tags": ["x"]}\n')
    schema = formats.read_schema(path)
    assert schema.names == ["id", "referrer", "tags"]
    assert str(schema.field("id").type) == "double"
    rows = [r for b in formats.read(path) for r in b.to_pylist()]
    assert [r["referrer"] for r in rows] == [None, "ad", None]
