"""The ``aialgs.data.Record`` message of SageMaker RecordIO-protobuf, built in code.

The descriptor is assembled with ``descriptor_pb2`` from the published definition, so neither
``protoc`` nor generated code is needed.
"""

from __future__ import annotations

import functools
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto
_PACKAGE = "aialgs.data"


def _add_field(
    message: descriptor_pb2.DescriptorProto,
    name: str,
    number: int,
    kind: int,
    label: int = _F.LABEL_OPTIONAL,
    type_name: str = "",
    packed: bool = False,
    oneof: int | None = None,
) -> None:
    field = message.field.add(name=name, number=number, type=kind, label=label)
    if type_name:
        field.type_name = type_name
    if packed:
        field.options.packed = True
    if oneof is not None:
        field.oneof_index = oneof


def _tensor(file: descriptor_pb2.FileDescriptorProto, name: str, value_type: int) -> None:
    message = file.message_type.add(name=name)
    _add_field(message, "values", 1, value_type, _F.LABEL_REPEATED, packed=True)
    _add_field(message, "keys", 2, _F.TYPE_UINT64, _F.LABEL_REPEATED, packed=True)
    _add_field(message, "shape", 3, _F.TYPE_UINT64, _F.LABEL_REPEATED, packed=True)


def _map_field(record: descriptor_pb2.DescriptorProto, name: str, number: int) -> None:
    entry = record.nested_type.add(name=name.capitalize() + "Entry")
    entry.options.map_entry = True
    _add_field(entry, "key", 1, _F.TYPE_STRING)
    _add_field(entry, "value", 2, _F.TYPE_MESSAGE, type_name=f".{_PACKAGE}.Value")
    _add_field(
        record,
        name,
        number,
        _F.TYPE_MESSAGE,
        _F.LABEL_REPEATED,
        type_name=f".{_PACKAGE}.Record.{entry.name}",
    )


def _file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name="aialgs/data/record.proto", package=_PACKAGE, syntax="proto2"
    )
    _tensor(file, "Float32Tensor", _F.TYPE_FLOAT)
    _tensor(file, "Float64Tensor", _F.TYPE_DOUBLE)
    _tensor(file, "Int32Tensor", _F.TYPE_INT32)
    blob = file.message_type.add(name="Bytes")
    _add_field(blob, "value", 1, _F.TYPE_BYTES, _F.LABEL_REPEATED)
    _add_field(blob, "content_type", 2, _F.TYPE_STRING)
    value = file.message_type.add(name="Value")
    value.oneof_decl.add(name="value")
    for field_name, number, type_name in (
        ("float32_tensor", 2, "Float32Tensor"),
        ("float64_tensor", 3, "Float64Tensor"),
        ("int32_tensor", 7, "Int32Tensor"),
        ("bytes", 9, "Bytes"),
    ):
        _add_field(
            value,
            field_name,
            number,
            _F.TYPE_MESSAGE,
            type_name=f".{_PACKAGE}.{type_name}",
            oneof=0,
        )
    record = file.message_type.add(name="Record")
    _map_field(record, "features", 1)
    _map_field(record, "label", 2)
    _add_field(record, "uid", 3, _F.TYPE_STRING)
    _add_field(record, "metadata", 4, _F.TYPE_STRING)
    _add_field(record, "configuration", 5, _F.TYPE_STRING)
    return file


@functools.cache
def classes() -> dict[str, Any]:
    """The message classes by short name: Record, Value, Float32Tensor, ..."""
    pool = descriptor_pool.DescriptorPool()
    pool.Add(_file())
    file = pool.FindFileByName("aialgs/data/record.proto")
    return {
        name: message_factory.GetMessageClass(descriptor)
        for name, descriptor in file.message_types_by_name.items()
    }
