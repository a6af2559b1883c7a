"""Converting decoded records to Arrow per the table's schema, bad rows set aside."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from lakebed.errors import ConfigError
from lakebed.streams.convert import Converter

UTC = dt.UTC
SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("qty", pa.int32()),
        pa.field("price", pa.float64()),
        pa.field("name", pa.large_string()),
        pa.field("paid", pa.bool_()),
        pa.field("at", pa.timestamp("us", tz="UTC")),
        pa.field("day", pa.date32()),
        pa.field("amount", pa.decimal128(10, 2)),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("address", pa.struct([("city", pa.string()), ("zip", pa.int32())])),
    ]
)


def test_good_batch_keeps_order_and_schema() -> None:
    rows = [
        {"id": 1, "qty": 2, "price": 3, "name": "a", "paid": True,
         "at": dt.datetime(2024, 1, 1, tzinfo=UTC), "day": dt.date(2024, 1, 1),
         "amount": Decimal("1.50"), "tags": ["x"], "address": {"city": "Oslo", "zip": 150}},
        {"id": 2},
    ]  # fmt: skip
    table, errors = Converter(SCHEMA).convert(rows)
    assert errors == []
    assert table.schema == SCHEMA
    assert table.column("id").to_pylist() == [1, 2]
    assert table.column("price").to_pylist() == [3.0, None]  # an int into a double column
    assert table.to_pylist()[0]["address"] == {"city": "Oslo", "zip": 150}
    assert table.to_pylist()[1]["tags"] is None


def test_coercions() -> None:
    rows = [
        {"id": "7", "qty": 4.0, "price": "2.5", "name": 12, "paid": "true",
         "at": "2024-05-01T12:00:00+02:00", "day": "2024-05-01", "amount": 3.14159,
         "tags": ("a", "b"), "address": {"zip": "150"}},
        {"id": 8, "at": 1714557600000, "day": "2024-05-02T23:00:00", "amount": "10"},
        {"id": 9, "at": "2024-05-01T10:00:00", "day": 19844, "amount": 5},
    ]  # fmt: skip
    table, errors = Converter(SCHEMA).convert(rows)
    assert errors == []
    got = table.to_pylist()
    assert (got[0]["id"], got[0]["qty"], got[0]["price"], got[0]["name"], got[0]["paid"]) == (
        7, 4, 2.5, "12", True
    )  # fmt: skip
    assert got[0]["at"] == dt.datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert got[1]["at"] == dt.datetime(2024, 5, 1, 10, 0, tzinfo=UTC)  # epoch milliseconds
    assert got[2]["at"] == dt.datetime(2024, 5, 1, 10, 0, tzinfo=UTC)  # naive taken as UTC
    assert [r["day"] for r in got] == [
        dt.date(2024, 5, 1),
        dt.date(2024, 5, 2),
        dt.date(2024, 5, 1),
    ]
    assert [r["amount"] for r in got] == [Decimal("3.14"), Decimal("10.00"), Decimal("5.00")]
    assert got[0]["tags"] == ["a", "b"] and got[0]["address"] == {"city": None, "zip": 150}


def test_epoch_millis_on_the_fast_path_are_not_read_as_microseconds() -> None:
    schema = pa.schema([pa.field("at", pa.timestamp("us"))])
    table, errors = Converter(schema).convert([{"at": 1_700_000_000_000}, {"at": None}])
    assert errors == []
    assert table.column("at").to_pylist() == [dt.datetime(2023, 11, 14, 22, 13, 20), None]


def test_bad_rows_are_reported_by_index_and_the_rest_kept() -> None:
    rows = [
        {"id": 1, "qty": "abc"},
        {"id": 2},
        {"qty": 1},
        {"id": None},
        {"id": 3, "colour": "red"},
        {"id": 4, "qty": 2**40},
        {"id": 5, "at": "yesterday"},
        {"id": 6, "amount": 123456789.123},
        {"id": 7, "address": "Oslo"},
        {"id": 8, "tags": "a,b"},
        {"id": 9, "paid": "maybe"},
        {"id": 10, "price": True},
        {"id": 11},
    ]
    table, errors = Converter(SCHEMA).convert(rows)
    assert table.column("id").to_pylist() == [2, 11]
    found = {i: (e.kind, e.reason) for i, e in errors}
    assert found == {
        0: ("conversion", "field 'qty': 'abc' is not an int"),
        2: ("schema", "required field 'id' is missing"),
        3: ("schema", "required field 'id' is null"),
        4: ("schema", "field 'colour' is not a column of the table; add the column, or set "
                      "unknown_fields='ignore' on the stream"),
        5: ("conversion", "field 'qty': 1099511627776 is out of range for int"),
        6: ("conversion", "field 'at': 'yesterday' is not an ISO-8601 timestamp"),
        7: ("conversion", "field 'amount': 123456789.123 does not fit decimal(10, 2)"),
        8: ("conversion", "field 'address': 'Oslo' is not a struct (an object)"),
        9: ("conversion", "field 'tags': 'a,b' is not a list"),
        10: ("conversion", "field 'paid': 'maybe' is not a boolean"),
        11: ("conversion", "field 'price': True is not a double"),
    }  # fmt: skip


def test_nested_values_are_checked_with_their_path() -> None:
    table, errors = Converter(SCHEMA).convert(
        [{"id": 1, "address": {"zip": "north"}}, {"id": 2, "tags": ["a", {"b": 1}]}]
    )
    assert table.num_rows == 0
    assert [(i, e.reason) for i, e in errors] == [
        (0, "field 'address.zip': 'north' is not an int"),
        (1, "field 'tags[]': {'b': 1} is not a string"),
    ]


def test_unknown_fields_ignored_when_asked() -> None:
    table, errors = Converter(SCHEMA, unknown_fields="ignore").convert(
        [{"id": 1, "colour": "red"}, {"id": 2, "qty": "x", "colour": "blue"}]
    )
    assert table.column("id").to_pylist() == [1]
    assert [(i, e.kind) for i, e in errors] == [(1, "conversion")]
    with pytest.raises(ConfigError, match="unknown_fields"):
        Converter(SCHEMA, unknown_fields="drop")  # type: ignore[arg-type]


def test_required_nested_fields_and_maps() -> None:
    schema = pa.schema(
        [
            pa.field("point", pa.struct([pa.field("x", pa.float64(), nullable=False)])),
            pa.field("counts", pa.map_(pa.string(), pa.int64())),
        ]
    )
    table, errors = Converter(schema).convert(
        [{"point": {"x": 1}, "counts": {"a": 1}}, {"point": {}}, {"counts": {"a": "z"}}]
    )
    assert table.to_pylist() == [{"point": {"x": 1.0}, "counts": [("a", 1)]}]
    assert [(i, e.kind, e.reason) for i, e in errors] == [
        (1, "schema", "required field 'point.x' is missing"),
        (2, "conversion", "field 'counts.value': 'z' is not a long"),
    ]


def test_empty_batch() -> None:
    table, errors = Converter(SCHEMA).convert([])
    assert table.num_rows == 0 and table.schema == SCHEMA and errors == []
