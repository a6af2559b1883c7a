"""Sample tables and schemas shared by the format tests."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pyarrow as pa
import pytest

UTC = dt.UTC

PROTO = """
syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
enum Kind { KIND_UNKNOWN = 0; ONLINE = 1; STORE = 2; }
message Address { string city = 1; int32 zip = 2; }
message Order {
  int64 id = 1;
  string customer = 2;
  repeated string tags = 3;
  Address address = 4;
  Kind kind = 5;
  google.protobuf.Timestamp placed = 6;
  optional double total = 7;
  map<string, int32> counts = 8;
  repeated Address history = 9;
}
"""


def flat_table() -> pa.Table:
    """Scalars of every common kind, with nulls and text that needs quoting."""
    return pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "score": pa.array([1.5, None, -2.25], pa.float64()),
            "name": pa.array(["a", None, 'c,"quoted"\nsecond line'], pa.string()),
            "ok": pa.array([True, False, None]),
            "ts": pa.array(
                [
                    dt.datetime(2024, 1, 1, 12, tzinfo=UTC),
                    None,
                    dt.datetime(1999, 12, 31, 23, 59, 59, 123456, tzinfo=UTC),
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "day": pa.array([dt.date(2024, 1, 1), dt.date(2000, 2, 29), None], pa.date32()),
        }
    )


def nested_table() -> pa.Table:
    """The flat table plus a struct, a list and a list of structs."""
    table = flat_table()
    point = pa.array(
        [{"x": 1, "y": "a"}, None, {"x": 3, "y": None}],
        pa.struct([("x", pa.int64()), ("y", pa.string())]),
    )
    tags = pa.array([[1, 2], [], None], pa.list_(pa.int64()))
    items = pa.array(
        [[{"sku": "p1", "qty": 2}], None, [{"sku": "p2", "qty": None}, {"sku": "p3", "qty": 1}]],
        pa.list_(pa.struct([("sku", pa.string()), ("qty", pa.int64())])),
    )
    return (
        table.append_column("point", point)
        .append_column("tags", tags)
        .append_column("items", items)
    )


def typed_table() -> pa.Table:
    """The nested table plus the types binary formats keep: decimal, naive time, map, bytes."""
    table = nested_table()
    return (
        table.append_column(
            "price",
            pa.array(
                [decimal.Decimal("1.23"), None, decimal.Decimal("-99999.99")], pa.decimal128(7, 2)
            ),
        )
        .append_column(
            "local",
            pa.array(
                [dt.datetime(2020, 6, 1, 8, 30), None, dt.datetime(1970, 1, 1)],
                pa.timestamp("ms"),
            ),
        )
        .append_column(
            "attrs",
            pa.array([[("k", 1)], [], None], pa.map_(pa.string(), pa.int64())),
        )
        .append_column("blob", pa.array([b"\x00\xff", None, b""], pa.binary()))
    )


@pytest.fixture()
def proto_file(tmp_path: Path) -> Path:
    """A .proto with nested, repeated, enum, map, timestamp and optional fields."""
    path = tmp_path / "shop.proto"
    path.write_text(PROTO)
    return path


def order_rows() -> list[dict]:
    """Rows of ``shop.Order``, one full and one with every field unset."""
    return [
        {
            "id": 1,
            "customer": "ann",
            "tags": ["a", "b"],
            "address": {"city": "Oslo", "zip": 150},
            "kind": "ONLINE",
            "placed": dt.datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
            "total": 9.5,
            "counts": [("x", 1), ("y", 2)],
            "history": [{"city": "Bergen", "zip": 5003}],
        },
        {
            "id": 2,
            "customer": "",
            "tags": [],
            "address": None,
            "kind": "KIND_UNKNOWN",
            "placed": None,
            "total": None,
            "counts": [],
            "history": [],
        },
    ]
