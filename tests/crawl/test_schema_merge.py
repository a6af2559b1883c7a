"""Schema merging: type widening, struct and list merging, policies, fingerprints."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lakebed.crawl.schema_merge import (
    apply_schema_policy,
    diff_schemas,
    fingerprint,
    merge_schemas,
    merge_types,
    name_overlap,
)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (pa.int32(), pa.int64(), pa.int64()),
        (pa.int8(), pa.int32(), pa.int32()),
        (pa.uint32(), pa.int8(), pa.int64()),
        (pa.uint64(), pa.int64(), pa.float64()),
        (pa.int64(), pa.float64(), pa.float64()),
        (pa.int32(), pa.float32(), pa.float64()),
        (pa.float32(), pa.float64(), pa.float64()),
        (pa.null(), pa.int32(), pa.int32()),
        (pa.timestamp("s"), pa.null(), pa.timestamp("s")),
        (pa.date32(), pa.timestamp("us"), pa.timestamp("us")),
        (pa.timestamp("ms"), pa.timestamp("us", tz="UTC"), pa.timestamp("us", tz="UTC")),
        (pa.int64(), pa.string(), pa.string()),
        (pa.string(), pa.bool_(), pa.string()),
        (pa.bool_(), pa.int64(), pa.string()),
        (pa.int64(), pa.struct([("a", pa.int64())]), pa.string()),
        (pa.decimal128(10, 2), pa.decimal128(12, 4), pa.decimal128(12, 4)),
        (pa.decimal128(10, 2), pa.int64(), pa.float64()),
        (pa.binary(), pa.large_binary(), pa.large_binary()),
        (pa.list_(pa.int32()), pa.list_(pa.int64()), pa.list_(pa.int64())),
        (pa.list_(pa.null()), pa.list_(pa.string()), pa.list_(pa.string())),
    ],
)
def test_merge_types_widens_to_the_narrowest_common_type(
    a: pa.DataType, b: pa.DataType, expected: pa.DataType
) -> None:
    assert merge_types(a, b) == expected
    assert merge_types(b, a) == expected


def test_struct_fields_are_unioned_and_merged() -> None:
    a = pa.struct([("id", pa.int32()), ("tags", pa.list_(pa.string()))])
    b = pa.struct([("id", pa.int64()), ("geo", pa.struct([("lat", pa.float64())]))])
    merged = merge_types(a, b)
    assert merged == pa.struct(
        [
            ("id", pa.int64()),
            ("tags", pa.list_(pa.string())),
            ("geo", pa.struct([("lat", pa.float64())])),
        ]
    )


def test_merge_schemas_keeps_first_seen_order_and_makes_columns_nullable() -> None:
    s1 = pa.schema([pa.field("id", pa.int32(), nullable=False), ("name", pa.string())])
    s2 = pa.schema([("id", pa.int64()), ("score", pa.float32()), ("name", pa.null())])
    merged = merge_schemas([s1, s2])
    assert merged.names == ["id", "name", "score"]
    assert merged.field("id").type == pa.int64()
    assert merged.field("name").type == pa.string()
    assert all(f.nullable for f in merged)


def test_fingerprint_ignores_metadata_but_not_types() -> None:
    s = pa.schema([("a", pa.int64())])
    assert fingerprint(s) == fingerprint(s.with_metadata({b"k": b"v"}))
    assert fingerprint(s) != fingerprint(pa.schema([("a", pa.int32())]))
    assert fingerprint(s) != fingerprint(pa.schema([("b", pa.int64())]))


def test_name_overlap_is_relative_to_the_smaller_schema() -> None:
    old = pa.schema([("a", pa.int64()), ("b", pa.int64())])
    grown = pa.schema([("a", pa.int64()), ("b", pa.int64()), ("c", pa.int64())])
    other = pa.schema([("x", pa.int64()), ("y", pa.int64()), ("a", pa.int64())])
    assert name_overlap(old, grown) == 1.0
    assert name_overlap(old, other) == 0.5
    assert name_overlap(pa.schema([]), old) == 0.0


def test_diff_schemas_names_added_widened_changed_and_removed_columns() -> None:
    old = pa.schema([("id", pa.int32()), ("v", pa.int64()), ("gone", pa.string())])
    new = pa.schema([("id", pa.int64()), ("v", pa.struct([("x", pa.int8())])), ("c", pa.string())])
    assert diff_schemas(old, new) == [
        "widened column id: int32 -> int64",
        "changed column v: int64 -> struct<x: int8>",
        "added column c: string",
        "removed column gone",
    ]
    assert diff_schemas(old, old) == []


def test_schema_policies() -> None:
    old = pa.schema([("id", pa.int32()), ("name", pa.string())])
    merged = pa.schema([("id", pa.int64()), ("name", pa.string()), ("email", pa.string())])
    assert apply_schema_policy(old, merged, "update") == merged
    assert apply_schema_policy(old, merged, "log") == old
    added = apply_schema_policy(old, merged, "add_columns")
    assert added.names == ["id", "name", "email"]
    assert added.field("id").type == pa.int32()
