"""Turn what a driver streams into record batches of the target schema, value by value.

Every backend's rows pass through :func:`convert`: Python row tuples are built into Arrow
arrays, Arrow arrays are cast to the target types. Both are done a column at a time; only when
that fails are the failing values found, by halving the column until each bad value stands
alone (a few dozen casts for one bad value in 100,000). A row with such a value is taken out
of the batch and reported with its reason; the rest go on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lakebed.ingest.sources.drivers.base import Chunk, Column

_CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)
_BUILD_ERRORS = (*_CAST_ERRORS, OverflowError, TypeError, ValueError)


@dataclass
class Converted:
    """A chunk in the target schema, and the rows that had to be left out."""

    batch: pa.RecordBatch
    #: Row position in the chunk -> why it was left out.
    bad: dict[int, str] = field(default_factory=dict)
    raw: Chunk | None = None

    def raw_row(self, index: int, names: Sequence[str]) -> dict[str, Any]:
        """The row as it came from the database, for the quarantine."""
        if isinstance(self.raw, pa.RecordBatch):
            row: dict[str, Any] = self.raw.slice(index, 1).to_pylist()[0]
            return row
        assert self.raw is not None
        return dict(zip(names, self.raw[index], strict=False))


def row_json(row: dict[str, Any]) -> bytes:
    """A raw row as JSON bytes (dates, decimals and the like as text, bytes as hex)."""

    def default(value: Any) -> Any:
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value).hex()
        return str(value)

    return json.dumps(row, default=default, ensure_ascii=False).encode()


def schema_of(columns: Sequence[Column]) -> pa.Schema:
    """The Arrow schema of the rows described by ``columns``."""
    return pa.schema([pa.field(c.name, c.type) for c in columns])


def convert(chunk: Chunk, columns: Sequence[Column]) -> Converted:
    """``chunk`` in the target types of ``columns``, bad rows taken out and explained."""
    bad: dict[int, str] = {}
    if isinstance(chunk, pa.RecordBatch):
        arrays = [_plain(chunk.column(i)) for i in range(len(columns))]
    else:
        values = list(zip(*chunk, strict=True)) if chunk else [() for _ in columns]
        arrays = [_build(list(v), col, bad) for v, col in zip(values, columns, strict=True)]
    out = [_conform(arr, col, bad) for arr, col in zip(arrays, columns, strict=True)]
    batch = pa.RecordBatch.from_arrays(out, schema=schema_of(columns))
    if bad:
        keep = [i not in bad for i in range(batch.num_rows)]
        batch = batch.filter(pa.array(keep))
    return Converted(batch, bad, chunk)


def cast_array(arr: pa.Array, target: pa.DataType) -> pa.Array:
    """``arr`` cast to ``target``, with the casts Arrow lacks: text to time of day, and
    text without a zone offset to a UTC timestamp."""
    arr = _plain(arr)
    if arr.type == target:
        return arr
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        if pa.types.is_time(target):
            stamped = pc.binary_join_element_wise("1970-01-01 ", arr.cast(pa.string()), "")
            return stamped.cast(pa.timestamp("us")).cast(target)
        if pa.types.is_timestamp(target) and target.tz is not None:
            try:
                return arr.cast(target)
            except _CAST_ERRORS:
                return arr.cast(pa.timestamp(target.unit)).cast(target)
    return arr.cast(target)


def _plain(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if isinstance(arr.type, pa.ExtensionType):
        arr = arr.storage
    return arr


def _bad_positions(length: int, works: Callable[[int, int], bool]) -> list[int]:
    """Positions in ``[0, length)`` where ``works(start, stop)`` fails for a lone value."""
    found: list[int] = []
    pending = [(0, length)]
    while pending:
        start, stop = pending.pop()
        if stop <= start or works(start, stop):
            continue
        if stop - start == 1:
            found.append(start)
            continue
        middle = (start + stop) // 2
        pending += [(middle, stop), (start, middle)]
    return sorted(found)


def _build(values: list[Any], col: Column, bad: dict[int, str]) -> pa.Array:
    raw = col.raw or col.type
    try:
        return pa.array(values, type=raw)
    except _BUILD_ERRORS:
        pass

    def works(start: int, stop: int) -> bool:
        try:
            pa.array(values[start:stop], type=raw)
        except _BUILD_ERRORS:
            return False
        return True

    for pos in _bad_positions(len(values), works):
        bad.setdefault(pos, f"column {col.name}: {values[pos]!r} is not a valid {_kind(col)}")
        values[pos] = None
    return pa.array(values, type=raw)


def _conform(arr: pa.Array, col: Column, bad: dict[int, str]) -> pa.Array:
    try:
        return cast_array(arr, col.type)
    except _CAST_ERRORS:
        pass

    def works(start: int, stop: int) -> bool:
        try:
            cast_array(arr.slice(start, stop - start), col.type)
        except _CAST_ERRORS:
            return False
        return True

    flags = [False] * len(arr)
    for pos in _bad_positions(len(arr), works):
        bad.setdefault(pos, f"column {col.name}: {arr[pos].as_py()!r} is not a valid {_kind(col)}")
        flags[pos] = True
    cleared = pc.if_else(pa.array(flags), pa.scalar(None, type=arr.type), arr)
    return cast_array(cleared, col.type)


def _kind(col: Column) -> str:
    sql = f" ({col.sql_type})" if col.sql_type else ""
    return f"{col.type}{sql}"
