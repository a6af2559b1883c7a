"""Fitting one file's record batches to a table's schema, for converting crawls. Pure.

Columns are matched by name; a column the file lacks is null; types are cast (structs by field
name, lists by element); a value of a type that merged to ``string`` (a struct, a list) is kept
as its JSON text. Partition columns are filled with the file's values from its folder path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lakebed.errors import SchemaError


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _as_text(column: pa.Array, target: pa.DataType) -> pa.Array:
    values = [
        None if v is None else v if isinstance(v, str) else json.dumps(v, default=_json_default)
        for v in column.to_pylist()
    ]
    return pa.array(values, target)


def cast_column(column: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    """``column`` as ``target``; SchemaError naming the column when its values do not fit."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if column.type.equals(target):
        return column
    try:
        return pc.cast(column, options=pc.CastOptions(target, allow_time_truncate=True))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as err:
        if pa.types.is_string(target) or pa.types.is_large_string(target):
            return _as_text(column, target)
        raise SchemaError(
            f"column {name!r} ({column.type}) cannot be stored as {target}: {err}",
            fix="clean the file, or crawl with schema_policy='update' so the type widens",
        ) from None


def conform_batch(
    batch: pa.RecordBatch, target: pa.Schema, constants: Mapping[str, Any]
) -> pa.RecordBatch:
    """``batch`` with exactly ``target``'s columns; ``constants`` fill the partition columns."""
    arrays: list[pa.Array] = []
    rows = batch.num_rows
    for field in target:
        if field.name in constants:
            value = constants[field.name]
            scalar = pa.scalar(value, type=field.type)
            arrays.append(
                pa.repeat(scalar, rows) if value is not None else pa.nulls(rows, field.type)
            )
        elif field.name in batch.schema.names:
            arrays.append(cast_column(batch.column(field.name), field.type, field.name))
        else:
            arrays.append(pa.nulls(rows, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=target)
