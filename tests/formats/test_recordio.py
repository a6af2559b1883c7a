"""SageMaker RecordIO-protobuf, byte for byte as the reference gives it."""

from __future__ import annotations

import io
import math
import struct

import pyarrow as pa
import pytest

from lakebed import formats
from lakebed.errors import ConfigError, SchemaError
from lakebed.formats.recordio import frame

#: The worked example: features [1.0, 2.0] as Float32 is this 24-byte Record.
RECORD = bytes.fromhex("0a160a0676616c756573120c120a0a080000803f00000040")


def _write(table: pa.Table, **options: object) -> bytes:
    sink = io.BytesIO()
    formats.write(table, sink, "recordio", **options)
    return sink.getvalue()


def _read(data: bytes) -> pa.Table:
    return pa.Table.from_batches(list(formats.read(io.BytesIO(data), "recordio")))


def test_worked_example_bytes() -> None:
    data = _write(pa.table({"features": pa.array([[1.0, 2.0]], pa.list_(pa.float32()))}))

    assert len(RECORD) == 24
    assert len(data) == 32
    assert data == bytes.fromhex("0a23d7ce") + struct.pack("<I", 24) + RECORD
    assert _read(data).to_pylist() == [{"features": [1.0, 2.0]}]


def test_scalar_columns_become_one_vector_with_a_label() -> None:
    table = pa.table({"a": [1, 2], "b": [0.5, None], "label": [1, 0], "note": ["x", "y"]})

    data = _write(table, feature_columns=["a", "b"])
    got = _read(data)

    assert got.column_names == ["features", "label"]
    assert got.column("label").to_pylist() == [1.0, 0.0]
    first, second = got.column("features").to_pylist()
    assert first == [1.0, 0.5]
    assert second[0] == 2.0 and math.isnan(second[1])  # a null feature is NaN


def test_padding_to_four_bytes() -> None:
    assert frame(b"abc") == bytes.fromhex("0a23d7ce") + struct.pack("<I", 3) + b"abc\x00"
    data = frame(b"abc") + frame(b"")
    assert len(data) == 8 + 4 + 8


def test_dtypes_and_list_labels() -> None:
    table = pa.table({"x": [[1, 2], [3, 4]], "label": [[1, 0], [0, 1]]})

    f64 = _read(_write(table, dtype="float64"))
    i32 = _read(_write(table, dtype="int32"))

    assert f64.schema.field("features").type == pa.list_(pa.float64())
    assert f64.column("label").to_pylist() == [[1.0, 0.0], [0.0, 1.0]]
    assert i32.schema.field("features").type == pa.list_(pa.int32())
    assert i32.column("features").to_pylist() == [[1, 2], [3, 4]]


def test_sparse_rows_keep_indices_and_shape() -> None:
    table = pa.table({"a": [0.0, 3.0], "b": [2.0, 0.0], "c": [0.0, 0.0]})

    got = _read(_write(table, sparse=True))

    assert got.to_pylist() == [
        {"features": [2.0], "features_keys": [1], "features_shape": [3]},
        {"features": [3.0], "features_keys": [0], "features_shape": [3]},
    ]


def test_multi_part_records_are_joined() -> None:
    record = RECORD
    head = bytes.fromhex("0a23d7ce")
    parts = [record[:10], record[10:16], record[16:]]
    data = b""
    for flag, part in zip((1, 2, 3), parts, strict=True):
        data += (
            head + struct.pack("<I", (flag << 29) | len(part)) + part + b"\x00" * (-len(part) % 4)
        )

    assert _read(data).to_pylist() == [{"features": [1.0, 2.0]}]


def test_text_features_are_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="note"):
        _write(pa.table({"a": [1.0], "note": ["x"]}))


def test_unknown_dtype_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="dtype"):
        _write(pa.table({"a": [1.0]}), dtype="float16")
