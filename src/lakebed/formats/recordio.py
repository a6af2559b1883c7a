"""SageMaker RecordIO-protobuf (``application/x-recordio-protobuf``), byte-exact.

Framing per record: magic ``0xCED7230A`` (little-endian), a little-endian 32-bit word whose low
29 bits are the length and top 3 bits a continuation flag (0 whole, 1 first, 2 middle, 3 last
part), the payload, then zero padding to 4 bytes. The payload is an ``aialgs.data.Record``
(see :mod:`lakebed.formats._recordio_proto`).

Reading gives a ``features`` list column (from ``features["values"]``; sparse tensors add
``features_keys`` and ``features_shape``), ``label`` (a scalar when every label of the first
batch has one value, else a list), any other feature keys as columns of their own name, other
label keys as ``label_<key>``, and ``uid``/``metadata``/``configuration`` when present.

Writing takes ``feature_columns`` (default: every column but the label; numeric scalars and
numeric lists, concatenated in order), ``label_column`` (default ``"label"`` when present),
``dtype`` (``float32`` default, ``float64``, ``int32``) and ``sparse`` (store non-zero
entries with their indices).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Iterator
from typing import IO, Any, ClassVar

import pyarrow as pa
from google.protobuf.message import DecodeError

from lakebed.errors import ConfigError, SchemaError
from lakebed.formats._common import (
    batched,
    conform,
    empty_batch,
    report_bad,
    rows_to_batch,
    take_options,
)
from lakebed.formats._recordio_proto import classes
from lakebed.formats.base import DEFAULT_BATCH_ROWS, BadRecord, Format, OnBadRecord

MAGIC = 0xCED7230A
MAGIC_BYTES = struct.pack("<I", MAGIC)
_LENGTH_MASK = (1 << 29) - 1
_TENSORS = {"float32": "float32_tensor", "float64": "float64_tensor", "int32": "int32_tensor"}
_ARROW = {
    "float32_tensor": pa.float32(),
    "float64_tensor": pa.float64(),
    "int32_tensor": pa.int32(),
    "bytes": pa.binary(),
}
_WRITE_OPTIONS = {
    "feature_columns": None,
    "label_column": None,
    "dtype": "float32",
    "sparse": False,
}


class RecordIOFormat(Format):
    """SageMaker RecordIO-protobuf."""

    name: ClassVar[str] = "recordio"
    extensions: ClassVar[tuple[str, ...]] = (".rec", ".recordio")
    content_type: ClassVar[str] = "application/x-recordio-protobuf"

    def sniff(self, head: bytes) -> float:
        """Certain when the RecordIO magic opens the file."""
        return 1.0 if head.startswith(MAGIC_BYTES) else 0.0

    def read(
        self,
        source: IO[bytes],
        *,
        name: str = "<stream>",
        schema: pa.Schema | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        on_bad_record: OnBadRecord | None = None,
        **options: Any,
    ) -> Iterator[pa.RecordBatch]:
        """Batches of the records, one row each."""
        take_options(self.name, options, {})
        record_cls = classes()["Record"]
        target = schema
        for chunk in batched(_records(source, name, record_cls, on_bad_record), batch_rows):
            rows = [(where, raw, _row(record)) for where, raw, record in chunk]
            if target is None:
                target = _schema([record for _, _, record in chunk])
            yield rows_to_batch(rows, target, name, on_bad_record, _unwrapper(target))
        if target is None:
            yield empty_batch(pa.schema([("features", pa.list_(pa.float32()))]))

    def write(
        self,
        batches: Iterable[pa.RecordBatch],
        sink: IO[bytes],
        schema: pa.Schema,
        **options: Any,
    ) -> int:
        """One record per row: dense (or sparse) features and an optional label."""
        opts = take_options(self.name, options, _WRITE_OPTIONS)
        tensor = _TENSORS.get(opts["dtype"])
        if tensor is None:
            raise ConfigError(
                f"unknown recordio dtype {opts['dtype']!r}",
                fix=f"use one of: {', '.join(_TENSORS)}",
            )
        label = opts["label_column"] or ("label" if "label" in schema.names else None)
        features = list(opts["feature_columns"] or [n for n in schema.names if n != label])
        for column in [*features, *([label] if label else [])]:
            _check_numeric(schema, column)
        record_cls = classes()["Record"]
        rows = 0
        for batch in batches:
            batch = conform(batch, schema, "<recordio writer>")
            data = batch.to_pydict()
            for i in range(batch.num_rows):
                vector: list[Any] = []
                for column in features:
                    vector.extend(_cells(data[column][i], column, tensor))
                record = record_cls()
                _put(record.features["values"], tensor, vector, opts["sparse"])
                if label:
                    _put(
                        record.label["values"], tensor, _cells(data[label][i], label, tensor), False
                    )
                sink.write(frame(record.SerializeToString(deterministic=True)))
                rows += 1
        return rows


def frame(payload: bytes) -> bytes:
    """One whole RecordIO frame around ``payload``: magic, length, payload, padding."""
    if len(payload) > _LENGTH_MASK:
        raise SchemaError(
            f"a record of {len(payload)} bytes is over the RecordIO limit of 2^29",
            fix="write fewer features per row",
        )
    padding = b"\x00" * (-len(payload) % 4)
    return MAGIC_BYTES + struct.pack("<I", len(payload)) + payload + padding


def _check_numeric(schema: pa.Schema, column: str) -> None:
    if column not in schema.names:
        raise ConfigError(
            f"recordio column {column!r} is not in the data ({', '.join(schema.names)})",
            fix="pass feature_columns= and label_column= naming existing columns",
        )
    typ = schema.field(column).type
    base = typ.value_type if pa.types.is_list(typ) or pa.types.is_fixed_size_list(typ) else typ
    if not (pa.types.is_integer(base) or pa.types.is_floating(base) or pa.types.is_boolean(base)):
        raise SchemaError(
            f"recordio column {column!r} has type {typ}; RecordIO holds numbers",
            fix="encode the column as numbers first, or leave it out of feature_columns",
        )


def _cells(value: Any, column: str, tensor: str) -> list[Any]:
    values = value if isinstance(value, list) else [value]
    if tensor == "int32_tensor":
        if any(v is None for v in values):
            raise SchemaError(
                f"column {column!r} has nulls, which an int32 tensor cannot hold",
                fix="fill the nulls first, or write with dtype='float32' (nulls become NaN)",
            )
        return [int(v) for v in values]
    return [math.nan if v is None else float(v) for v in values]


def _put(value: Any, tensor: str, vector: list[Any], sparse: bool) -> None:
    target = getattr(value, tensor)
    if sparse:
        keys = [i for i, v in enumerate(vector) if v != 0]
        target.values.extend([vector[i] for i in keys])
        target.keys.extend(keys)
        target.shape.append(len(vector))
    else:
        target.values.extend(vector)
        if not vector:
            target.SetInParent()


def _records(
    source: IO[bytes], name: str, record_cls: Any, on_bad_record: OnBadRecord | None
) -> Iterator[tuple[str, bytes, Any]]:
    number = offset = 0
    parts: list[bytes] = []
    while True:
        header = source.read(8)
        where = f"record {number + 1} (byte {offset})"
        if not header:
            if parts:
                report_bad(on_bad_record, BadRecord(name, where, "stream ends inside a record"))
            return
        magic, word = struct.unpack("<II", header.ljust(8, b"\x00"))
        if len(header) < 8 or magic != MAGIC:
            reason = "truncated frame header" if len(header) < 8 else f"bad magic {magic:#010x}"
            report_bad(on_bad_record, BadRecord(name, where, f"{reason}; cannot continue", header))
            return
        length, flag = word & _LENGTH_MASK, word >> 29
        payload = source.read(length)
        source.read(-length % 4)
        offset += 8 + length + (-length % 4)
        if len(payload) < length:
            report_bad(
                on_bad_record, BadRecord(name, where, "stream ends inside a record", payload)
            )
            return
        parts.append(payload)
        if flag in (1, 2):
            continue
        number += 1
        data, parts = b"".join(parts), []
        try:
            yield where, data, record_cls.FromString(data)
        except DecodeError as exc:
            report_bad(on_bad_record, BadRecord(name, where, f"not an aialgs Record: {exc}", data))


def _unwrapper(schema: pa.Schema) -> Any:
    """A row function turning one-value lists into scalars for the scalar label columns."""
    scalars = [
        f.name for f in schema if f.name.startswith("label") and not pa.types.is_list(f.type)
    ]

    def unwrap(row: dict[str, Any]) -> dict[str, Any]:
        for column in scalars:
            value = row.get(column)
            if isinstance(value, list) and len(value) == 1:
                row[column] = value[0]
        return row

    return unwrap


def _tensor_of(value: Any) -> tuple[str, Any] | None:
    kind = value.WhichOneof("value")
    return (kind, getattr(value, kind)) if kind else None


def _row(record: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in record.features.items():
        found = _tensor_of(value)
        if found is None:
            continue
        kind, tensor = found
        column = "features" if key == "values" else key
        row[column] = list(tensor.value if kind == "bytes" else tensor.values)
        if kind != "bytes" and len(tensor.keys):
            row[f"{column}_keys"] = list(tensor.keys)
            row[f"{column}_shape"] = list(tensor.shape)
    for key, value in record.label.items():
        found = _tensor_of(value)
        if found is None:
            continue
        kind, tensor = found
        values = list(tensor.value if kind == "bytes" else tensor.values)
        row["label" if key == "values" else f"label_{key}"] = values
    for key in ("uid", "metadata", "configuration"):
        if record.HasField(key):
            row[key] = getattr(record, key)
    return row


def _schema(records: list[Any]) -> pa.Schema:
    types: dict[str, pa.DataType] = {}
    scalar: dict[str, bool] = {}
    for record in records:
        for prefix, entries in (("", record.features), ("label", record.label)):
            for key, value in entries.items():
                found = _tensor_of(value)
                if found is None:
                    continue
                kind, tensor = found
                if prefix:
                    column = "label" if key == "values" else f"label_{key}"
                    size = len(tensor.value if kind == "bytes" else tensor.values)
                    scalar[column] = scalar.get(column, True) and size == 1
                else:
                    column = "features" if key == "values" else key
                types.setdefault(column, _ARROW[kind])
                if not prefix and kind != "bytes" and len(tensor.keys):
                    types[f"{column}_keys"] = pa.list_(pa.uint64())
                    types[f"{column}_shape"] = pa.list_(pa.uint64())
        for key in ("uid", "metadata", "configuration"):
            if record.HasField(key):
                types[key] = pa.string()
    fields = []
    for column, typ in types.items():
        list_typed = pa.types.is_list(typ) or column in ("uid", "metadata", "configuration")
        if list_typed or scalar.get(column, False):
            fields.append(pa.field(column, typ))
        else:
            fields.append(pa.field(column, pa.list_(typ)))
    return pa.schema(fields)
