"""Decoders from record bytes to dicts (and encoders back) for JSON, Avro and Protobuf.

``make_decoder("avro", registry=reg, subject="orders-value")`` reads Confluent wire-format
records (magic byte 0, 4-byte big-endian schema id, payload): the writer's schema is looked up
by id in the :class:`~lakebed.streams.registry.SchemaRegistry` and resolved into the subject's
latest version. With ``wire="auto"`` (the default) and a registry, a record starting with the
magic byte is read as wire format and anything else as plain; pass ``wire="plain"`` when plain
Avro records may start with a zero byte. A bad record raises
:class:`~lakebed.streams.records.RecordError` of kind ``parse`` (bytes unreadable) or
``schema`` (unknown schema id, fails JSON Schema validation); bad arguments raise ConfigError
when the decoder is made.
"""

from __future__ import annotations

from typing import Literal

from lakebed.errors import ConfigError
from lakebed.streams.codecs.avro import AvroDecoder, AvroEncoder
from lakebed.streams.codecs.base import Decoder, Encoder, Wire, check_wire, reader_text
from lakebed.streams.codecs.json import JsonDecoder, JsonEncoder
from lakebed.streams.codecs.protobuf import ProtobufDecoder, ProtobufEncoder
from lakebed.streams.registry import SchemaRegistry

Format = Literal["json", "avro", "protobuf"]
FORMATS: tuple[Format, ...] = ("json", "avro", "protobuf")
_SCHEMA_TYPES = {"json": "JSON", "avro": "AVRO", "protobuf": "PROTOBUF"}

__all__ = ["FORMATS", "Decoder", "Encoder", "Format", "Wire", "make_decoder", "make_encoder"]


def _check_format(format: str) -> None:
    if format not in FORMATS:
        raise ConfigError(f"unknown record format {format!r}", fix=f"use one of {FORMATS}")


def make_decoder(
    format: Format,
    *,
    registry: SchemaRegistry | None = None,
    subject: str | None = None,
    schema: str | None = None,
    message: str | None = None,
    wire: Wire = "auto",
) -> Decoder:
    """A decoder for records of ``format``.

    ``schema`` is the schema text to read (Avro JSON, JSON Schema, ``.proto``); without it the
    subject's latest registered version is used. ``message`` picks the Protobuf message (default:
    the first in the file, or the one the wire header's message indexes name).
    """
    _check_format(format)
    check_wire(wire, registry, format)
    text = reader_text(registry, subject, schema, format)
    follow = subject if schema is None else None  # re-read the subject's latest on new ids
    if format == "json":
        return JsonDecoder(registry=registry, schema_text=text, wire_format=wire)
    if format == "avro":
        return AvroDecoder(registry=registry, subject=follow, reader_text=text, wire_format=wire)
    return ProtobufDecoder(
        registry=registry, subject=follow, reader_text=text, message=message, wire_format=wire
    )


def make_encoder(
    format: Format,
    *,
    registry: SchemaRegistry | None = None,
    subject: str | None = None,
    schema: str | None = None,
    message: str | None = None,
    wire: Literal["confluent", "plain"] | None = None,
) -> Encoder:
    """An encoder producing records the matching decoder reads.

    With ``registry`` and ``subject`` the records are in the Confluent wire format: ``schema``
    is registered under the subject (or, when omitted, its latest version is used) and its id
    goes in each record's header. ``wire="plain"`` writes the bare payload.
    """
    _check_format(format)
    wire = wire or ("confluent" if registry is not None else "plain")
    check_wire(wire, registry, format)
    schema_id: int | None = None
    if wire == "confluent":
        assert registry is not None
        if subject is None:
            raise ConfigError(
                "the Confluent wire format needs subject= to find or register the schema id",
                fix="pass subject=, e.g. '<topic>-value'",
            )
        if schema is not None:
            registered = registry.register(subject, schema, _SCHEMA_TYPES[format])  # type: ignore[arg-type]
        else:
            registered = registry.latest(subject)
        schema_id, schema = registered.id, registered.schema
    elif schema is None and subject is not None and registry is not None:
        schema = registry.latest(subject).schema
    if format == "json":
        return JsonEncoder(schema_id)
    if schema is None:
        raise ConfigError(
            f"encoding {format} needs a schema", fix="pass schema=, or registry= and subject="
        )
    if format == "avro":
        return AvroEncoder(schema, schema_id)
    return ProtobufEncoder(schema, message, schema_id)
