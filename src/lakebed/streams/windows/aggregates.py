"""The aggregate functions: how each reads a row, accumulates, reports and is typed.

Accumulators are plain Python values (ints, lists, sets) so that the aggregator's state
serialises without pickling. Null (missing or ``None``) values are ignored by every function but
``count(*)``, as in SQL; a value a function cannot use (a string summed, a list as a distinct
value) makes the whole row a ``conversion`` error before anything is updated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

from lakebed.errors import SchemaError
from lakebed.streams.records import RecordError
from lakebed.streams.windows.spec import Aggregation

_MISSING = object()


def value_kind(value: Any) -> str | None:
    """The comparison family of a value (values of one family order against each other)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "aware datetime" if value.tzinfo is not None else "naive datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, bytes):
        return "bytes"
    if isinstance(value, time | timedelta):
        return type(value).__name__
    return None


class Op:
    """One aggregation's behaviour; subclasses per function."""

    def __init__(self, agg: Aggregation) -> None:
        self.agg = agg
        self.name = agg.name
        self.field = agg.field
        self.text = f"{agg.function}({agg.field or '*'})"

    def extract(self, row: Mapping[str, Any]) -> Any:
        """The row's value for this aggregation (``None`` = ignore); RecordError if unusable."""
        return row.get(self.field) if self.field is not None else None

    def init(self) -> Any:
        return None

    def compatible(self, acc: Any, value: Any) -> str | None:
        """Why ``value`` cannot join ``acc`` (``None`` if it can)."""
        return None

    def update(self, acc: Any, value: Any, t_us: int) -> Any:
        raise NotImplementedError

    def result(self, acc: Any) -> Any:
        return acc

    def output_type(self, input_type: pa.DataType | None) -> pa.DataType:
        assert input_type is not None
        return input_type

    def _bad(self, value: Any, needs: str) -> RecordError:
        return RecordError(
            "conversion",
            f"field {self.field!r} is {_short(value)} ({type(value).__name__}); "
            f"{self.text} needs {needs}",
        )


class CountAll(Op):
    def init(self) -> Any:
        return 0

    def update(self, acc: Any, value: Any, t_us: int) -> Any:
        return acc + 1

    def output_type(self, input_type: pa.DataType | None) -> pa.DataType:
        return pa.int64()


class Count(CountAll):
    def update(self, acc: Any, value: Any, t_us: int) -> Any:
        return acc if value is None else acc + 1


class Sum(Op):
    def extract(self, row: Mapping[str, Any]) -> Any:
        value = row.get(self.field)  # type: ignore[arg-type]
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise self._bad(value, "numbers")
        return value

    def update(self, acc: Any, value: Any, t_us: int) -> Any:
        if value is None:
            return acc
        if acc is None:
            return value
        try:
            return acc + value
        except TypeError:  # Decimal + float
            return float(acc) + float(value)

    def output_type(self, input_type: pa.DataType | None) -> pa.DataType:
        assert input_type is not None
        if pa.types.is_integer(input_type):
            return pa.int64()
        if pa.types.is_floating(input_type):
            return pa.float64()
        if pa.types.is_decimal(input_type):
            return pa.decimal128(38, input_type.scale)
        raise _type_error(self, input_type, "a numeric")


class Avg(Sum):
    def extract(self, row: Mapping[str, Any]) -> Any:
        value = super().extract(row)
        return None if value is None else float(value)

    def update(self, acc: Any, value: Any, t_us: int) -> Any:
        if value is None:
            return acc
        if acc is None:
            return [value, 1]
        acc[0] += value
        acc[1] += 1
        return acc

    def result(self, acc: Any) -> Any:
        return None if acc is None else acc[0] / acc[1]

    def output_type(self, input_type: pa.DataType | None) -> pa.DataType:
        super().output_type(input_type)
        return pa.float64()


class Extreme(Op):
    """min and max."""

    def __init__(self, agg: Aggregation) -> None:
        super().__init__(agg)
        self.is_min = agg.function == "min"

    def extract(self, row: Mapping[str, Any]) -> Any:
        value = row.get(self.field)  # type: ignore[arg-type]
        if value is None:
            return None
        if value_kind(value) is None or (isinstance(value, float) and math.isnan(value)):
            raise self._bad(value, "numbers, strings, dates or times")
        return value

    def compatible(self, acc: Any, value: Any) -> str | None:
        if acc is None or value is None:
            return None
        have, got = value_kind(acc), value_kind(value)
        if have != got:
            return (
                f"field {self.field!r} is {_short(value)} (a {got}) but {self.text} of its "
                f"window holds a {have}; the values cannot be compared"
            )
        return None

    def update(self, acc: Any, value: Any, t_us: int) -> Any:
        if value is None:
            return acc
        if acc is None:
            return value
        if self.is_min:
            return value if value < acc else acc
        return value if value > acc else acc

    def output_type(self, input_type: pa.DataType | None) -> pa.DataType:
        assert input_type is not None
        if pa.types.is_nested(input_type) or pa.types.is_null(input_type):
            raise _type_error(self, input_type, "an orderable (number, string, date or time)")
        return input_type


class CountDistinct(Op):
    def extract(self, row: Mapping[str, Any]) -> Any:
        value = row.get(self.field)  # type: ignore[arg-type]
        if value is None:
            return None
        try:
            hash(value)
        except TypeError:
            raise self._bad(value, "scalar values") from None
        return value

    def init(self) -> Any:
        return set()

    def update(self, acc: Any, value: Any, t_us: int) -> Any:
        if value is not None:
            acc.add(value)
        return acc

    def result(self, acc: Any) -> Any:
        return len(acc)

    def output_type(self, input_type: pa.DataType | None) -> pa.DataType:
        return pa.int64()


class FirstLast(Op):
    """first/last: the value of the row with the earliest/latest event time (ties: arrival)."""

    def __init__(self, agg: Aggregation) -> None:
        super().__init__(agg)
        self.is_first = agg.function == "first"

    def update(self, acc: Any, value: Any, t_us: int) -> Any:
        if value is None:
            return acc
        if acc is None:
            return [t_us, value]
        if (t_us < acc[0]) if self.is_first else (t_us >= acc[0]):
            return [t_us, value]
        return acc

    def result(self, acc: Any) -> Any:
        return None if acc is None else acc[1]


_OPS: dict[str, type[Op]] = {
    "sum": Sum,
    "avg": Avg,
    "min": Extreme,
    "max": Extreme,
    "count_distinct": CountDistinct,
    "first": FirstLast,
    "last": FirstLast,
}


def make_op(agg: Aggregation) -> Op:
    """The :class:`Op` for a parsed aggregation."""
    if agg.function == "count":
        return CountAll(agg) if agg.field is None else Count(agg)
    return _OPS[agg.function](agg)


def _type_error(op: Op, input_type: pa.DataType, needs: str) -> SchemaError:
    return SchemaError(
        f"aggregation {op.name!r} ({op.text}) needs {needs} field, but {op.field!r} is "
        f"{input_type}",
        fix=f"aggregate another field, or use count/count_distinct/first/last on {op.field!r}",
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
