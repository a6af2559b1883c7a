"""Protobuf records: message classes built at run time from ``.proto`` text (compiled by the
registry's protoc step into descriptors, then ``message_factory``), plain or in the Confluent wire
format with message indexes. Records decode to dicts keyed by the ``.proto`` field names:
enums as their names, ``google.protobuf.Timestamp`` as an aware datetime, absent optional and
message fields as None, maps as dicts."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

from lakebed.errors import ConfigError
from lakebed.streams.codecs import wire
from lakebed.streams.codecs.base import Decoder, Encoder, Wire
from lakebed.streams.records import RecordError
from lakebed.streams.registry import SchemaRegistry, parse_schema
from lakebed.streams.registry.protobuf import ProtoSchema

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Field = Any  # protobuf's stubs mix the upb and pure-Python FieldDescriptor classes
_TIMESTAMP = "google.protobuf.Timestamp"


class ProtoFile:
    """A compiled ``.proto`` with its own descriptor pool and message classes."""

    def __init__(self, text: str) -> None:
        self.schema: ProtoSchema = parse_schema(text, "PROTOBUF")
        self.pool = descriptor_pool.DescriptorPool()
        for file in self.schema.files.file:
            self.pool.AddSerializedFile(file.SerializeToString())
        self.package = self.schema.file.package
        self.names = self.schema.message_names()

    def find(self, name: str | None) -> Descriptor | None:
        """A message by full or simple name; the file's first message when name is None."""
        if name is None:
            if not self.schema.file.message_type:
                return None
            name = self.names[0]
        candidates = [name, f"{self.package}.{name}" if self.package else name]
        for full in candidates:
            if full in self.names:
                return self.pool.FindMessageTypeByName(full)
        matches = [n for n in self.names if n.rsplit(".", 1)[-1] == name]
        return self.pool.FindMessageTypeByName(matches[0]) if len(matches) == 1 else None

    def by_indexes(self, indexes: list[int]) -> Descriptor:
        """The message a Confluent message-index path points at."""
        messages = self.schema.file.message_type
        path: list[str] = [self.package] if self.package else []
        for index in indexes:
            if index < 0 or index >= len(messages):
                raise RecordError("schema", f"message index path {indexes} is not in the schema")
            path.append(messages[index].name)
            messages = messages[index].nested_type
        return self.pool.FindMessageTypeByName(".".join(path))

    def indexes_of(self, descriptor: Descriptor) -> list[int]:
        """The Confluent message-index path of a message."""
        chain: list[Descriptor] = []
        current: Descriptor | None = descriptor
        while current is not None:
            chain.append(current)
            current = current.containing_type
        indexes, messages = [], list(self.schema.file.message_type)
        for item in reversed(chain):
            position = [m.name for m in messages].index(item.name)
            indexes.append(position)
            messages = list(messages[position].nested_type)
        return indexes


@functools.lru_cache(maxsize=128)
def _class(descriptor: Descriptor) -> type[Message]:
    return message_factory.GetMessageClass(descriptor)


_SCALAR, _PRESENCE, _LIST, _MAP = 0, 1, 2, 3


@functools.lru_cache(maxsize=512)
def _plan(descriptor: Descriptor) -> list[tuple[str, int, Field, bool]]:
    """How to read each field of a message: (name, shape, field, needs conversion)."""
    plan = []
    fields: list[Field] = list(descriptor.fields)
    for field in fields:
        if field.is_repeated:
            is_map = field.message_type is not None and field.message_type.GetOptions().map_entry
            shape = _MAP if is_map else _LIST
        else:
            shape = _PRESENCE if field.has_presence else _SCALAR
        target = field.message_type.fields_by_name["value"] if shape == _MAP else field
        plain = target.type not in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_ENUM)
        plan.append((field.name, shape, target, not plain))
    return plan


def to_dict(message: Message) -> dict[str, Any]:
    """A message as a dict keyed by ``.proto`` field names."""
    out: dict[str, Any] = {}
    for name, shape, field, convert in _plan(message.DESCRIPTOR):
        value = getattr(message, name)
        if shape == _SCALAR:
            out[name] = _value(field, value) if convert else value
        elif shape == _PRESENCE:
            present = message.HasField(name)
            out[name] = (_value(field, value) if convert else value) if present else None
        elif shape == _LIST:
            out[name] = [_value(field, v) for v in value] if convert else list(value)
        else:
            out[name] = {k: (_value(field, v) if convert else v) for k, v in value.items()}
    return out


def _value(field: Field, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name == _TIMESTAMP:
            return _EPOCH + timedelta(seconds=value.seconds, microseconds=value.nanos // 1000)
        return to_dict(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        named = field.enum_type.values_by_number.get(value)
        return named.name if named is not None else value
    return value


def from_dict(message: Message, record: dict[str, Any]) -> Message:
    """Fill a message from a dict (the inverse of :func:`to_dict`)."""
    fields = message.DESCRIPTOR.fields_by_name
    for name, value in record.items():
        field = fields.get(name)
        if field is None:
            raise ConfigError(
                f"field {name!r} is not in Protobuf message {message.DESCRIPTOR.full_name}",
                fix="remove it or add it to the .proto",
            )
        if value is None:
            continue
        target = getattr(message, name)
        if field.is_repeated:
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                value_field = field.message_type.fields_by_name["value"]
                for key, item in value.items():
                    if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                        _fill(value_field, target[key], item)
                    else:
                        target[key] = _scalar(value_field, item)
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                for item in value:
                    _fill(field, target.add(), item)
            else:
                target.extend(_scalar(field, item) for item in value)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            _fill(field, target, value)
        else:
            setattr(message, name, _scalar(field, value))
    return message


def _fill(field: Field, target: Message, value: Any) -> None:
    if field.message_type.full_name == _TIMESTAMP and isinstance(value, datetime):
        delta = value - _EPOCH
        target.seconds = delta.days * 86400 + delta.seconds  # type: ignore[attr-defined]
        target.nanos = delta.microseconds * 1000  # type: ignore[attr-defined]
        return
    target.SetInParent()
    from_dict(target, value)


def _scalar(field: Field, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_ENUM and isinstance(value, str):
        return field.enum_type.values_by_name[value].number
    return value


class ProtobufDecoder(Decoder):
    """Decodes Protobuf records into dicts."""

    format = "protobuf"

    def __init__(
        self,
        *,
        registry: SchemaRegistry | None,
        subject: str | None,
        reader_text: str | None,
        message: str | None,
        wire_format: Wire,
    ) -> None:
        if reader_text is None and (registry is None or wire_format == "plain"):
            raise ConfigError(
                "decoding Protobuf needs a .proto schema",
                fix="pass schema=<.proto text>, or registry= and subject= (or the Confluent "
                "wire format with registry=)",
            )
        self.registry, self.subject, self.message, self.wire = (
            registry,
            subject,
            message,
            wire_format,
        )
        self.reader = ProtoFile(reader_text) if reader_text is not None else None
        self.reader_message = self._pick(self.reader) if self.reader is not None else None
        self.writers = wire.WriterSchemas(registry, "PROTOBUF", ProtoFile) if registry else None

    def _pick(self, file: ProtoFile) -> Descriptor:
        found = file.find(self.message)
        if found is None:
            raise ConfigError(
                f"Protobuf message {self.message!r} is not in the schema",
                fix=f"use one of {', '.join(file.names) or '(none: the .proto has no message)'}",
            )
        return found

    def decode(self, value: bytes) -> dict[str, Any]:
        if self.writers is not None and (
            self.wire == "confluent" or (self.wire == "auto" and wire.is_confluent(value))
        ):
            schema_id, payload = wire.split(value)
            writer, new = self.writers.get(schema_id)
            indexes, payload = wire.read_indexes(payload)
            descriptor = writer.by_indexes(indexes)
            if new and self.subject is not None and self.registry is not None:
                self.reader = ProtoFile(self.registry.latest(self.subject).schema)
            if self.reader is not None and descriptor.full_name in self.reader.names:
                descriptor = self.reader.pool.FindMessageTypeByName(descriptor.full_name)
            data: bytes = bytes(payload)
        elif self.reader_message is not None:
            descriptor, data = self.reader_message, value
        else:
            wire.split(value)  # raises: neither the wire format nor a plain schema
            raise AssertionError("unreachable")
        try:
            message = _class(descriptor).FromString(data)
        except DecodeError as exc:
            raise RecordError("parse", f"malformed Protobuf {descriptor.name}: {exc}") from None
        return to_dict(message)


class ProtobufEncoder(Encoder):
    """Encodes dicts as Protobuf messages, with a Confluent header when a schema id is given."""

    format = "protobuf"

    def __init__(self, schema_text: str, message: str | None, schema_id: int | None) -> None:
        self.file = ProtoFile(schema_text)
        found = self.file.find(message)
        if found is None:
            raise ConfigError(
                f"Protobuf message {message!r} is not in the schema",
                fix=f"use one of {', '.join(self.file.names)}",
            )
        self.cls = _class(found)
        self.schema_id = schema_id
        self.header = (
            b""
            if schema_id is None
            else wire.join(schema_id, wire.write_indexes(self.file.indexes_of(found)))
        )

    def encode(self, record: dict[str, Any]) -> bytes:
        return self.header + from_dict(self.cls(), record).SerializeToString()
