"""JSON records: plain, validated against a JSON Schema, and in the Confluent wire format."""

from __future__ import annotations

import json

import pytest

from lakebed.errors import ConfigError
from lakebed.streams.codecs import make_decoder, make_encoder
from lakebed.streams.records import RecordError
from lakebed.streams.registry import SchemaRegistry

SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "price": {"type": "number", "minimum": 0},
            "state": {"enum": ["NEW", "PAID"]},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"qty": {"type": "integer"}},
                    "required": ["qty"],
                },
            },
        },
        "required": ["id"],
        "additionalProperties": False,
    }
)


def decode_error(decoder: object, value: bytes) -> RecordError:
    with pytest.raises(RecordError) as caught:
        decoder.decode(value)  # type: ignore[attr-defined]
    return caught.value


def test_plain_json_objects() -> None:
    decoder = make_decoder("json")
    assert decoder.decode(b'{"id": 1, "tags": ["a"], "n": null}') == {
        "id": 1, "tags": ["a"], "n": None
    }  # fmt: skip


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (b'{"id": 1', "malformed JSON"),
        (b"", "malformed JSON"),
        (b"\xff\xfe{}", "malformed JSON"),
        (b"[1, 2]", "got a JSON array"),
        (b'"text"', "got a JSON string"),
        (b"42", "got a JSON number"),
    ],
)
def test_malformed_json_is_a_parse_error(value: bytes, needle: str) -> None:
    err = decode_error(make_decoder("json"), value)
    assert err.kind == "parse" and needle in err.reason


@pytest.mark.parametrize(
    ("record", "needle"),
    [
        ({"price": 1}, "required property 'id' is missing"),
        ({"id": "7"}, "$.id: expected integer, got string '7'"),
        ({"id": 1, "price": -1}, "$.price: -1 is less than the minimum 0"),
        ({"id": 1, "state": "LOST"}, "'LOST' is not one of ['NEW', 'PAID']"),
        ({"id": 1, "lines": [{"qty": 1}, {}]}, "$.lines[1]: required property 'qty' is missing"),
        ({"id": 1, "colour": "red"}, "property 'colour' is not allowed"),
    ],
)
def test_validation_against_a_given_schema(record: dict[str, object], needle: str) -> None:
    decoder = make_decoder("json", schema=SCHEMA)
    assert decoder.decode(b'{"id": 3, "price": 1.5, "lines": [{"qty": 2}]}')["id"] == 3
    err = decode_error(decoder, json.dumps(record).encode())
    assert err.kind == "schema" and needle in err.reason


def test_validation_against_the_subjects_latest(registry: SchemaRegistry) -> None:
    registry.register("orders-value", SCHEMA, "JSON")
    decoder = make_decoder("json", registry=registry, subject="orders-value")
    assert decoder.decode(b'{"id": 1}') == {"id": 1}
    assert decode_error(decoder, b'{"id": 1.5}').kind == "schema"


def test_confluent_wire_format(registry: SchemaRegistry) -> None:
    encoder = make_encoder("json", registry=registry, subject="orders-value", schema=SCHEMA)
    value = encoder.encode({"id": 5, "price": 2.5})
    assert value[0] == 0 and int.from_bytes(value[1:5], "big") == encoder.schema_id
    decoder = make_decoder("json", registry=registry)  # wire="auto": detected by the magic byte
    assert decoder.decode(value) == {"id": 5, "price": 2.5}
    assert decoder.decode(b'{"plain": true}') == {"plain": True}  # no header: plain JSON
    # The writer's schema (found by id) validates the payload.
    bad = value[:5] + b'{"id": "x"}'
    assert decode_error(decoder, bad).kind == "schema"


def test_unknown_schema_id_and_broken_headers(registry: SchemaRegistry) -> None:
    decoder = make_decoder("json", registry=registry, wire="confluent")
    err = decode_error(decoder, b"\x00\x00\x00\x00\x2a{}")
    assert err.kind == "schema" and "unknown schema id 42" in err.reason
    err = decode_error(decoder, b"\x00\x00")
    assert err.kind == "parse" and "at least 5 bytes" in err.reason
    err = decode_error(decoder, b'{"id": 1}')
    assert err.kind == "parse" and "first byte is 0x7b" in err.reason


def test_schema_id_of_another_type(registry: SchemaRegistry) -> None:
    avro = '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}]}'
    schema_id = registry.register("r-value", avro).id
    decoder = make_decoder("json", registry=registry)
    err = decode_error(decoder, b"\x00" + schema_id.to_bytes(4, "big") + b"{}")
    assert err.kind == "schema" and "is registered as AVRO" in err.reason


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="needs a schema registry"):
        make_decoder("json", wire="confluent")
    with pytest.raises(ConfigError, match="unknown record format 'xml'"):
        make_decoder("xml")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="without a schema registry"):
        make_decoder("json", subject="orders-value")
