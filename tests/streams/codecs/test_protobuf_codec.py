"""Protobuf records: dynamic message classes, plain and Confluent wire format with indexes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lakebed.errors import ConfigError
from lakebed.streams.codecs import make_decoder, make_encoder, wire
from lakebed.streams.records import RecordError
from lakebed.streams.registry import SchemaRegistry

PROTO = """
syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
enum Kind { KIND_UNKNOWN = 0; ONLINE = 1; STORE = 2; }
message Order {
  int64 id = 1;
  string customer = 2;
  repeated string tags = 3;
  Address address = 4;
  Kind kind = 5;
  google.protobuf.Timestamp placed = 6;
  optional double total = 7;
  map<string, int32> counts = 8;
  repeated Line lines = 9;
  message Line { string sku = 1; int32 qty = 2; }
}
message Address { string city = 1; int32 zip = 2; }
"""
ORDER = {
    "id": 7,
    "customer": "ada",
    "tags": ["a", "b"],
    "address": {"city": "Oslo", "zip": 150},
    "kind": "STORE",
    "placed": dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC),
    "total": 12.5,
    "counts": {"x": 2},
    "lines": [{"sku": "s1", "qty": 3}],
}


def decode_error(decoder: Any, value: bytes) -> RecordError:
    with pytest.raises(RecordError) as caught:
        decoder.decode(value)
    return caught.value


def test_plain_round_trip_with_field_names_enums_maps_and_timestamps() -> None:
    encoder = make_encoder("protobuf", schema=PROTO, message="shop.Order")
    decoder = make_decoder("protobuf", schema=PROTO, message="Order")
    assert decoder.decode(encoder.encode(ORDER)) == ORDER


def test_absent_fields_decode_to_defaults_or_none() -> None:
    encoder = make_encoder("protobuf", schema=PROTO)  # the file's first message: Order
    decoded = make_decoder("protobuf", schema=PROTO).decode(encoder.encode({"id": 1}))
    assert decoded["customer"] == "" and decoded["tags"] == [] and decoded["kind"] == "KIND_UNKNOWN"
    assert decoded["address"] is None and decoded["placed"] is None
    assert decoded["total"] is None  # proto3 optional: presence is tracked


def test_confluent_wire_with_message_indexes(registry: SchemaRegistry) -> None:
    order = make_encoder("protobuf", registry=registry, subject="orders-value", schema=PROTO)
    address = make_encoder("protobuf", registry=registry, subject="orders-value",
                           message="Address")  # fmt: skip
    line = make_encoder("protobuf", registry=registry, subject="orders-value",
                        message="shop.Order.Line")  # fmt: skip
    assert order.schema_id == address.schema_id == line.schema_id
    first, second, third = (
        order.encode(ORDER), address.encode({"city": "Bergen"}), line.encode({"sku": "x"})
    )  # fmt: skip
    # Message indexes after the 5-byte header: [0] as a single 0 byte, [1] and [0, 1] as a
    # zigzag count followed by zigzag indexes (Order's nested types: the map entry, then Line).
    assert first[5:6] == b"\x00"
    assert second[5:7] == b"\x02\x02"
    assert third[5:8] == b"\x04\x00\x02"
    decoder = make_decoder("protobuf", registry=registry, subject="orders-value")
    assert decoder.decode(first) == ORDER
    assert decoder.decode(second) == {"city": "Bergen", "zip": 0}
    assert decoder.decode(third) == {"sku": "x", "qty": 0}


def test_old_writer_read_into_the_latest_schema(registry: SchemaRegistry) -> None:
    v1 = "syntax = 'proto3'; message M { int64 a = 1; }"
    v2 = "syntax = 'proto3'; message M { int64 a = 1; string b = 2; }"
    old = make_encoder("protobuf", registry=registry, subject="m-value", schema=v1)
    decoder = make_decoder("protobuf", registry=registry, subject="m-value")
    value = old.encode({"a": 5})
    assert decoder.decode(value) == {"a": 5}
    make_encoder("protobuf", registry=registry, subject="m-value", schema=v2)
    decoder = make_decoder("protobuf", registry=registry, subject="m-value")
    assert decoder.decode(value) == {"a": 5, "b": ""}


def test_malformed_payloads_and_headers(registry: SchemaRegistry) -> None:
    encoder = make_encoder("protobuf", registry=registry, subject="orders-value", schema=PROTO)
    decoder = make_decoder("protobuf", registry=registry, subject="orders-value")
    good = encoder.encode(ORDER)
    err = decode_error(decoder, good[:-3])
    assert err.kind == "parse" and "malformed Protobuf Order" in err.reason
    err = decode_error(decoder, good[:5] + b"\x06\x00\x00\x00")  # indexes [0, 0, 0]: not there
    assert err.kind == "schema" and "message index path" in err.reason
    err = decode_error(decoder, good[:5] + b"\xff")  # varint cut short
    assert err.kind == "parse" and "truncated" in err.reason
    err = decode_error(decoder, b"\x00\x00\x00\x01\x00\x00")
    assert err.kind == "schema" and "unknown schema id 256" in err.reason
    plain = make_decoder("protobuf", schema=PROTO)
    assert decode_error(plain, b"\x0a\xff\xff").kind == "parse"


def test_varints_round_trip() -> None:
    for indexes in ([0], [1], [0, 1], [3, 200, 70000]):
        data = memoryview(wire.write_indexes(indexes) + b"rest")
        found, rest = wire.read_indexes(data)
        assert found == indexes and bytes(rest) == b"rest"


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="'Nope' is not in the schema"):
        make_decoder("protobuf", schema=PROTO, message="Nope")
    with pytest.raises(ConfigError, match=r"needs a \.proto schema"):
        make_decoder("protobuf")
    with pytest.raises(ConfigError, match=r"'colour' is not in Protobuf message shop\.Order"):
        make_encoder("protobuf", schema=PROTO).encode({"colour": "red"})
