"""The Confluent wire format, and the registry lookups the decoders share.

A record is ``0x00``, a 4-byte big-endian schema id, then the payload; for Protobuf the payload
starts with the *message indexes* (which message of the ``.proto`` file, as a path through
nested messages): a zigzag varint count then that many zigzag varints, with the single byte
``0x00`` standing for ``[0]``, the first message.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from lakebed.errors import NotFoundError, SchemaError
from lakebed.streams.records import RecordError
from lakebed.streams.registry import SchemaRegistry

MAGIC = 0
HEADER = struct.Struct(">bI")

T = TypeVar("T")


def is_confluent(value: bytes) -> bool:
    """Whether a value starts like a Confluent wire-format record."""
    return len(value) >= HEADER.size and value[0] == MAGIC


def split(value: bytes) -> tuple[int, memoryview]:
    """The schema id and payload of a wire-format record; RecordError("parse") if malformed."""
    if len(value) < HEADER.size:
        raise RecordError(
            "parse", f"a Confluent wire-format record needs at least 5 bytes, got {len(value)}"
        )
    magic, schema_id = HEADER.unpack_from(value)
    if magic != MAGIC:
        raise RecordError(
            "parse",
            f"not in the Confluent wire format: first byte is {value[0]:#04x}, expected 0x00",
        )
    return schema_id, memoryview(value)[HEADER.size :]


def join(schema_id: int, payload: bytes) -> bytes:
    """A wire-format record from a schema id and a payload."""
    return HEADER.pack(MAGIC, schema_id) + payload


def read_varint(data: memoryview, pos: int) -> tuple[int, int]:
    """A zigzag varint at ``pos``: (value, next position)."""
    result = shift = 0
    while True:
        if pos >= len(data):
            raise RecordError("parse", "truncated Protobuf message indexes in the wire header")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7
        if shift > 63:
            raise RecordError("parse", "malformed varint in the Protobuf message indexes")


def write_varint(value: int) -> bytes:
    """A zigzag varint."""
    n = (value << 1) ^ (value >> 63)
    out = bytearray()
    while True:
        if n < 0x80:
            out.append(n)
            return bytes(out)
        out.append((n & 0x7F) | 0x80)
        n >>= 7


def read_indexes(data: memoryview) -> tuple[list[int], memoryview]:
    """Protobuf message indexes at the start of a payload, and the rest of it."""
    count, pos = read_varint(data, 0)
    if count == 0:
        return [0], data[pos:]
    if count < 0 or count > 64:
        raise RecordError("parse", f"implausible Protobuf message index count {count}")
    indexes = []
    for _ in range(count):
        index, pos = read_varint(data, pos)
        indexes.append(index)
    return indexes, data[pos:]


def write_indexes(indexes: list[int]) -> bytes:
    """Protobuf message indexes for a wire header."""
    if indexes == [0]:
        return b"\x00"
    return write_varint(len(indexes)) + b"".join(write_varint(i) for i in indexes)


class WriterSchemas(Generic[T]):
    """Schemas by global id from a registry, parsed once and cached (ids never change)."""

    def __init__(
        self, registry: SchemaRegistry, schema_type: str, parse: Callable[[str], T]
    ) -> None:
        self.registry = registry
        self.schema_type = schema_type
        self._parse = parse
        self._cache: dict[int, T] = {}

    def get(self, schema_id: int) -> tuple[T, bool]:
        """The parsed schema, and whether this is the first time it was asked for."""
        found = self._cache.get(schema_id)
        if found is not None:
            return found, False
        try:
            stored = self.registry.get(schema_id)
        except NotFoundError:
            raise RecordError(
                "schema",
                f"unknown schema id {schema_id} in the Confluent wire header; register the "
                "producer's schema in this lake's schema registry",
            ) from None
        if stored.schema_type != self.schema_type:
            raise RecordError(
                "schema",
                f"schema id {schema_id} is registered as {stored.schema_type}, but the stream "
                f"decodes {self.schema_type}",
            )
        try:
            parsed = self._parse(stored.schema)
        except (SchemaError, ValueError) as exc:
            raise RecordError("schema", f"schema id {schema_id} cannot be used: {exc}") from None
        self._cache[schema_id] = parsed
        return parsed, True


def describe(value: Any) -> str:
    """A short description of a decoded JSON value's kind, for messages."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")
