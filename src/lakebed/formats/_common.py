"""Helpers every format module shares: options, bad records, schema casts, row batching."""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any

import pyarrow as pa

from lakebed.errors import ConfigError, FormatError, SchemaError
from lakebed.formats.base import BadRecord, OnBadRecord

BAD_RECORD_FIX = (
    "fix or remove the record, or pass on_bad_record= to quarantine bad records and keep reading"
)


def take_options(
    fmt: str, options: Mapping[str, Any], allowed: Mapping[str, Any]
) -> dict[str, Any]:
    """Options merged over ``allowed`` defaults; an unknown option is a ConfigError (no typos)."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(
            f"unknown option(s) {', '.join(unknown)} for format {fmt!r}",
            fix=f"use one of: {', '.join(sorted(allowed)) or '(none)'}",
        )
    return {**allowed, **options}


def report_bad(on_bad_record: OnBadRecord | None, record: BadRecord) -> None:
    """Hand a bad record to the callback; with no callback, fail naming where and why."""
    if on_bad_record is None:
        raise FormatError(
            f"{record.source}: bad record at {record.location}: {record.reason}",
            fix=BAD_RECORD_FIX,
        )
    on_bad_record(record)


def conform(batch: pa.RecordBatch, schema: pa.Schema, name: str) -> pa.RecordBatch:
    """The batch with ``schema``'s columns, in its order and types (missing columns are null)."""
    if batch.schema == schema:
        return batch
    columns = []
    for field in schema:
        idx = batch.schema.get_field_index(field.name)
        if idx < 0:
            columns.append(pa.nulls(batch.num_rows, field.type))
            continue
        column = batch.column(idx)
        try:
            columns.append(column.cast(field.type) if column.type != field.type else column)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise SchemaError(
                f"{name}: column {field.name!r} of type {column.type} cannot be cast to "
                f"{field.type}: {exc}",
                fix="pass a schema whose types match the data, or none to infer one",
            ) from exc
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    """A zero-row batch, so a reader of an empty input still tells its schema."""
    return pa.RecordBatch.from_pylist([], schema=schema)


def rows_to_batch(
    rows: list[tuple[str, bytes, dict[str, Any]]],
    schema: pa.Schema,
    name: str,
    on_bad_record: OnBadRecord | None,
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> pa.RecordBatch:
    """Python rows as a batch of ``schema``; a row that does not fit goes to ``on_bad_record``.

    Each row is ``(location, raw, values)``. A field the schema lacks is not dropped silently:
    the row is reported as bad, naming the field.
    """
    fields = set(schema.names)
    good: list[tuple[str, bytes, dict[str, Any]]] = []
    for location, raw, values in rows:
        extra = [key for key in values if key not in fields]
        if extra:
            report_bad(
                on_bad_record,
                BadRecord(
                    name,
                    location,
                    f"field(s) {', '.join(map(repr, extra))} not in the schema "
                    f"({', '.join(schema.names)}); pass schema= to read them",
                    raw,
                ),
            )
            continue
        good.append((location, raw, prepare(values) if prepare else values))
    try:
        return _from_pylist([values for _, _, values in good], schema)
    except _CONVERT_ERRORS:
        pass
    kept: list[dict[str, Any]] = []
    for location, raw, values in good:
        try:
            _from_pylist([values], schema)
        except _CONVERT_ERRORS as exc:
            report_bad(
                on_bad_record, BadRecord(name, location, f"does not fit the schema: {exc}", raw)
            )
            continue
        kept.append(values)
    return _from_pylist(kept, schema)


_CONVERT_ERRORS = (
    pa.ArrowInvalid,
    pa.ArrowTypeError,
    pa.ArrowNotImplementedError,
    OverflowError,
    SchemaError,
    TypeError,
    ValueError,
)


def _from_pylist(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.RecordBatch:
    """Rows as a batch, converting directly or, for strings standing for typed values, by cast."""
    try:
        return pa.RecordBatch.from_pylist(rows, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        loose = pa.RecordBatch.from_pylist(rows)
        return conform(loose, schema, "<rows>")


def infer_schema(rows: Iterable[dict[str, Any]]) -> pa.Schema:
    """A schema for Python rows, unifying types across rows; conflicting fields become strings."""
    rows = list(rows)
    try:  # one pass when the rows agree (the common case), row by row only when they conflict
        # pa.array infers a struct of every key seen in any row (from_pylist would take only
        # the first row's keys).
        whole = pa.array(rows).type if rows else pa.struct([])
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    else:
        if pa.types.is_struct(whole):
            return pa.schema(
                [(f.name, pa.string() if f.type == pa.null() else f.type) for f in whole]
            )
    schemas: list[pa.Schema] = []
    for row in rows:
        try:
            schemas.append(pa.RecordBatch.from_pylist([row]).schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            schemas.append(pa.schema([(k, _value_type(v)) for k, v in row.items()]))
    if not schemas:
        return pa.schema([])
    merged: dict[str, pa.DataType] = {}
    for schema in schemas:
        for field in schema:
            seen = merged.get(field.name)
            merged[field.name] = field.type if seen is None else _unify(seen, field.type)
    return pa.schema(
        [(key, pa.string() if typ == pa.null() else typ) for key, typ in merged.items()]
    )


def _value_type(value: Any) -> pa.DataType:
    try:
        return pa.array([value]).type
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.string()


def _unify(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    if a == b or b == pa.null():
        return a
    if a == pa.null():
        return b
    try:
        unified = pa.unify_schemas(
            [pa.schema([("x", a)]), pa.schema([("x", b)])], promote_options="permissive"
        )
        return unified.field("x").type
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.string()


@contextlib.contextmanager
def seekable(source: IO[bytes]) -> Iterator[IO[bytes]]:
    """``source`` if it can seek, else a temporary copy of it (formats with a footer need one)."""
    try:
        can_seek = source.seekable()
    except (AttributeError, ValueError):
        can_seek = False
    if can_seek:
        yield source
        return
    with tempfile.TemporaryFile() as spool:
        shutil.copyfileobj(source, spool, 1 << 20)
        spool.seek(0)
        yield spool


class PrefixedStream(io.RawIOBase):
    """Bytes already read (``head``) followed by the rest of ``stream``: a peek without seeking."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


class _NativeRaw(io.RawIOBase):
    """A pyarrow NativeFile seen as a Python raw stream (pyarrow's own lacks ``readline``)."""

    def __init__(self, native: pa.NativeFile) -> None:
        self._native = native

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(self._native.seekable())

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return int(self._native.seek(offset, whence))

    def tell(self) -> int:
        return int(self._native.tell())

    def readinto(self, buffer: Any) -> int:
        data = self._native.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._native.close()
        super().close()


def as_python_stream(stream: IO[bytes]) -> IO[bytes]:
    """``stream`` as a buffered Python binary stream (line iteration works on it)."""
    if isinstance(stream, pa.NativeFile):
        return io.BufferedReader(_NativeRaw(stream), 1 << 16)
    return stream


def peek(stream: IO[bytes], size: int) -> tuple[bytes, IO[bytes]]:
    """The first ``size`` bytes of ``stream`` and a stream that still starts at them."""
    try:
        if stream.seekable():
            start = stream.tell()
            head = stream.read(size)
            stream.seek(start)
            return head, stream
    except (AttributeError, ValueError, OSError):
        pass
    head = b""
    while len(head) < size:
        chunk = stream.read(size - len(head))
        if not chunk:
            break
        head += chunk
    return head, io.BufferedReader(PrefixedStream(head, stream), 1 << 16)


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of up to ``size`` items."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class KeepOpen(io.RawIOBase):
    """Writes through to ``sink`` but leaves it open on close (the caller owns it)."""

    def __init__(self, sink: IO[bytes]) -> None:
        super().__init__()
        self._sink = sink

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._sink.write(data)
        return len(memoryview(data))

    def flush(self) -> None:
        self._sink.flush()
