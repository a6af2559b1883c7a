"""Parsing partition and sort specs (pure functions, no catalog needed)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from pyiceberg.table.sorting import NullOrder, SortDirection
from pyiceberg.transforms import BucketTransform, DayTransform, IdentityTransform

from lakebed.catalog.partitioning import (
    build_partition_spec,
    build_sort_order,
    describe_sort_order,
    parse_transform,
)
from lakebed.catalog.schema import to_iceberg_schema
from lakebed.errors import ConfigError

SCHEMA = to_iceberg_schema(
    pa.schema([("id", pa.int64()), ("ts", pa.timestamp("us")), ("name", pa.string())])
)


def test_parse_transforms() -> None:
    assert parse_transform("name").transform == IdentityTransform()
    day = parse_transform(" DAYS( ts ) ")
    assert (day.column, day.transform, day.field_name) == ("ts", DayTransform(), "ts_day")
    bucket = parse_transform("bucket(16,id)")
    assert bucket.transform == BucketTransform(num_buckets=16)
    assert bucket.field_name == "id_bucket"
    assert parse_transform("truncate(3, name)").field_name == "name_trunc"


@pytest.mark.parametrize("text", ["", "day()", "day(ts", "bucket(x, id)", "truncate(name)", "a b"])
def test_malformed_specs_name_the_input(text: str) -> None:
    with pytest.raises(ConfigError, match="invalid partition spec") as err:
        parse_transform(text)
    assert repr(text) in str(err.value)
    assert "bucket(16, id)" in str(err.value)  # the fix shows the accepted forms


def test_partition_spec_field_ids_and_duplicates() -> None:
    spec = build_partition_spec(SCHEMA, ["day(ts)", "bucket(4, id)"])
    assert [f.field_id for f in spec.fields] == [1000, 1001]
    assert [f.source_id for f in spec.fields] == [2, 1]
    with pytest.raises(ConfigError, match="repeats"):
        build_partition_spec(SCHEMA, ["day(ts)", "days(ts)"])
    with pytest.raises(ConfigError, match=r"'idd'.*did you mean 'id'"):
        build_partition_spec(SCHEMA, ["bucket(4, idd)"])


def test_sort_order() -> None:
    order = build_sort_order(SCHEMA, ["ts desc", "name asc nulls last", "id"])
    directions = [(f.direction, f.null_order) for f in order.fields]
    assert directions == [
        (SortDirection.DESC, NullOrder.NULLS_LAST),
        (SortDirection.ASC, NullOrder.NULLS_LAST),
        (SortDirection.ASC, NullOrder.NULLS_FIRST),
    ]
    assert describe_sort_order(order, SCHEMA) == ["ts desc", "name", "id"]
    with pytest.raises(ConfigError, match="sort spec"):
        build_sort_order(SCHEMA, ["day(name)"])
