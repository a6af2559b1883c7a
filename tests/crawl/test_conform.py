"""Fitting a file's batches to a table schema."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from lakebed.crawl.conform import conform_batch
from lakebed.errors import SchemaError


def test_conform_orders_casts_fills_and_adds_partition_values() -> None:
    batch = pa.record_batch(
        {
            "b": pa.array([{"x": 1}, None], pa.struct([("x", pa.int32())])),
            "a": pa.array([1, 2], pa.int32()),
            "extra": ["dropped", "too"],
        }
    )
    target = pa.schema(
        [
            ("a", pa.int64()),
            ("b", pa.struct([("x", pa.int64()), ("y", pa.string())])),
            ("missing", pa.float64()),
            ("day", pa.date32()),
        ]
    )
    out = conform_batch(batch, target, {"day": date(2024, 1, 2)})
    assert out.schema == target
    assert out.to_pylist() == [
        {"a": 1, "b": {"x": 1, "y": None}, "missing": None, "day": date(2024, 1, 2)},
        {"a": 2, "b": None, "missing": None, "day": date(2024, 1, 2)},
    ]


def test_values_merged_to_string_keep_their_json_text() -> None:
    batch = pa.record_batch({"v": pa.array([{"k": 1}], pa.struct([("k", pa.int64())]))})
    out = conform_batch(batch, pa.schema([("v", pa.string())]), {})
    assert out.column(0).to_pylist() == ['{"k": 1}']


def test_values_that_do_not_fit_name_the_column() -> None:
    batch = pa.record_batch({"n": ["1", "x"]})
    with pytest.raises(SchemaError, match="'n'"):
        conform_batch(batch, pa.schema([("n", pa.int64())]), {})
