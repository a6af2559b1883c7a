"""Arrow -> file -> Arrow is lossless for every format, within what the format can hold."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from lakebed import formats
from lakebed.errors import ConfigError, FormatError

from .conftest import flat_table, nested_table, order_rows, typed_table


@dataclass
class Case:
    fmt: str
    table: Callable[[Path], pa.Table]
    #: Text formats carry no types: the reader is given the schema to cast to.
    typed_by_reader: bool = False
    options: Callable[[Path], dict[str, Any]] = field(default=lambda _: {})


def _proto_options(tmp: Path) -> dict[str, Any]:
    return {"proto_file": str(tmp / "shop.proto"), "message": "shop.Order"}


def _orders(tmp: Path) -> pa.Table:
    schema = formats.read_schema(io.BytesIO(b""), "protobuf", **_proto_options(tmp))
    return pa.Table.from_pylist(order_rows(), schema=schema)


def _recordio(_: Path) -> pa.Table:
    return pa.table(
        {
            "features": pa.array([[1.0, 2.0, 3.5], [0.0, -1.0, 1e-3]], pa.list_(pa.float32())),
            "label": pa.array([1.0, 0.0], pa.float32()),
        }
    )


CASES = [
    Case("csv", lambda _: flat_table(), typed_by_reader=True),
    Case("tsv", lambda _: flat_table(), typed_by_reader=True),
    Case("json", lambda _: nested_table(), typed_by_reader=True),
    Case("jsonl", lambda _: nested_table(), typed_by_reader=True),
    Case(
        "avro",
        lambda _: (
            typed_table()
            .drop_columns(["attrs"])
            .append_column(
                "attrs", pa.array([{"k": 1}, {}, None], pa.map_(pa.string(), pa.int64()))
            )
        ),
    ),
    Case("parquet", lambda _: typed_table()),
    # ORC keeps timestamps in nanoseconds: the reader casts back to the original unit.
    Case("orc", lambda _: typed_table(), typed_by_reader=True),
    Case("protobuf", _orders, options=_proto_options),
    Case("recordio", _recordio),
]


@pytest.mark.parametrize("case", CASES, ids=[c.fmt for c in CASES])
def test_round_trip(case: Case, tmp_path: Path, proto_file: Path) -> None:
    table = case.table(tmp_path)
    options = case.options(tmp_path)
    path = tmp_path / f"data.{case.fmt}"

    written = formats.write(table, path, case.fmt, **options)

    assert written == table.num_rows
    schema = table.schema if case.typed_by_reader else None
    named = case.fmt if case.fmt == "protobuf" else None  # the rest are detected by content
    got = pa.Table.from_batches(list(formats.read(path, named, schema=schema, **options)))
    assert got.to_pylist() == table.to_pylist()
    assert got.schema == table.schema


def test_csv_infers_types_without_a_schema(tmp_path: Path) -> None:
    path = tmp_path / "flat.csv"
    formats.write(flat_table(), path, "csv")

    got = pa.Table.from_batches(list(formats.read(path)))

    assert got.equals(flat_table())


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_infers_nested_types(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"nested.{fmt}"
    table = nested_table().drop_columns(["ts", "day"])  # JSON has no date type
    formats.write(table, path, fmt)

    got = pa.Table.from_batches(list(formats.read(path)))

    assert got.equals(table)


@pytest.mark.parametrize("compression", ["null", "deflate", "snappy", "zstd", "bzip2", "xz"])
def test_avro_codecs(compression: str, tmp_path: Path) -> None:
    path = tmp_path / "c.avro"
    table = nested_table()
    formats.write(table, path, "avro", compression=compression)

    assert path.read_bytes().count(b"avro.codec") == 1
    codec = "zstandard" if compression == "zstd" else compression
    assert codec.encode() in path.read_bytes()[:400]
    assert pa.Table.from_batches(list(formats.read(path))).equals(table)


@pytest.mark.parametrize(
    ("fmt", "compression"),
    [
        ("parquet", "zstd"),
        ("parquet", "gzip"),
        ("parquet", "none"),
        ("orc", "snappy"),
        ("orc", "zlib"),
    ],
)
def test_columnar_compression(fmt: str, compression: str, tmp_path: Path) -> None:
    path = tmp_path / f"c.{fmt}"
    table = nested_table()
    formats.write(table, path, fmt, compression=compression)

    got = pa.Table.from_batches(list(formats.read(path, schema=table.schema)))

    assert got.equals(table)


@pytest.mark.parametrize("fmt", ["avro", "parquet", "orc"])
def test_unknown_compression_is_a_config_error(fmt: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="compression"):
        formats.write(flat_table(), tmp_path / "x", fmt, compression="rar")


def test_avro_reader_schema_resolution(tmp_path: Path) -> None:
    path = tmp_path / "evolve.avro"
    formats.write(pa.table({"id": pa.array([1, 2], pa.int64())}), path, "avro")
    reader_schema = {
        "type": "record",
        "name": "Record",
        "namespace": "lakebed",
        "fields": [
            {"name": "id", "type": ["null", "long"], "default": None},
            {"name": "country", "type": "string", "default": "NO"},
        ],
    }

    got = pa.Table.from_batches(list(formats.read(path, reader_schema=reader_schema)))

    assert got.to_pylist() == [{"id": 1, "country": "NO"}, {"id": 2, "country": "NO"}]


def test_protobuf_without_options_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="proto_file"):
        list(formats.read(io.BytesIO(b""), "protobuf"))
    with pytest.raises(ConfigError, match="message"):
        list(formats.read(io.BytesIO(b""), "protobuf", proto_file=str(tmp_path / "x.proto")))


def test_protobuf_unknown_message_lists_the_known_ones(proto_file: Path) -> None:
    with pytest.raises(ConfigError, match=r"shop\.Order"):
        list(formats.read(io.BytesIO(b""), "protobuf", proto_file=str(proto_file), message="Nope"))


def test_protobuf_cut_stream_reports_the_last_record(tmp_path: Path, proto_file: Path) -> None:
    options = _proto_options(tmp_path)
    full = _orders(tmp_path).slice(0, 1)
    sink = io.BytesIO()
    formats.write(pa.concat_tables([full, full]), sink, "protobuf", **options)
    cut = sink.getvalue()[:-3]
    bad: list[formats.BadRecord] = []

    got = list(formats.read(io.BytesIO(cut), "protobuf", on_bad_record=bad.append, **options))

    assert sum(b.num_rows for b in got) == 1
    assert [b.location.split(" (")[0] for b in bad] == ["record 2"]
    with pytest.raises(FormatError, match="record 2"):
        list(formats.read(io.BytesIO(cut), "protobuf", **options))


def test_unknown_read_option_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ConfigError, match="delimter"):
        list(formats.read(path, delimter=";"))


def test_csv_cannot_hold_nested_columns(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="point"):
        formats.write(nested_table(), tmp_path / "n.csv", "csv")
    assert list(tmp_path.iterdir()) == []


def test_csv_delimiter_option(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    table = pa.table({"a": [1, 2], "b": ["x;y", "z"]})
    formats.write(table, path, "csv", delimiter=";")

    assert path.read_text().splitlines()[0] == '"a";"b"'
    got = pa.Table.from_batches(list(formats.read(path, "csv", delimiter=";")))
    assert got.equals(table)
