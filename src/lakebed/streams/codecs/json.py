"""JSON records: one object per record, optionally validated against a JSON Schema."""

from __future__ import annotations

import json
from typing import Any

from lakebed.streams.codecs import jsonvalidate, wire
from lakebed.streams.codecs.base import Decoder, Encoder, Wire
from lakebed.streams.records import RecordError
from lakebed.streams.registry import SchemaRegistry, parse_schema


def _document(text: str) -> Any:
    return parse_schema(text, "JSON").document


class JsonDecoder(Decoder):
    """Decodes JSON objects; with a schema (given, a subject's latest, or the writer's id from
    the Confluent header) each record is validated and failures are ``schema`` errors."""

    format = "json"

    def __init__(
        self, *, registry: SchemaRegistry | None, schema_text: str | None, wire_format: Wire
    ) -> None:
        self.schema = _document(schema_text) if schema_text is not None else None
        self.wire = wire_format
        self.registry = registry
        self.writers = (
            wire.WriterSchemas(registry, "JSON", _document) if registry is not None else None
        )

    def decode(self, value: bytes) -> dict[str, Any]:
        schema = self.schema
        payload: bytes | memoryview = value
        if self.writers is not None and (
            self.wire == "confluent" or (self.wire == "auto" and value[:1] == b"\x00")
        ):
            schema_id, payload = wire.split(value)
            schema, _ = self.writers.get(schema_id)
        try:
            record = json.loads(bytes(payload) if isinstance(payload, memoryview) else payload)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RecordError("parse", f"malformed JSON: {exc}") from None
        if not isinstance(record, dict):
            raise RecordError(
                "parse", f"expected a JSON object per record, got a JSON {wire.describe(record)}"
            )
        if schema is not None:
            problem = jsonvalidate.validate(schema, record)
            if problem:
                raise RecordError("schema", f"does not match the JSON Schema: {problem}")
        return record


class JsonEncoder(Encoder):
    """Encodes dicts as compact JSON, with a Confluent header when a schema id is given."""

    format = "json"

    def __init__(self, schema_id: int | None) -> None:
        self.schema_id = schema_id

    def encode(self, record: dict[str, Any]) -> bytes:
        body = json.dumps(record, separators=(",", ":"), default=str).encode()
        return body if self.schema_id is None else wire.join(self.schema_id, body)
