"""Decoded records (dicts) to an Arrow table shaped like the target table, bad records set aside.

A delivery stream converts each buffered batch with :meth:`Converter.convert`: the good rows come
back as one table in input order, each bad row as ``(index, RecordError)``. A batch of good
rows takes the fast path: one ``pa.Table.from_pylist`` for the plain columns, plus a vectorised
cast for timestamp, date and decimal columns (so epoch-millisecond ints are not mistaken for
microseconds). Only when that fails does conversion go value by value, coercing what can be
coerced sensibly (ints into float columns, ISO-8601 strings and epoch ms into timestamps, ISO
dates, numbers and numeric strings into decimals, dicts into structs, lists into lists) and
turning the rest into ``conversion`` errors; a missing required value or a field the table does
not have is a ``schema`` error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import pyarrow as pa
import pyarrow.types as pat

from lakebed.errors import ConfigError
from lakebed.streams.records import RecordError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE = date(1970, 1, 1)
_INT_RANGES = {8: 2**7, 16: 2**15, 32: 2**31, 64: 2**63}


class _Fail(Exception):
    def __init__(self, kind: str, reason: str) -> None:
        self.kind, self.reason = kind, reason


def type_name(dtype: pa.DataType) -> str:
    """The Iceberg-style name of an Arrow type, for messages."""
    if pat.is_integer(dtype):
        return "long" if dtype.bit_width == 64 else "int"
    if pat.is_floating(dtype):
        return "double" if dtype.bit_width == 64 else "float"
    if pat.is_string(dtype) or pat.is_large_string(dtype):
        return "string"
    if pat.is_binary(dtype) or pat.is_large_binary(dtype) or pat.is_fixed_size_binary(dtype):
        return "binary"
    if pat.is_boolean(dtype):
        return "boolean"
    if pat.is_timestamp(dtype):
        return "timestamptz" if dtype.tz else "timestamp"
    if pat.is_decimal(dtype):
        return f"decimal({dtype.precision}, {dtype.scale})"
    if pat.is_struct(dtype):
        return "struct"
    if pat.is_list(dtype) or pat.is_large_list(dtype):
        return "list"
    return "map" if pat.is_map(dtype) else str(dtype)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _needs_care(dtype: pa.DataType) -> bool:
    """Types ``pa.array`` would misread or reject from JSON-ish values."""
    if pat.is_timestamp(dtype) or pat.is_date(dtype) or pat.is_time(dtype):
        return True
    if pat.is_decimal(dtype):
        return True
    if pat.is_struct(dtype):
        return any(_needs_care(f.type) or not f.nullable for f in dtype)
    if pat.is_list(dtype) or pat.is_large_list(dtype):
        return _needs_care(dtype.value_type) or not dtype.value_field.nullable
    return bool(pat.is_map(dtype))


class Converter:
    """Converts lists of dicts to Arrow tables of ``schema`` (usually a table's Arrow schema)."""

    def __init__(
        self, schema: pa.Schema, *, unknown_fields: Literal["error", "ignore"] = "error"
    ) -> None:
        if unknown_fields not in ("error", "ignore"):
            raise ConfigError(
                f"unknown_fields must be 'error' or 'ignore', not {unknown_fields!r}",
                fix="pass unknown_fields='error' (bad records to the error output) or 'ignore'",
            )
        self.schema = schema
        self.unknown_fields = unknown_fields
        self.names = frozenset(schema.names)
        self.careful = [f for f in schema if _needs_care(f.type)]
        plain = [f for f in schema if not _needs_care(f.type)]
        self.plain_schema = pa.schema(plain)
        self.required = [f.name for f in schema if not f.nullable]
        self._coercers = {f.name: _coercer(f.type, f.name) for f in schema}

    def convert(self, rows: list[dict[str, Any]]) -> tuple[pa.Table, list[tuple[int, RecordError]]]:
        """The good rows as a table (in input order) and ``(index, error)`` for each bad one."""
        bad: dict[int, RecordError] = {}
        if self.unknown_fields == "error" and rows:
            extra = set().union(*rows) - self.names
            if extra:
                for i, row in enumerate(rows):
                    unknown = [k for k in row if k not in self.names]
                    if unknown:
                        bad[i] = RecordError(
                            "schema",
                            f"field {unknown[0]!r} is not a column of the table; add the "
                            "column, or set unknown_fields='ignore' on the stream",
                        )
        good = [row for i, row in enumerate(rows) if i not in bad] if bad else rows
        table = None
        try:
            table = self._fast(good)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, _Fail):
            table = None
        if table is None or self._has_missing_required(table):
            keep = [i for i in range(len(rows)) if i not in bad]
            table = self._slow(good, keep, bad)
        errors = sorted(bad.items())
        return table, errors

    def _fast(self, rows: list[dict[str, Any]]) -> pa.Table:
        if len(self.plain_schema):
            table = pa.Table.from_pylist(rows, schema=self.plain_schema)
        else:  # from_pylist would give 0 rows for an empty schema
            table = pa.table({"_": pa.nulls(len(rows))}).drop_columns(["_"])
        for field in self.careful:
            values = [row.get(field.name) for row in rows]
            try:
                column = _fast_column(values, field.type)
            except (pa.ArrowInvalid, pa.ArrowTypeError, _Fail):
                coerce = self._coercers[field.name]  # this column value by value; may raise
                column = pa.array([None if v is None else coerce(v) for v in values], field.type)
            table = table.append_column(field, column)
        return table.select(self.schema.names).cast(self.schema)

    def _has_missing_required(self, table: pa.Table) -> bool:
        return any(table.column(name).null_count for name in self.required)

    def _slow(
        self, rows: list[dict[str, Any]], keep: list[int], bad: dict[int, RecordError]
    ) -> pa.Table:
        """Value by value; rows that fail land in ``bad`` under their input index."""
        failed: set[int] = set()
        columns: dict[str, list[Any]] = {}
        for field in self.schema:
            coerce, name, nullable = self._coercers[field.name], field.name, field.nullable
            values: list[Any] = []
            for j, row in enumerate(rows):
                if j in failed:
                    values.append(None)
                    continue
                value = row.get(name)
                try:
                    if value is None:
                        if not nullable:
                            why = "null" if name in row else "missing"
                            raise _Fail("schema", f"required field {name!r} is {why}")
                        values.append(None)
                    else:
                        values.append(coerce(value))
                except _Fail as fail:
                    failed.add(j)
                    bad[keep[j]] = RecordError(fail.kind, fail.reason)
                    values.append(None)
            columns[name] = values
        good = [j for j in range(len(rows)) if j not in failed]
        arrays = [pa.array([columns[f.name][j] for j in good], type=f.type) for f in self.schema]
        return pa.Table.from_arrays(arrays, schema=self.schema)


def _fast_column(values: list[Any], dtype: pa.DataType) -> pa.Array:
    """A column of a careful type without per-value Python work when the values allow it."""
    if pat.is_timestamp(dtype):
        inferred = pa.array(values)
        if pat.is_null(inferred.type):
            return pa.nulls(len(values), dtype)
        if pat.is_integer(inferred.type):
            return inferred.cast(pa.timestamp("ms", tz=dtype.tz)).cast(dtype)
        if pat.is_timestamp(inferred.type):
            if inferred.type.tz is None and dtype.tz is not None:
                inferred = inferred.cast(pa.timestamp(inferred.type.unit, tz="UTC"))
            return inferred.cast(dtype)
        if pat.is_string(inferred.type):
            return inferred.cast(dtype)  # Arrow's ISO-8601 parser; the caller falls back
        raise _Fail("conversion", "per value")
    if pat.is_date(dtype):
        inferred = pa.array(values)
        if pat.is_null(inferred.type) or pat.is_date(inferred.type):
            return inferred.cast(dtype)
        if pat.is_string(inferred.type):
            return inferred.cast(dtype)
        raise _Fail("conversion", "per value")
    return pa.array(values, type=dtype)


def _coercer(dtype: pa.DataType, path: str) -> Callable[[Any], Any]:
    """A function turning one (non-null) value into what ``pa.array(type=dtype)`` accepts."""

    def fail(value: Any, what: str | None = None) -> _Fail:
        name = type_name(dtype)
        article = "an" if name[0] in "aeiou" else "a"
        return _Fail(
            "conversion", f"field {path!r}: {_show(value)} is not {what or f'{article} {name}'}"
        )

    if pat.is_integer(dtype):
        limit = _INT_RANGES[dtype.bit_width]
        low, high = (0, 2 * limit) if pat.is_unsigned_integer(dtype) else (-limit, limit)

        def to_int(v: Any) -> int:
            if isinstance(v, bool):
                raise fail(v)
            if isinstance(v, int):
                n = v
            elif isinstance(v, float) and v.is_integer():
                n = int(v)
            elif isinstance(v, str | Decimal):
                try:
                    d = Decimal(v.strip() if isinstance(v, str) else v)
                except InvalidOperation:
                    raise fail(v) from None
                if not d.is_finite() or d != d.to_integral_value():
                    raise fail(v)
                n = int(d)
            else:
                raise fail(v)
            if not low <= n < high:
                raise _Fail(
                    "conversion", f"field {path!r}: {n} is out of range for {type_name(dtype)}"
                )
            return n

        return to_int
    if pat.is_floating(dtype):

        def to_float(v: Any) -> float:
            if isinstance(v, bool):
                raise fail(v)
            if isinstance(v, int | float | Decimal):
                return float(v)
            if isinstance(v, str):
                try:
                    return float(v)
                except ValueError:
                    raise fail(v) from None
            raise fail(v)

        return to_float
    if pat.is_boolean(dtype):
        words = {"true": True, "false": False, "1": True, "0": False}

        def to_bool(v: Any) -> bool:
            if isinstance(v, bool):
                return v
            if isinstance(v, int) and v in (0, 1):
                return bool(v)
            if isinstance(v, str) and v.strip().lower() in words:
                return words[v.strip().lower()]
            raise fail(v)

        return to_bool
    if pat.is_string(dtype) or pat.is_large_string(dtype):

        def to_str(v: Any) -> str:
            if isinstance(v, str):
                return v
            if isinstance(v, int | float | Decimal) and not isinstance(v, bool):
                return str(v)
            raise fail(v)

        return to_str
    if pat.is_binary(dtype) or pat.is_large_binary(dtype) or pat.is_fixed_size_binary(dtype):

        def to_bytes(v: Any) -> bytes:
            if isinstance(v, bytes | bytearray | memoryview):
                out = bytes(v)
            elif isinstance(v, str):
                out = v.encode()
            else:
                raise fail(v)
            if pat.is_fixed_size_binary(dtype) and len(out) != dtype.byte_width:
                raise fail(v, f"{dtype.byte_width} bytes long")
            return out

        return to_bytes
    if pat.is_timestamp(dtype):
        return lambda v: _timestamp(v, dtype, fail)
    if pat.is_date(dtype):
        return lambda v: _date(v, fail)
    if pat.is_time(dtype):

        def to_time(v: Any) -> time:
            if isinstance(v, time):
                return v
            try:
                return time.fromisoformat(v)
            except (TypeError, ValueError):
                raise fail(v) from None

        return to_time
    if pat.is_decimal(dtype):
        return lambda v: _decimal(v, dtype, path, fail)
    if pat.is_struct(dtype):
        return _struct_coercer(dtype, path)
    if pat.is_list(dtype) or pat.is_large_list(dtype):
        return _list_coercer(dtype, path)
    if pat.is_map(dtype):
        key = _coercer(dtype.key_type, f"{path}.key")
        item = _coercer(dtype.item_type, f"{path}.value")

        def to_map(v: Any) -> list[tuple[Any, Any]]:
            if not isinstance(v, dict):
                raise fail(v, "a map")
            return [(key(k), None if x is None else item(x)) for k, x in v.items()]

        return to_map
    return lambda v: v


def _timestamp(v: Any, dtype: pa.DataType, fail: Callable[..., _Fail]) -> datetime:
    if isinstance(v, datetime):
        out = v
    elif isinstance(v, int | float) and not isinstance(v, bool):
        if not math.isfinite(v):
            raise fail(v)
        try:
            return _EPOCH + timedelta(milliseconds=v)
        except OverflowError:
            raise fail(v, "a timestamp in range (epoch milliseconds)") from None
    elif isinstance(v, str):
        try:
            out = datetime.fromisoformat(v.strip())
        except ValueError:
            raise fail(v, "an ISO-8601 timestamp") from None
    elif isinstance(v, date):
        out = datetime(v.year, v.month, v.day)
    else:
        raise fail(v)
    if out.tzinfo is None and dtype.tz is not None:
        out = out.replace(tzinfo=UTC)  # a naive time in a timestamptz column is taken as UTC
    return out


def _date(v: Any, fail: Callable[..., _Fail]) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        try:
            return _EPOCH_DATE + timedelta(days=v)  # days since the epoch, as Avro's date
        except OverflowError:
            raise fail(v) from None
    if isinstance(v, str):
        text = v.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            try:
                return datetime.fromisoformat(text).date()
            except ValueError:
                raise fail(v, "an ISO-8601 date") from None
    raise fail(v)


def _decimal(v: Any, dtype: pa.DataType, path: str, fail: Callable[..., _Fail]) -> Decimal:
    if isinstance(v, bool) or not isinstance(v, int | float | str | Decimal):
        raise fail(v)
    try:
        number = Decimal(str(v).strip()) if not isinstance(v, Decimal) else v
        if not number.is_finite():
            raise InvalidOperation
        number = number.quantize(Decimal(1).scaleb(-dtype.scale))
    except InvalidOperation:
        raise fail(v) from None
    if len(number.as_tuple().digits) > dtype.precision:
        raise _Fail("conversion", f"field {path!r}: {v} does not fit {type_name(dtype)}")
    return number


def _struct_coercer(dtype: pa.StructType, path: str) -> Callable[[Any], dict[str, Any]]:
    fields = [(f.name, f.nullable, _coercer(f.type, f"{path}.{f.name}")) for f in dtype]

    def to_struct(v: Any) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise _Fail("conversion", f"field {path!r}: {_show(v)} is not a struct (an object)")
        out: dict[str, Any] = {}
        for name, nullable, coerce in fields:
            item = v.get(name)
            if item is None:
                if not nullable:
                    raise _Fail("schema", f"required field '{path}.{name}' is missing")
                out[name] = None
            else:
                out[name] = coerce(item)
        return out

    return to_struct


def _list_coercer(dtype: pa.DataType, path: str) -> Callable[[Any], list[Any]]:
    item = _coercer(dtype.value_type, f"{path}[]")
    nullable = dtype.value_field.nullable

    def to_list(v: Any) -> list[Any]:
        if not isinstance(v, list | tuple):
            raise _Fail("conversion", f"field {path!r}: {_show(v)} is not a list")
        out = []
        for x in v:
            if x is None and not nullable:
                raise _Fail("schema", f"field {path!r}: the list holds a null")
            out.append(None if x is None else item(x))
        return out

    return to_list
