"""Arrow ↔ Iceberg schemas, and the rules for fitting new data into an existing table.

Iceberg has fewer types than Arrow, so data is first *normalised* to the Arrow types Iceberg
stores: timestamps and times become microseconds, unsigned and small integers widen, large and
view strings become plain strings, dictionaries decode, and all-null columns become strings.

:func:`plan_merge` then compares the data with the table: new columns are added (as nullable),
safe widenings (int32→int64, float32→float64, more decimal precision) evolve the table, data
narrower than its column is cast up, and anything else is a :class:`SchemaError` naming the
column. Only top-level columns evolve; nested types must match the table after normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.io.pyarrow import (
    _pyarrow_schema_ensure_small_types,
    _pyarrow_to_schema_without_ids,
    schema_to_pyarrow,
)
from pyiceberg.schema import Schema, assign_fresh_schema_ids
from pyiceberg.types import IcebergType

from lakebed.errors import SchemaError

_UTC_NAMES = {"UTC", "utc", "Etc/UTC", "+00:00", "Z", "GMT"}


def normalize_type(t: pa.DataType, column: str) -> pa.DataType:
    """The Arrow type Iceberg stores for ``t``; SchemaError names ``column`` if there is none."""
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC" if t.tz else None)
    if pa.types.is_time(t):
        return pa.time64("us")
    if pa.types.is_date(t):
        return pa.date32()
    if pa.types.is_null(t):
        return pa.string()
    if pa.types.is_dictionary(t):
        return normalize_type(t.value_type, column)
    if pa.types.is_unsigned_integer(t):
        return pa.int32() if t.bit_width <= 16 else pa.int64()
    if pa.types.is_integer(t):
        return pa.int64() if t.bit_width == 64 else pa.int32()
    if pa.types.is_float16(t):
        return pa.float32()
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_decimal(t):
        if t.precision > 38:
            raise SchemaError(
                f"column {column!r} is {t} but tables hold decimals of at most 38 digits",
                fix=f"cast {column!r} to decimal128(38, {min(t.scale, 38)}) or float64",
            )
        return pa.decimal128(t.precision, t.scale)
    if pa.types.is_struct(t):
        return pa.struct([normalize_field(t.field(i), column) for i in range(t.num_fields)])
    if pa.types.is_map(t):
        return pa.map_(
            normalize_type(t.key_type, column),
            normalize_field(t.item_field, column),
        )
    if (
        pa.types.is_list(t)
        or pa.types.is_large_list(t)
        or pa.types.is_fixed_size_list(t)
        or pa.types.is_list_view(t)
        or pa.types.is_large_list_view(t)
    ):
        return pa.list_(normalize_field(t.value_field, column))
    if (
        pa.types.is_boolean(t)
        or pa.types.is_floating(t)
        or pa.types.is_fixed_size_binary(t)
        or isinstance(t, pa.UuidType)
    ):
        return t
    raise SchemaError(
        f"column {column!r} has type {t}, which tables cannot store",
        fix=f"cast {column!r} to a supported type (int64, float64, string, timestamp, ...)",
    )


def normalize_field(f: pa.Field, column: str | None = None) -> pa.Field:
    """``f`` with its type normalised; metadata (e.g. field ids) is dropped."""
    return pa.field(f.name, normalize_type(f.type, column or f.name), nullable=f.nullable)


def normalize_schema(schema: pa.Schema) -> pa.Schema:
    """The schema a table created from ``schema`` would have; duplicate names are errors."""
    seen: dict[str, str] = {}
    for name in schema.names:
        if name.lower() in seen:
            raise SchemaError(
                f"columns {seen[name.lower()]!r} and {name!r} differ only by case or repeat",
                fix="rename one of them; SQL treats column names case-insensitively",
            )
        seen[name.lower()] = name
    return pa.schema([normalize_field(f) for f in schema])


def to_iceberg_schema(schema: pa.Schema) -> Schema:
    """An Iceberg schema with fresh field ids for a (normalised) Arrow schema."""
    return assign_fresh_schema_ids(_pyarrow_to_schema_without_ids(normalize_schema(schema)))


def to_iceberg_type(t: pa.DataType, column: str) -> IcebergType:
    """The Iceberg type of one (normalised) Arrow type."""
    converted = _pyarrow_to_schema_without_ids(pa.schema([pa.field(column, t)]))
    return converted.fields[0].field_type


def to_arrow_schema(schema: Schema) -> pa.Schema:
    """The Arrow schema of an Iceberg schema, as scans return it."""
    return _pyarrow_schema_ensure_small_types(schema_to_pyarrow(schema, include_field_ids=False))


def small_types(data: pa.Table) -> pa.Table:
    """``data`` with large strings, binaries and lists cast to the plain ones scans promise."""
    wanted = _pyarrow_schema_ensure_small_types(data.schema)
    return data if wanted == data.schema else data.cast(wanted)


def _is_widening(old: pa.DataType, new: pa.DataType) -> bool:
    """True when Iceberg can promote a column from ``old`` to ``new`` in place."""
    if old == pa.int32() and new == pa.int64():
        return True
    if old == pa.float32() and new == pa.float64():
        return True
    return (
        pa.types.is_decimal(old)
        and pa.types.is_decimal(new)
        and old.scale == new.scale
        and new.precision > old.precision
    )


def _fits(data: pa.DataType, column: pa.DataType) -> bool:
    """True when data of type ``data`` can be cast into a column of type ``column``."""
    if data == column or _is_widening(data, column):
        return True
    return pa.types.is_integer(data) and pa.types.is_floating(column)


@dataclass
class MergePlan:
    """How data must change a table: columns to add and to widen, and the final Arrow schema."""

    add: list[pa.Field] = field(default_factory=list)
    widen: dict[str, pa.DataType] = field(default_factory=dict)
    target: pa.Schema = field(default_factory=lambda: pa.schema([]))

    @property
    def evolves(self) -> bool:
        return bool(self.add or self.widen)


def plan_merge(table: pa.Schema, data: pa.Schema, ident: str) -> MergePlan:
    """Compare incoming ``data`` with the ``table`` schema; SchemaError if they cannot merge."""
    data = normalize_schema(data)
    by_lower = {name.lower(): name for name in table.names}
    plan = MergePlan()
    for incoming in data:
        name = incoming.name
        if name not in table.names:
            if name.lower() in by_lower:
                raise SchemaError(
                    f"column {name!r} of the data differs only by case from column "
                    f"{by_lower[name.lower()]!r} of table {ident}",
                    fix=f"rename the data column to {by_lower[name.lower()]!r}",
                )
            plan.add.append(pa.field(name, incoming.type, nullable=True))
            continue
        current = table.field(name).type
        if _fits(incoming.type, current):
            continue
        if _is_widening(current, incoming.type):
            plan.widen[name] = incoming.type
            continue
        raise SchemaError(
            f"column {name!r} of table {ident} is {current} but the data has {incoming.type}",
            fix=f"cast {name!r} to {current} before writing, or write to a new table",
        )
    fields = [
        pa.field(f.name, plan.widen.get(f.name, f.type), nullable=f.nullable) for f in table
    ] + plan.add
    plan.target = pa.schema(fields)
    return plan


def conform(data: pa.Table, target: pa.Schema, ident: str) -> pa.Table:
    """``data`` reordered and cast to ``target``, missing nullable columns filled with nulls."""
    columns: list[pa.ChunkedArray] = []
    for f in target:
        if f.name not in data.column_names:
            if not f.nullable:
                raise SchemaError(
                    f"the data lacks column {f.name!r}, which table {ident} requires",
                    fix=f"add {f.name!r} to the data",
                )
            columns.append(pa.chunked_array([pa.nulls(data.num_rows, f.type)], type=f.type))
            continue
        column = data.column(f.name)
        if not f.nullable and column.null_count:
            raise SchemaError(
                f"column {f.name!r} has {column.null_count} null values but table {ident} "
                "requires a value in every row",
                fix=f"fill or drop the rows where {f.name!r} is null",
            )
        columns.append(_cast(column, f, ident))
    return pa.Table.from_arrays(columns, schema=target)


def _cast(column: pa.ChunkedArray, f: pa.Field, ident: str) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if column.type == f.type:
        return column
    source = column.type
    if pa.types.is_timestamp(source) and source.tz and source.tz not in _UTC_NAMES:
        column = column.cast(pa.timestamp(source.unit, tz="UTC"))
    try:
        # Iceberg keeps microseconds: finer timestamps and times are truncated on purpose.
        options = pc.CastOptions(f.type, allow_time_truncate=True)
        return pc.cast(column, options=options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise SchemaError(
            f"column {f.name!r} cannot be stored in table {ident} as {f.type}: {exc}",
            fix=f"cast or clean {f.name!r} before writing",
        ) from None
