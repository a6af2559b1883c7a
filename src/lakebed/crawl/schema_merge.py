"""Merging the schemas of many files into one table schema, and describing how schemas differ.

Small pure functions over Arrow types. Merging never fails: two types that cannot be widened
one into the other meet at ``string`` (as a Glue crawler does), so a table always gets a schema
and the conflict shows up in the type rather than as a crash.

Widening rules: null → anything; integers → the wider signed integer (int32 + int64 → int64),
integer + float → float64; float32 + float64 → float64; decimals → wider decimal, decimal +
integer/float → float64; date + timestamp → timestamp; timestamps → finer unit; string with
anything else → string; structs → union of fields (by name, merged); lists → merged elements.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import pyarrow as pa
import pyarrow.types as pat

_TS_ORDER = {"s": 0, "ms": 1, "us": 2, "ns": 3}


def _is_text(t: pa.DataType) -> bool:
    return pat.is_string(t) or pat.is_large_string(t) or pat.is_string_view(t)


def _is_bin(t: pa.DataType) -> bool:
    return pat.is_binary(t) or pat.is_large_binary(t) or pat.is_fixed_size_binary(t)


def _is_list(t: pa.DataType) -> bool:
    return pat.is_list(t) or pat.is_large_list(t) or pat.is_fixed_size_list(t)


def _merge_ints(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    width = max(a.bit_width, b.bit_width)
    if pat.is_signed_integer(a) == pat.is_signed_integer(b):
        return _int_of(width, pat.is_signed_integer(a))
    # signed with unsigned: the signed type one size up holds both, int64 at most
    unsigned_width = a.bit_width if pat.is_unsigned_integer(a) else b.bit_width
    need = max(width, unsigned_width * 2)
    return pa.float64() if need > 64 else _int_of(need, True)


def _int_of(width: int, signed: bool) -> pa.DataType:
    table = {
        (8, True): pa.int8(),
        (16, True): pa.int16(),
        (32, True): pa.int32(),
        (64, True): pa.int64(),
        (8, False): pa.uint8(),
        (16, False): pa.uint16(),
        (32, False): pa.uint32(),
        (64, False): pa.uint64(),
    }
    return table[(width, signed)]


def _merge_timestamps(a: pa.TimestampType, b: pa.TimestampType) -> pa.DataType:
    unit = a.unit if _TS_ORDER[a.unit] >= _TS_ORDER[b.unit] else b.unit
    tz = a.tz or b.tz
    if a.tz and b.tz and a.tz != b.tz:
        tz = "UTC"
    return pa.timestamp(unit, tz=tz)


def _merge_structs(a: pa.StructType, b: pa.StructType) -> pa.DataType:
    fields = [a.field(i) for i in range(a.num_fields)]
    merged = merge_field_lists([fields, [b.field(i) for i in range(b.num_fields)]])
    return pa.struct(merged)


def _merge_lists(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    element = merge_types(a.value_type, b.value_type)
    if pat.is_large_list(a) or pat.is_large_list(b):
        return pa.large_list(element)
    return pa.list_(element)


def _merge_numbers(a: pa.DataType, b: pa.DataType) -> pa.DataType | None:
    if pat.is_integer(a) and pat.is_integer(b):
        return _merge_ints(a, b)
    if pat.is_decimal(a) and pat.is_decimal(b):
        scale = max(a.scale, b.scale)
        digits = max(a.precision - a.scale, b.precision - b.scale)
        precision = digits + scale
        if precision > 38:
            return pa.float64()
        return pa.decimal128(precision, scale)
    numeric = (pat.is_integer, pat.is_floating, pat.is_decimal)
    if any(f(a) for f in numeric) and any(f(b) for f in numeric):
        if pat.is_float16(a) and pat.is_float16(b):
            return a
        if pat.is_float32(a) and pat.is_float32(b):
            return a
        return pa.float64()
    return None


def _merge_temporal(a: pa.DataType, b: pa.DataType) -> pa.DataType | None:
    if pat.is_timestamp(a) and pat.is_timestamp(b):
        return _merge_timestamps(a, b)
    if pat.is_date(a) and pat.is_date(b):
        return pa.date32()
    if pat.is_date(a) and pat.is_timestamp(b):
        return b
    if pat.is_timestamp(a) and pat.is_date(b):
        return a
    if pat.is_time(a) and pat.is_time(b):
        return pa.time64("ns") if "ns" in (a.unit, b.unit) else pa.time64("us")
    return None


def merge_types(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """The narrowest type both ``a`` and ``b`` widen to; ``string`` when they conflict."""
    if a.equals(b):
        return a
    if pat.is_null(a):
        return b
    if pat.is_null(b):
        return a
    if pat.is_dictionary(a):
        return merge_types(a.value_type, b)
    if pat.is_dictionary(b):
        return merge_types(a, b.value_type)
    if _is_text(a) or _is_text(b):
        return (
            pa.large_string() if pat.is_large_string(a) or pat.is_large_string(b) else pa.string()
        )
    if pat.is_boolean(a) and pat.is_boolean(b):
        return a
    for merge in (_merge_numbers, _merge_temporal):
        merged = merge(a, b)
        if merged is not None:
            return merged
    if _is_bin(a) and _is_bin(b):
        return (
            pa.large_binary() if pat.is_large_binary(a) or pat.is_large_binary(b) else pa.binary()
        )
    if pat.is_struct(a) and pat.is_struct(b):
        return _merge_structs(a, b)
    if _is_list(a) and _is_list(b):
        return _merge_lists(a, b)
    if pat.is_map(a) and pat.is_map(b):
        return pa.map_(merge_types(a.key_type, b.key_type), merge_types(a.item_type, b.item_type))
    return pa.string()


def merge_field_lists(field_lists: Iterable[Sequence[pa.Field]]) -> list[pa.Field]:
    """Union of fields by name, in order of first appearance, types merged, all nullable."""
    merged: dict[str, pa.DataType] = {}
    for fields in field_lists:
        for field in fields:
            known = merged.get(field.name)
            merged[field.name] = field.type if known is None else merge_types(known, field.type)
    return [pa.field(name, typ, nullable=True) for name, typ in merged.items()]


def merge_schemas(schemas: Iterable[pa.Schema]) -> pa.Schema:
    """One schema holding every column of ``schemas`` (see the module docstring for widening)."""
    return pa.schema(merge_field_lists(list(s) for s in schemas))


def fingerprint(schema: pa.Schema) -> str:
    """A short stable hash of the column names and types (metadata ignored)."""
    text = "|".join(f"{f.name}\x1f{f.type}\x1f{int(f.nullable)}" for f in schema)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:20]


def name_overlap(a: pa.Schema, b: pa.Schema) -> float:
    """How much two schemas' column names overlap: shared names over the smaller column count.

    1.0 when one schema's columns are a subset of the other's (a schema that gained columns
    still matches its older files); near 0 for unrelated datasets.
    """
    names_a, names_b = {n.lower() for n in a.names}, {n.lower() for n in b.names}
    if not names_a or not names_b:
        return 1.0 if names_a == names_b else 0.0
    return len(names_a & names_b) / min(len(names_a), len(names_b))


def diff_schemas(old: pa.Schema, new: pa.Schema) -> list[str]:
    """Human-readable differences from ``old`` to ``new`` ("added column x: int64", ...)."""
    changes: list[str] = []
    old_types = {f.name: f.type for f in old}
    new_types = {f.name: f.type for f in new}
    for name, typ in new_types.items():
        if name not in old_types:
            changes.append(f"added column {name}: {typ}")
        elif not old_types[name].equals(typ):
            verb = "widened" if merge_types(old_types[name], typ).equals(typ) else "changed"
            changes.append(f"{verb} column {name}: {old_types[name]} -> {typ}")
    changes.extend(f"removed column {name}" for name in old_types if name not in new_types)
    return changes


def apply_schema_policy(old: pa.Schema, merged: pa.Schema, policy: str) -> pa.Schema:
    """The schema a table gets on a re-crawl under ``policy`` (update, add_columns, log).

    ``update`` takes the merged schema of the files; ``add_columns`` keeps every existing column
    and its type and appends the new columns; ``log`` keeps the old schema unchanged.
    """
    if policy == "update":
        return merged
    if policy == "add_columns":
        known = set(old.names)
        return pa.schema(list(old) + [f for f in merged if f.name not in known])
    return old


def policy_outcome(
    old: pa.Schema | None, merged: pa.Schema, policy: str
) -> tuple[pa.Schema, list[str], bool]:
    """(schema to register, changes found, whether all changes were applied) for a re-crawl."""
    if old is None:
        return merged, [], True
    changes = diff_schemas(old, merged)
    new = apply_schema_policy(old, merged, policy)
    pending = diff_schemas(new, merged)
    if policy == "add_columns":  # keeping columns the files dropped is the point of the policy
        pending = [c for c in pending if not c.startswith("removed column")]
    applied = not pending
    return new, changes, applied
