"""Arrow <-> Avro schema mapping, including nested and logical types.

| Arrow | Avro |
|---|---|
| bool, int8..32, uint8..16, int64, uint32 | boolean, int, long |
| float16/32, float64 | float, double |
| string, binary, fixed_size_binary(n) | string, bytes, fixed(n) |
| date32 | int date |
| time32(ms), time64(us) | int time-millis, long time-micros |
| timestamp(ms/us, tz) | long timestamp-millis/micros (UTC; read back as UTC) |
| timestamp(ms/us) without zone | long local-timestamp-millis/micros |
| decimal(p, s) | bytes decimal |
| list, struct, map<string, V> | array, record, map |

A nullable Arrow field is the union ``["null", T]``. Avro enums and uuids read as strings; a
union of several non-null types reads as a string holding the value's JSON text. Timestamps in
seconds widen to milliseconds, nanoseconds truncate to microseconds (Avro has no nanoseconds
in fastavro), uint64 becomes long.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from lakebed.errors import SchemaError

AvroType = Any  # str | dict | list, as in an Avro schema document
Fixer = Callable[[Any], Any]


def arrow_to_avro(schema: pa.Schema, name: str = "Record", namespace: str = "lakebed") -> dict:
    """The Avro record schema for an Arrow schema."""
    names: set[str] = set()
    return {
        "type": "record",
        "name": name,
        "namespace": namespace,
        "fields": [_field(f, name, names) for f in schema],
    }


def avro_compatible(schema: pa.Schema) -> pa.Schema:
    """``schema`` with the types Avro cannot hold as such replaced by ones it can."""
    return pa.schema([f.with_type(_compatible(f.type)) for f in schema], metadata=schema.metadata)


def _compatible(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):
        unit = {"s": "ms", "ns": "us"}.get(t.unit, t.unit)
        return pa.timestamp(unit, tz=t.tz)
    if pa.types.is_time(t):
        return pa.time32("ms") if t.unit in ("s", "ms") else pa.time64("us")
    if pa.types.is_date64(t):
        return pa.date32()
    if pa.types.is_float16(t):
        return pa.float32()
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_dictionary(t):
        return _compatible(t.value_type)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return pa.list_(t.value_field.with_type(_compatible(t.value_type)))
    if pa.types.is_struct(t):
        return pa.struct(
            [t.field(i).with_type(_compatible(t.field(i).type)) for i in range(t.num_fields)]
        )
    if pa.types.is_map(t):
        return pa.map_(_compatible(t.key_type), t.item_field.with_type(_compatible(t.item_type)))
    return t


def _field(field: pa.Field, parent: str, names: set[str]) -> dict:
    avro = _type(field.type, f"{parent}_{field.name}", names)
    if field.nullable:
        return {"name": field.name, "type": ["null", avro], "default": None}
    return {"name": field.name, "type": avro}


def _unique(name: str, names: set[str]) -> str:
    candidate, n = name, 1
    while candidate in names:
        candidate, n = f"{name}_{n}", n + 1
    names.add(candidate)
    return candidate


def _type(t: pa.DataType, path: str, names: set[str]) -> AvroType:
    t = _compatible(t)
    simple = {
        pa.null(): "null",
        pa.bool_(): "boolean",
        pa.int8(): "int",
        pa.int16(): "int",
        pa.int32(): "int",
        pa.uint8(): "int",
        pa.uint16(): "int",
        pa.int64(): "long",
        pa.uint32(): "long",
        pa.uint64(): "long",
        pa.float32(): "float",
        pa.float64(): "double",
        pa.string(): "string",
        pa.binary(): "bytes",
    }
    if t in simple:
        return simple[t]
    if pa.types.is_fixed_size_binary(t):
        return {"type": "fixed", "name": _unique(path, names), "size": t.byte_width}
    if pa.types.is_date32(t):
        return {"type": "int", "logicalType": "date"}
    if pa.types.is_time32(t):
        return {"type": "int", "logicalType": "time-millis"}
    if pa.types.is_time64(t):
        return {"type": "long", "logicalType": "time-micros"}
    if pa.types.is_timestamp(t):
        unit = "millis" if t.unit == "ms" else "micros"
        local = "" if t.tz else "local-"
        return {"type": "long", "logicalType": f"{local}timestamp-{unit}"}
    if pa.types.is_decimal(t):
        return {
            "type": "bytes",
            "logicalType": "decimal",
            "precision": t.precision,
            "scale": t.scale,
        }
    if pa.types.is_list(t):
        return {"type": "array", "items": _nullable(t.value_field, path, names)}
    if pa.types.is_map(t):
        if not pa.types.is_string(t.key_type):
            raise SchemaError(
                f"avro maps need string keys; column part {path!r} has {t.key_type} keys",
                fix="cast the map keys to string, or write parquet or orc",
            )
        return {"type": "map", "values": _nullable(t.item_field, path, names)}
    if pa.types.is_struct(t):
        return {
            "type": "record",
            "name": _unique(path, names),
            "fields": [_field(t.field(i), path, names) for i in range(t.num_fields)],
        }
    raise SchemaError(
        f"avro cannot hold {t} (column part {path!r})",
        fix="cast the column to a supported type, or write parquet",
    )


def _nullable(field: pa.Field, path: str, names: set[str]) -> AvroType:
    avro = _type(field.type, path, names)
    return ["null", avro] if field.nullable else avro


def avro_to_arrow(schema: dict) -> tuple[pa.Schema, Fixer | None]:
    """The Arrow schema of an Avro record schema, and a row function for values to adjust."""
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise SchemaError(
            f"the avro file holds {schema!r}, not records",
            fix="only files of avro records can be read as tables",
        )
    field, fixer = _record(schema, {})
    return pa.schema(list(field)), fixer


def _record(schema: dict, named: dict[str, Any]) -> tuple[pa.StructType, Fixer | None]:
    named[schema["name"]] = schema
    fields: list[pa.Field] = []
    fixers: dict[str, Fixer] = {}
    for avro_field in schema["fields"]:
        typ, nullable, fix = _to_arrow(avro_field["type"], named)
        fields.append(pa.field(avro_field["name"], typ, nullable=nullable))
        if fix is not None:
            fixers[avro_field["name"]] = fix
    if not fixers:
        return pa.struct(fields), None

    def fix_record(row: Any) -> Any:
        if row is None:
            return None
        for key, fix in fixers.items():
            row[key] = fix(row.get(key))
        return row

    return pa.struct(fields), fix_record


def _to_arrow(avro: AvroType, named: dict[str, Any]) -> tuple[pa.DataType, bool, Fixer | None]:
    """(type, nullable, fixer) of an Avro type."""
    if isinstance(avro, list):
        branches = [b for b in avro if b != "null"]
        nullable = len(branches) < len(avro)
        if len(branches) == 1:
            typ, _, fix = _to_arrow(branches[0], named)
            return typ, nullable, fix
        return pa.string(), True, _as_json
    if isinstance(avro, str):
        if avro in named:
            return _to_arrow(named[avro], named)
        simple = {
            "null": pa.null(),
            "boolean": pa.bool_(),
            "int": pa.int32(),
            "long": pa.int64(),
            "float": pa.float32(),
            "double": pa.float64(),
            "bytes": pa.binary(),
            "string": pa.string(),
        }
        if avro not in simple:
            raise SchemaError(f"unknown avro type {avro!r}", fix="check the file's writer schema")
        return simple[avro], avro == "null", None
    kind = avro["type"]
    logical = avro.get("logicalType")
    if logical is not None:
        mapped = _logical(avro, logical)
        if mapped is not None:
            return mapped
    if kind == "record":
        struct, fix = _record(avro, named)
        return struct, False, fix
    if kind == "enum":
        named[avro["name"]] = avro
        return pa.string(), False, None
    if kind == "fixed":
        named[avro["name"]] = avro
        return pa.binary(avro["size"]), False, None
    if kind == "array":
        item, nullable, fix = _to_arrow(avro["items"], named)
        return pa.list_(pa.field("item", item, nullable=nullable)), False, _each(fix)
    if kind == "map":
        item, nullable, fix = _to_arrow(avro["values"], named)
        map_type = pa.map_(pa.string(), pa.field("value", item, nullable=nullable))
        return map_type, False, _each_value(fix)
    return _to_arrow(kind, named)


def _each(fix: Fixer | None) -> Fixer | None:
    if fix is None:
        return None
    return lambda v: None if v is None else [fix(x) for x in v]


def _each_value(fix: Fixer | None) -> Fixer | None:
    if fix is None:
        return None
    return lambda v: None if v is None else {k: fix(x) for k, x in v.items()}


def _logical(avro: dict, logical: str) -> tuple[pa.DataType, bool, Fixer | None] | None:
    kind = avro["type"]
    if logical == "decimal" and kind in ("bytes", "fixed"):
        precision, scale = avro["precision"], avro.get("scale", 0)
        typ = (
            pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)
        )
        return typ, False, None
    table = {
        ("int", "date"): pa.date32(),
        ("int", "time-millis"): pa.time32("ms"),
        ("long", "time-micros"): pa.time64("us"),
        ("long", "timestamp-millis"): pa.timestamp("ms", tz="UTC"),
        ("long", "timestamp-micros"): pa.timestamp("us", tz="UTC"),
        ("long", "local-timestamp-millis"): pa.timestamp("ms"),
        ("long", "local-timestamp-micros"): pa.timestamp("us"),
    }
    if (kind, logical) in table:
        return table[(kind, logical)], False, None
    if logical == "uuid":
        return pa.string(), False, lambda v: None if v is None else str(v)
    return None


def _as_json(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def map_fixer(schema: pa.Schema) -> Fixer | None:
    """A row function turning Arrow's map values (lists of pairs) into the dicts Avro wants."""
    fixers = {f.name: fix for f in schema if (fix := _pairs_to_dict(f.type)) is not None}
    if not fixers:
        return None

    def fix_row(row: Any) -> Any:
        for key, fix in fixers.items():
            row[key] = fix(row[key])
        return row

    return fix_row


def _pairs_to_dict(t: pa.DataType) -> Fixer | None:
    if pa.types.is_map(t):
        inner = _pairs_to_dict(t.item_type)
        if inner is None:
            return lambda v: None if v is None else dict(v)
        return lambda v: None if v is None else {k: inner(x) for k, x in v}
    if pa.types.is_list(t):
        return _each(_pairs_to_dict(t.value_type))
    if pa.types.is_struct(t):
        subs = {
            t.field(i).name: fix
            for i in range(t.num_fields)
            if (fix := _pairs_to_dict(t.field(i).type)) is not None
        }
        if not subs:
            return None

        def fix_struct(v: Any) -> Any:
            if v is not None:
                for key, fix in subs.items():
                    v[key] = fix(v[key])
            return v

        return fix_struct
    return None
