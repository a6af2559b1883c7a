"""Formats are told by content, not by name; compressed inputs read transparently."""

from __future__ import annotations

import bz2
import gzip
import io
import random
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from lakebed import formats
from lakebed.errors import FormatError

from .conftest import flat_table, nested_table

SNIFFABLE = ["csv", "tsv", "json", "jsonl", "avro", "parquet", "orc", "recordio"]
COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "zst": lambda data: pa.compress(data, codec="zstd", asbytes=True),
}


def _sample(fmt: str) -> pa.Table:
    if fmt == "recordio":
        return pa.table({"features": pa.array([[1.0, 2.0]], pa.list_(pa.float32()))})
    return flat_table() if fmt in ("csv", "tsv") else nested_table()


def _encoded(fmt: str) -> bytes:
    sink = io.BytesIO()
    formats.write(_sample(fmt), sink, fmt)
    return sink.getvalue()


@pytest.mark.parametrize("fmt", SNIFFABLE)
def test_detected_by_content_despite_a_wrong_extension(fmt: str, tmp_path: Path) -> None:
    wrong = "data.txt" if fmt != "csv" else "data.parquet"
    path = tmp_path / wrong
    path.write_bytes(_encoded(fmt))

    assert formats.detect(path.read_bytes()[:65536], wrong).name == fmt
    got = pa.Table.from_batches(list(formats.read(path)))
    assert got.num_rows == _sample(fmt).num_rows


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "avro"])
def test_compressed_inputs_read_transparently(fmt: str, suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"data.{fmt}.{suffix}"
    path.write_bytes(COMPRESSORS[suffix](_encoded(fmt)))
    table = _sample(fmt)

    got = pa.Table.from_batches(list(formats.read(path, schema=table.schema)))

    assert got.equals(table)


def test_compression_is_told_by_magic_not_name(tmp_path: Path) -> None:
    path = tmp_path / "plain-name.csv"  # gzip inside, no .gz
    path.write_bytes(gzip.compress(b"a,b\nx,1\ny,2\n"))

    got = pa.Table.from_batches(list(formats.read(path)))

    assert got.to_pylist() == [{"a": "x", "b": 1}, {"a": "y", "b": 2}]


def test_truncated_gzip_is_a_format_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"a": 1}\n' * 10_000)[:200])

    with pytest.raises(FormatError, match=r"cut\.jsonl\.gz"):
        list(formats.read(path))


@pytest.mark.parametrize("compression", ["gzip", "bz2", "zstd"])
def test_text_formats_write_compressed(compression: str, tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl.x"
    formats.write(nested_table(), path, "jsonl", compression=compression)

    raw = path.read_bytes()
    assert not raw.startswith(b"{")
    got = pa.Table.from_batches(list(formats.read(path, schema=nested_table().schema)))
    assert got.equals(nested_table())


def test_open_decompressed_streams_a_stream() -> None:
    stream = formats.open_decompressed(io.BytesIO(bz2.compress(b"hello " * 1000)))
    assert stream.read(11) == b"hello hello"
    assert len(stream.read()) == 6000 - 11


def test_strip_compression_suffix() -> None:
    assert formats.strip_compression_suffix("a/b.csv.gz") == "a/b.csv"
    assert formats.strip_compression_suffix("b.parquet.ZST") == "b.parquet"
    assert formats.strip_compression_suffix("b.json") == "b.json"


def test_format_for_path_uses_the_extension_under_compression() -> None:
    found = formats.format_for_path("x/events.ndjson.gz")
    assert found is not None and found.name == "jsonl"
    assert formats.format_for_path("photo.jpeg") is None


def test_a_jpeg_is_not_a_tabular_format(tmp_path: Path) -> None:
    path = tmp_path / "cat.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 4)

    with pytest.raises(FormatError, match=r"cat\.jpg.*not a supported tabular format"):
        list(formats.read(path))


def test_binary_garbage_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "noise.csv"
    path.write_bytes(random.Random(7).randbytes(4096))

    with pytest.raises(FormatError, match=r"noise\.csv"):
        formats.detect(path.read_bytes(), str(path))


def test_protobuf_is_never_guessed() -> None:
    payload = b"\x08\x01\x12\x03abc"
    with pytest.raises(FormatError):
        formats.detect(bytes([len(payload)]) + payload, "x.pb")


def test_plain_text_with_one_column_needs_a_csv_extension() -> None:
    text = b"alpha\nbeta\ngamma\n"
    assert formats.detect(text, "names.csv").name == "csv"
    with pytest.raises(FormatError):
        formats.detect(text, "notes.txt")


def test_single_line_json_object_prefers_the_extension() -> None:
    line = b'{"a": 1, "b": "x"}\n'
    assert formats.detect(line, "one.jsonl").name == "jsonl"
    assert formats.detect(line, "one.json").name == "json"
    assert formats.detect(line * 3, "many.json").name == "jsonl"
