"""Protobuf messages <-> Arrow, driven by the message descriptor.

Scalars map to the Arrow type of the same width, ``bytes`` to binary, enums to their value
names (strings), nested messages to structs, repeated fields to lists, map fields to maps and
``google.protobuf.Timestamp`` to ``timestamp[us, UTC]``. A field with presence (proto2
``optional``, proto3 ``optional``, message fields) that is unset reads as null; a proto3 scalar
without presence reads as its default. Recursive message types cannot become a fixed schema and
raise a SchemaError.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
from google.protobuf.descriptor import FieldDescriptor

from lakebed.errors import SchemaError

_T = FieldDescriptor
Descriptor = Any  # message descriptor (python or upb implementation)
Field = Any  # field descriptor
_SCALARS: dict[int, pa.DataType] = {
    _T.TYPE_DOUBLE: pa.float64(),
    _T.TYPE_FLOAT: pa.float32(),
    _T.TYPE_INT32: pa.int32(),
    _T.TYPE_SINT32: pa.int32(),
    _T.TYPE_SFIXED32: pa.int32(),
    _T.TYPE_INT64: pa.int64(),
    _T.TYPE_SINT64: pa.int64(),
    _T.TYPE_SFIXED64: pa.int64(),
    _T.TYPE_UINT32: pa.uint32(),
    _T.TYPE_FIXED32: pa.uint32(),
    _T.TYPE_UINT64: pa.uint64(),
    _T.TYPE_FIXED64: pa.uint64(),
    _T.TYPE_BOOL: pa.bool_(),
    _T.TYPE_STRING: pa.string(),
    _T.TYPE_BYTES: pa.binary(),
    _T.TYPE_ENUM: pa.string(),
}
_TIMESTAMP = "google.protobuf.Timestamp"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def message_schema(descriptor: Descriptor) -> pa.Schema:
    """The Arrow schema of a message type: one column per field."""
    return pa.schema(list(_struct(descriptor, (descriptor.full_name,))))


def _struct(descriptor: Descriptor, seen: tuple[str, ...]) -> pa.StructType:
    return pa.struct([_field(f, seen) for f in descriptor.fields])


def _is_map(field: Field) -> bool:
    return bool(
        field.message_type is not None
        and field.message_type.GetOptions().map_entry
        and _is_repeated(field)
    )


def _is_repeated(field: Field) -> bool:
    if hasattr(field, "is_repeated"):  # protobuf >= 5.28; ``label`` is gone in 7
        return bool(field.is_repeated)
    return bool(field.label == _T.LABEL_REPEATED)


def _field(field: Field, seen: tuple[str, ...]) -> pa.Field:
    if _is_map(field):
        entry = field.message_type
        key = _single(entry.fields_by_name["key"], seen)
        value = _single(entry.fields_by_name["value"], seen)
        return pa.field(field.name, pa.map_(key, value))
    typ = _single(field, seen)
    if _is_repeated(field):
        return pa.field(field.name, pa.list_(typ))
    return pa.field(field.name, typ)


def _single(field: Field, seen: tuple[str, ...]) -> pa.DataType:
    if field.type in (_T.TYPE_MESSAGE, _T.TYPE_GROUP):
        message = field.message_type
        if message.full_name == _TIMESTAMP:
            return pa.timestamp("us", tz="UTC")
        if message.full_name in seen:
            raise SchemaError(
                f"message {message.full_name} is recursive (through field {field.full_name})",
                fix="read a message type without recursion, or store the field as bytes",
            )
        return _struct(message, (*seen, message.full_name))
    return _SCALARS[field.type]


def to_row(message: Any) -> dict[str, Any]:
    """A message as a Python row matching :func:`message_schema`."""
    row: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if _is_map(field):
            entry = field.message_type.fields_by_name["value"]
            row[field.name] = [(k, _value(entry, value[k])) for k in sorted(value)]  # unordered
        elif _is_repeated(field):
            row[field.name] = [_value(field, v) for v in value]
        elif field.has_presence and not message.HasField(field.name):
            row[field.name] = None
        else:
            row[field.name] = _value(field, value)
    return row


def _value(field: Field, value: Any) -> Any:
    if field.type == _T.TYPE_ENUM:
        known = field.enum_type.values_by_number.get(value)
        return known.name if known is not None else str(value)
    if field.type == _T.TYPE_MESSAGE:
        if field.message_type.full_name == _TIMESTAMP:
            return _EPOCH + dt.timedelta(seconds=value.seconds, microseconds=value.nanos // 1000)
        return to_row(value)
    return value


def fill(message: Any, row: dict[str, Any]) -> Any:
    """Set ``message``'s fields from a Python row (the inverse of :func:`to_row`)."""
    fields = message.DESCRIPTOR.fields_by_name
    for key, value in row.items():
        field = fields.get(key)
        if field is None:
            raise SchemaError(
                f"column {key!r} is not a field of {message.DESCRIPTOR.full_name}",
                fix=f"drop the column or use a message with it (fields: {', '.join(fields)})",
            )
        if value is None:
            continue
        target = getattr(message, key)
        if _is_map(field):
            entry = field.message_type.fields_by_name["value"]
            pairs = value.items() if isinstance(value, dict) else value
            for k, v in pairs:
                if entry.type == _T.TYPE_MESSAGE:
                    _set_message(target[k], entry, v)
                else:
                    target[k] = _raw(entry, v)
        elif _is_repeated(field):
            for item in value:
                if field.type == _T.TYPE_MESSAGE:
                    _set_message(target.add(), field, item)
                else:
                    target.append(_raw(field, item))
        elif field.type == _T.TYPE_MESSAGE:
            _set_message(target, field, value)
        else:
            setattr(message, key, _raw(field, value))
    return message


def _set_message(target: Any, field: Field, value: Any) -> None:
    if field.message_type.full_name == _TIMESTAMP:
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        micros = (value - _EPOCH) // dt.timedelta(microseconds=1)
        target.seconds, rest = divmod(micros, 1_000_000)
        target.nanos = rest * 1000
        return
    target.SetInParent()
    fill(target, value)


def _raw(field: Field, value: Any) -> Any:
    if field.type == _T.TYPE_ENUM and isinstance(value, str):
        known = field.enum_type.values_by_name.get(value)
        if known is None:
            raise SchemaError(
                f"{value!r} is not a value of enum {field.enum_type.full_name}",
                fix=f"use one of: {', '.join(field.enum_type.values_by_name)}",
            )
        return known.number
    return value
