"""Comparing two engines' outputs: names, row count, values row by row, compatible types."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

import pyarrow as pa


def family(t: pa.DataType) -> Any:
    """A type with the differences that don't matter erased (widths, list field names)."""
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "binary"
    if pa.types.is_timestamp(t):
        return ("timestamp", t.tz is not None)
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return ("list", family(t.value_type))
    if pa.types.is_map(t):
        return ("map", family(t.key_type), family(t.item_type))
    if pa.types.is_struct(t):
        return ("struct", tuple((f.name, family(f.type)) for f in t))
    return str(t)


def same_value(a: Any, b: Any) -> bool:
    """Equal, with floats within 1e-9 relative, NaN equal to NaN, nested values compared."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float | decimal.Decimal) or isinstance(b, float | decimal.Decimal):
        if isinstance(a, bool) or isinstance(b, bool):
            return a == b
        try:
            x, y = float(a), float(b)
        except (TypeError, ValueError):
            return False
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if a and isinstance(a[0], tuple) and len(a[0]) == 2:  # maps come as (key, value) pairs
            a, b = sorted(a, key=repr), sorted(b, key=repr)
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a == b and (a.tzinfo is None) == (b.tzinfo is None)
    return bool(type(a) is type(b) and a == b)


def differences(duck: pa.Table, spark: pa.Table, limit: int = 5) -> list[str]:
    """What differs between the two outputs (empty when they agree)."""
    if duck.column_names != spark.column_names:
        return [f"columns differ: duckdb {duck.column_names} vs spark {spark.column_names}"]
    out = []
    for f_duck, f_spark in zip(duck.schema, spark.schema, strict=True):
        if family(f_duck.type) != family(f_spark.type):
            out.append(f"column {f_duck.name}: duckdb {f_duck.type} vs spark {f_spark.type}")
    if duck.num_rows != spark.num_rows:
        return [*out, f"row counts differ: duckdb {duck.num_rows} vs spark {spark.num_rows}"]
    for name in duck.column_names:
        left, right = duck.column(name).to_pylist(), spark.column(name).to_pylist()
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            if not same_value(a, b):
                out.append(f"column {name}, row {i}: duckdb {a!r} vs spark {b!r}")
                if len(out) >= limit:
                    return out
    return out
