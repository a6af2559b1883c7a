"""High-level reading, writing and converting of files, by path or binary stream.

Inputs are decompressed transparently (gzip, bzip2, zstd, told by magic bytes) and their format
detected from content unless named. Writes to a path go to a temporary file in the same folder
that is renamed into place only when complete, so a failed write leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from lakebed.errors import ConfigError, FormatError, NotFoundError
from lakebed.formats._common import as_python_stream, conform, peek
from lakebed.formats._registry import get_format
from lakebed.formats.base import DEFAULT_BATCH_ROWS, BadRecord, Format, OnBadRecord, SchemaReader
from lakebed.formats.compression import open_compressed, open_decompressed
from lakebed.formats.detect import SNIFF_BYTES, detect

Source = str | os.PathLike[str] | IO[bytes]
FormatLike = str | Format


@dataclass(frozen=True)
class ConvertResult:
    """What a :func:`convert` did: rows written, bad records quarantined, bytes and formats."""

    rows: int
    bad_records: int
    bytes_written: int
    batches: int
    source_format: str
    dest_format: str


def read(
    source: Source,
    format: FormatLike | None = None,
    *,
    schema: pa.Schema | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    on_bad_record: OnBadRecord | None = None,
    **options: Any,
) -> Iterator[pa.RecordBatch]:
    """Stream a file's record batches; the format is detected from content when not named.

    A bad record goes to ``on_bad_record``; with none, it raises a FormatError naming the file.
    """
    with _opened(source) as (stream, name):
        fmt, stream = _resolve(format, stream, name)
        yield from fmt.read(
            stream,
            name=name,
            schema=schema,
            batch_rows=batch_rows,
            on_bad_record=on_bad_record,
            **options,
        )


def read_schema(
    source: Source, format: FormatLike | None = None, sample_rows: int = 1000, **options: Any
) -> pa.Schema:
    """A file's schema, cheaply: from the header or footer, else from its first batch."""
    with _opened(source) as (stream, name):
        fmt, stream = _resolve(format, stream, name)
        return sample_schema(fmt, stream, name=name, sample_rows=sample_rows, **options)


def sample_schema(
    fmt: Format,
    stream: IO[bytes],
    *,
    name: str = "<stream>",
    sample_rows: int = 1000,
    on_bad_record: OnBadRecord | None = None,
    **options: Any,
) -> pa.Schema:
    """The schema of a (decompressed) stream in a known format: from its header or footer,
    else from its first ``sample_rows`` rows; bad records met on the way go to
    ``on_bad_record`` (and are passed over when it is None)."""
    if isinstance(fmt, SchemaReader):
        return fmt.read_schema(stream, name=name, **options)
    batches = fmt.read(
        stream,
        name=name,
        batch_rows=sample_rows,
        on_bad_record=on_bad_record or _ignore,
        **options,
    )
    try:
        first = next(iter(batches), None)
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()
    return first.schema if first is not None else pa.schema([])


def write(
    data: pa.Table | pa.RecordBatch | Iterable[pa.RecordBatch],
    dest: str | os.PathLike[str] | IO[bytes],
    format: FormatLike,
    *,
    schema: pa.Schema | None = None,
    compression: str | None = None,
    **options: Any,
) -> int:
    """Write batches as a file of ``format``; returns the rows written.

    ``compression`` is the format's own codec for Avro, Parquet and ORC; for the other formats
    it compresses the whole file (``gzip``, ``bz2``, ``zstd``).
    """
    fmt = _format(format)
    batches, schema = _batches(data, schema)
    if compression is not None and fmt.internal_compression:
        options["compression"] = compression
        compression = None
    if not isinstance(dest, str | os.PathLike):
        return _write_stream(fmt, batches, dest, schema, compression, options)
    path = Path(dest)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with temp.open("wb") as sink:
            rows = _write_stream(fmt, batches, sink, schema, compression, options)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return rows


def convert(
    src: Source,
    dest: str | os.PathLike[str] | IO[bytes],
    *,
    to: FormatLike,
    src_format: FormatLike | None = None,
    schema: pa.Schema | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    on_bad_record: OnBadRecord | None = None,
    compression: str | None = None,
    read_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> ConvertResult:
    """Convert a file batch by batch (bounded memory); ``options`` go to the writer."""
    bad = 0

    def counting(record: BadRecord) -> None:
        nonlocal bad
        bad += 1
        assert on_bad_record is not None
        on_bad_record(record)

    counts = {"rows": 0, "batches": 0}
    source_name = [""]

    def batches() -> Iterator[pa.RecordBatch]:
        with _opened(src) as (stream, name):
            fmt, stream = _resolve(src_format, stream, name)
            source_name[0] = fmt.name
            for batch in fmt.read(
                stream,
                name=name,
                schema=schema,
                batch_rows=batch_rows,
                on_bad_record=counting if on_bad_record is not None else None,
                **dict(read_options or {}),
            ):
                counts["rows"] += batch.num_rows
                counts["batches"] += 1
                yield batch

    target = _format(to)
    stream_start = _tell(dest)
    source = batches()
    first = next(source, None)
    if first is None and schema is None:
        raise FormatError(
            f"{_label(src)} holds no records and no schema, so there is nothing to convert",
            fix="skip empty files, or pass schema= to write an empty file",
        )
    rows = write(
        itertools.chain([first] if first is not None else [], source),
        dest,
        target,
        schema=schema,
        compression=compression,
        **options,
    )
    if isinstance(dest, str | os.PathLike):
        written = Path(dest).stat().st_size
    else:
        written = _tell(dest) - stream_start
    return ConvertResult(rows, bad, written, counts["batches"], source_name[0], target.name)


def _label(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return str(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else "<stream>"


def _ignore(record: BadRecord) -> None:
    """Sampling a schema skips bad records; reading them is the job of :func:`read`."""


def _tell(dest: Any) -> int:
    try:
        return int(dest.tell())
    except (AttributeError, OSError, ValueError):
        return 0


def _format(format: FormatLike) -> Format:
    return format if isinstance(format, Format) else get_format(format)


@contextlib.contextmanager
def _opened(source: Source) -> Iterator[tuple[IO[bytes], str]]:
    """The source as a decompressed binary stream, with the name errors should use."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            raw: IO[bytes] = path.open("rb")
        except FileNotFoundError as exc:
            raise NotFoundError(f"{path} does not exist", fix="check the path") from exc
        except IsADirectoryError as exc:
            raise ConfigError(f"{path} is a folder, not a file", fix="pass a file") from exc
        with raw:
            yield open_decompressed(raw, str(path)), str(path)
        return
    label = _label(source)
    yield open_decompressed(as_python_stream(source), label), label


def _resolve(format: FormatLike | None, stream: IO[bytes], name: str) -> tuple[Format, IO[bytes]]:
    if format is not None:
        return _format(format), stream
    head, stream = peek(stream, SNIFF_BYTES)
    return detect(head, name), stream


def _batches(
    data: pa.Table | pa.RecordBatch | Iterable[pa.RecordBatch], schema: pa.Schema | None
) -> tuple[Iterator[pa.RecordBatch], pa.Schema]:
    if isinstance(data, pa.Table):
        target = schema or data.schema
        return (conform(b, target, "<data>") for b in data.to_batches()), target
    if isinstance(data, pa.RecordBatch):
        data = [data]
    iterator = iter(data)
    first = next(iterator, None)
    if first is None:
        if schema is None:
            raise ConfigError("no batches to write and no schema", fix="pass schema=")
        return iter(()), schema
    target = schema or first.schema

    def chained() -> Iterator[pa.RecordBatch]:
        yield conform(first, target, "<data>")
        for batch in iterator:
            yield conform(batch, target, "<data>")

    return chained(), target


def _write_stream(
    fmt: Format,
    batches: Iterator[pa.RecordBatch],
    sink: IO[bytes],
    schema: pa.Schema,
    compression: str | None,
    options: dict[str, Any],
) -> int:
    if compression is None:
        return fmt.write(batches, sink, schema, **options)
    with open_compressed(sink, compression) as compressed:
        return fmt.write(batches, compressed, schema, **options)
