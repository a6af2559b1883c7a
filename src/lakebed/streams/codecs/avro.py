"""Avro records: plain binary with a known schema, or the Confluent wire format where the
writer's schema comes from the registry by id and is resolved into the reader's schema (the
subject's latest version) by fastavro."""

from __future__ import annotations

import io
from typing import Any

import fastavro
from fastavro.read import SchemaResolutionError

from lakebed.errors import ConfigError
from lakebed.streams.codecs import wire
from lakebed.streams.codecs.base import Decoder, Encoder, Wire
from lakebed.streams.records import RecordError
from lakebed.streams.registry import SchemaRegistry, parse_schema


def _fast(text: str) -> Any:
    """fastavro's parsed form, with its hint so it is not parsed again per record."""
    parse_schema(text, "AVRO")  # clear SchemaError on invalid text
    import json

    return fastavro.parse_schema(json.loads(text))


class AvroDecoder(Decoder):
    """Decodes Avro binary records into dicts."""

    format = "avro"

    def __init__(
        self,
        *,
        registry: SchemaRegistry | None,
        subject: str | None,
        reader_text: str | None,
        wire_format: Wire,
    ) -> None:
        if reader_text is None and (registry is None or wire_format == "plain"):
            raise ConfigError(
                "decoding Avro needs a schema",
                fix="pass schema=<Avro schema JSON>, or registry= and subject= (or the "
                "Confluent wire format with registry=)",
            )
        self.registry = registry
        self.subject = subject
        self.reader = _fast(reader_text) if reader_text is not None else None
        self.wire = wire_format
        self.writers = wire.WriterSchemas(registry, "AVRO", _fast) if registry else None

    def _refresh_reader(self) -> None:
        """A writer id not seen before may come with a newer subject version: re-read it."""
        if self.registry is not None and self.subject is not None:
            self.reader = _fast(self.registry.latest(self.subject).schema)

    def decode(self, value: bytes) -> dict[str, Any]:
        reader = self.reader
        if self.writers is not None and (
            self.wire == "confluent" or (self.wire == "auto" and wire.is_confluent(value))
        ):
            schema_id, payload = wire.split(value)
            writer, new = self.writers.get(schema_id)
            if new:
                self._refresh_reader()
                reader = self.reader
            data: bytes | memoryview = payload
        else:
            if reader is None:
                wire.split(value)  # raises: neither the wire format nor a plain schema
            writer, data = reader, value
            reader = None
        stream = io.BytesIO(data)
        try:
            record = fastavro.schemaless_reader(stream, writer, reader)
        except SchemaResolutionError as exc:
            raise RecordError("schema", f"the writer's schema does not resolve: {exc}") from None
        except Exception as exc:  # fastavro raises EOFError, ValueError, UnicodeDecodeError...
            raise RecordError("parse", f"malformed Avro ({type(exc).__name__}: {exc})") from None
        if stream.tell() != len(data):
            raise RecordError(
                "parse",
                f"malformed Avro: {len(data) - stream.tell()} bytes left after the record "
                "(wrong schema?)",
            )
        if not isinstance(record, dict):
            raise RecordError(
                "schema", f"the Avro value is a {type(record).__name__}, not a record"
            )
        return record


class AvroEncoder(Encoder):
    """Encodes dicts as Avro binary, with a Confluent header when a schema id is given."""

    format = "avro"

    def __init__(self, schema_text: str, schema_id: int | None) -> None:
        self.schema = _fast(schema_text)
        self.schema_id = schema_id

    def encode(self, record: dict[str, Any]) -> bytes:
        out = io.BytesIO()
        fastavro.schemaless_writer(out, self.schema, record)
        body = out.getvalue()
        return body if self.schema_id is None else wire.join(self.schema_id, body)
