"""Avro records: plain binary, and the Confluent wire format resolved into the latest schema."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import fastavro
import pytest

from lakebed.errors import ConfigError
from lakebed.streams.codecs import make_decoder, make_encoder
from lakebed.streams.records import RecordError
from lakebed.streams.registry import SchemaRegistry


def record(*fields: dict[str, Any]) -> str:
    return json.dumps(
        {"type": "record", "name": "Order", "namespace": "shop", "fields": list(fields)}
    )


V1 = record({"name": "id", "type": "long"}, {"name": "price", "type": "double"})
V2 = record(
    {"name": "id", "type": "long"},
    {"name": "price", "type": "double"},
    {"name": "qty", "type": "int", "default": 1},
)
RICH = record(
    {"name": "id", "type": "long"},
    {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "amount",
     "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
    {"name": "note", "type": ["null", "string"], "default": None},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attrs", "type": {"type": "map", "values": "long"}},
)  # fmt: skip


def plain_bytes(schema: str, value: dict[str, Any]) -> bytes:
    """Avro binary written by fastavro directly (not by lakebed's encoder)."""
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(json.loads(schema)), value)
    return out.getvalue()


def decode_error(decoder: Any, value: bytes) -> RecordError:
    with pytest.raises(RecordError) as caught:
        decoder.decode(value)
    return caught.value


def test_plain_avro_with_logical_types() -> None:
    value = {
        "id": 1,
        "at": dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC),
        "amount": Decimal("12.50"),
        "note": None,
        "tags": ["a", "b"],
        "attrs": {"x": 1},
    }
    decoder = make_decoder("avro", schema=RICH)
    assert decoder.decode(plain_bytes(RICH, value)) == value


def test_malformed_plain_avro_is_a_parse_error() -> None:
    decoder = make_decoder("avro", schema=V1)
    good = plain_bytes(V1, {"id": 1, "price": 2.0})
    err = decode_error(decoder, good[:-3])
    assert err.kind == "parse" and "malformed Avro" in err.reason
    err = decode_error(decoder, good + b"\x02\x04")
    assert err.kind == "parse" and "2 bytes left after the record" in err.reason
    assert decode_error(decoder, b"").kind == "parse"


def test_confluent_wire_reads_old_writers_into_the_latest_schema(registry: SchemaRegistry) -> None:
    old = make_encoder("avro", registry=registry, subject="orders-value", schema=V1)
    decoder = make_decoder("avro", registry=registry, subject="orders-value")
    first = old.encode({"id": 1, "price": 2.5})
    assert first[:5] == b"\x00" + old.schema_id.to_bytes(4, "big")  # type: ignore[union-attr]
    assert decoder.decode(first) == {"id": 1, "price": 2.5}
    # A new version arrives while the decoder runs; records of both versions decode into it.
    new = make_encoder("avro", registry=registry, subject="orders-value", schema=V2)
    assert new.schema_id != old.schema_id
    assert decoder.decode(new.encode({"id": 2, "price": 1.0, "qty": 3})) == {
        "id": 2, "price": 1.0, "qty": 3
    }  # fmt: skip
    assert decoder.decode(first) == {"id": 1, "price": 2.5, "qty": 1}  # default filled in


def test_confluent_wire_without_subject_reads_with_the_writers_schema(
    registry: SchemaRegistry,
) -> None:
    encoder = make_encoder("avro", registry=registry, subject="orders-value", schema=V2)
    decoder = make_decoder("avro", registry=registry, wire="confluent")
    assert decoder.decode(encoder.encode({"id": 9, "price": 0.5, "qty": 2}))["qty"] == 2


def test_unknown_schema_id(registry: SchemaRegistry) -> None:
    registry.register("orders-value", V1)
    decoder = make_decoder("avro", registry=registry, subject="orders-value")
    err = decode_error(decoder, b"\x00\x00\x00\x00\x2a" + plain_bytes(V1, {"id": 1, "price": 1.0}))
    assert err.kind == "schema"
    assert "unknown schema id 42" in err.reason and "register" in err.reason


def test_auto_detection_and_forced_plain(registry: SchemaRegistry) -> None:
    registry.register("orders-value", V1)
    encoder = make_encoder("avro", registry=registry, subject="orders-value")
    auto = make_decoder("avro", registry=registry, subject="orders-value")
    plain = plain_bytes(V1, {"id": -1, "price": 1.0})  # zigzag -1 is 0x01: not the magic byte
    assert auto.decode(plain) == {"id": -1, "price": 1.0}
    assert auto.decode(encoder.encode({"id": 4, "price": 1.0}))["id"] == 4
    # A plain record that starts with a zero byte needs wire="plain" to be unambiguous.
    zero_first = plain_bytes(V1, {"id": 0, "price": 1.0})
    forced = make_decoder("avro", registry=registry, subject="orders-value", wire="plain")
    assert forced.decode(zero_first) == {"id": 0, "price": 1.0}


def test_truncated_wire_payload(registry: SchemaRegistry) -> None:
    encoder = make_encoder("avro", registry=registry, subject="orders-value", schema=V1)
    decoder = make_decoder("avro", registry=registry)
    err = decode_error(decoder, encoder.encode({"id": 1, "price": 1.0})[:-4])
    assert err.kind == "parse"


def test_writer_that_does_not_resolve_is_a_schema_error(registry: SchemaRegistry) -> None:
    registry.set_compatibility("NONE")
    writer = make_encoder("avro", registry=registry, subject="orders-value",
                          schema=record({"name": "id", "type": "string"}))  # fmt: skip
    registry.register("orders-value", V1)
    decoder = make_decoder("avro", registry=registry, subject="orders-value")
    err = decode_error(decoder, writer.encode({"id": "abc"}))
    assert err.kind == "schema" and "does not resolve" in err.reason


def test_bad_arguments(registry: SchemaRegistry) -> None:
    with pytest.raises(ConfigError, match="needs a schema"):
        make_decoder("avro")
    with pytest.raises(ConfigError, match="needs a schema"):
        make_decoder("avro", registry=registry, wire="plain")
    with pytest.raises(ConfigError, match="needs subject="):
        make_encoder("avro", registry=registry, schema=V1)
