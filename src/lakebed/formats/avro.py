"""Avro object container files, read and written with fastavro.

The writer schema comes from the file header; pass ``reader_schema=`` (an Avro schema dict) to
read through Avro schema resolution (added fields with defaults, promoted types, ...). Type
mapping: :mod:`lakebed.formats._avro_schema`. Codecs: null, deflate (default), snappy, zstd,
bzip2, xz. fastavro wants ``cramjam`` for snappy and ``backports.zstd`` for zstd; when those are
missing, lakebed lends it pyarrow's snappy and zstd codecs, so both work with no extra package.
A corrupt or truncated file raises a FormatError naming it (block framing cannot be resynced,
so the damage is not a single bad record).
"""

from __future__ import annotations

import importlib
import io
import struct
import zlib
from collections.abc import Iterable, Iterator
from typing import IO, Any, ClassVar

import fastavro
import pyarrow as pa

from lakebed.errors import ConfigError, FormatError, LakebedError, MissingDependencyError
from lakebed.formats._avro_schema import arrow_to_avro, avro_compatible, avro_to_arrow, map_fixer
from lakebed.formats._common import conform, empty_batch, rows_to_batch, take_options
from lakebed.formats.base import DEFAULT_BATCH_ROWS, Format, OnBadRecord, SchemaReader

MAGIC = b"Obj\x01"
_CODECS = {
    "none": "null",
    "null": "null",
    "uncompressed": "null",
    "deflate": "deflate",
    "snappy": "snappy",
    "zstd": "zstandard",
    "zstandard": "zstandard",
    "bzip2": "bzip2",
    "xz": "xz",
}
_WRITE_OPTIONS = {
    "compression": "deflate",
    "compression_level": None,
    "record_name": "Record",
    "namespace": "lakebed",
}


class AvroFormat(Format, SchemaReader):
    """Avro object container files."""

    name: ClassVar[str] = "avro"
    extensions: ClassVar[tuple[str, ...]] = (".avro",)
    content_type: ClassVar[str] = "application/avro"
    internal_compression: ClassVar[bool] = True

    def sniff(self, head: bytes) -> float:
        """Certain when the Avro magic ``Obj\\x01`` opens the file."""
        return 1.0 if head.startswith(MAGIC) else 0.0

    def read_schema(
        self, source: IO[bytes], *, name: str = "<stream>", **options: Any
    ) -> pa.Schema:
        """The Arrow schema of the writer (or given reader) schema, from the header alone."""
        opts = take_options(self.name, options, {"reader_schema": None})
        reader = self._open(source, name, opts["reader_schema"])
        return avro_to_arrow(reader.reader_schema or reader.writer_schema)[0]

    def read(
        self,
        source: IO[bytes],
        *,
        name: str = "<stream>",
        schema: pa.Schema | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        on_bad_record: OnBadRecord | None = None,
        **options: Any,
    ) -> Iterator[pa.RecordBatch]:
        """Batches of the file's records."""
        opts = take_options(self.name, options, {"reader_schema": None})
        reader = self._open(source, name, opts["reader_schema"])
        try:
            arrow_schema, fix = avro_to_arrow(reader.reader_schema or reader.writer_schema)
        except LakebedError as exc:
            raise FormatError(f"{name}: {exc.message}", fix=exc.fix) from exc
        records = iter(reader)
        count = 0
        emitted = False
        while True:
            chunk: list[Any] = []
            try:
                for record in records:
                    chunk.append(record)
                    if len(chunk) >= batch_rows:
                        break
            except LakebedError:
                raise
            except Exception as exc:  # fastavro raises many kinds for corrupt blocks
                raise _corrupt(name, f"after record {count + len(chunk)}", exc) from exc
            if not chunk:
                break
            rows = [
                (f"record {count + i + 1}", b"", fix(r) if fix else r) for i, r in enumerate(chunk)
            ]
            count += len(chunk)
            batch = rows_to_batch(rows, arrow_schema, name, on_bad_record)
            yield conform(batch, schema, name) if schema is not None else batch
            emitted = True
        if not emitted:
            yield empty_batch(schema if schema is not None else arrow_schema)

    def _open(self, source: IO[bytes], name: str, reader_schema: Any) -> Any:
        _lend_codecs()
        try:
            return fastavro.reader(source, reader_schema=reader_schema)
        except Exception as exc:  # fastavro raises ValueError, EOFError, struct.error, ...
            raise _corrupt(name, "in the header", exc) from exc

    def write(
        self,
        batches: Iterable[pa.RecordBatch],
        sink: IO[bytes],
        schema: pa.Schema,
        **options: Any,
    ) -> int:
        """Write an Avro container; ``compression`` picks the codec (default deflate)."""
        opts = take_options(self.name, options, _WRITE_OPTIONS)
        codec = _CODECS.get(str(opts["compression"]).lower())
        if codec is None:
            raise ConfigError(
                f"unknown avro compression {opts['compression']!r}",
                fix=f"use one of: {', '.join(sorted(_CODECS))}",
            )
        _lend_codecs()
        target = avro_compatible(schema)
        avro_schema = fastavro.parse_schema(
            arrow_to_avro(target, opts["record_name"], opts["namespace"])
        )
        counter = [0]
        fix = map_fixer(target)

        def records() -> Iterator[dict[str, Any]]:
            for batch in batches:
                batch = conform(batch, target, "<avro writer>")
                counter[0] += batch.num_rows
                rows = batch.to_pylist()
                yield from (map(fix, rows) if fix else rows)

        fastavro.writer(
            sink,
            avro_schema,
            records(),
            codec=codec,
            codec_compression_level=opts["compression_level"],
        )
        return counter[0]


def _corrupt(name: str, where: str, exc: BaseException) -> FormatError:
    return FormatError(
        f"{name}: not a readable avro file ({where}: {type(exc).__name__}: {exc})",
        fix="the file is corrupt or truncated; re-create or re-upload it",
    )


# --- codecs lent to fastavro -------------------------------------------------------------


def _write_long(out: Any, value: int) -> None:
    value = (value << 1) ^ (value >> 63)
    data = bytearray()
    while value & ~0x7F:
        data.append((value & 0x7F) | 0x80)
        value >>= 7
    data.append(value)
    out.write(bytes(data))


def _read_long(fo: Any) -> int:
    shift = result = 0
    while True:
        byte = fo.read(1)
        if not byte:
            raise EOFError("truncated block length")
        result |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return (result >> 1) ^ -(result & 1)
        shift += 7


def _zstd_write(encoder: Any, block: bytes, level: int | None) -> None:
    out = getattr(encoder, "_fo", encoder)
    codec = pa.Codec("zstd", compression_level=level) if level is not None else pa.Codec("zstd")
    data = codec.compress(block, asbytes=True)
    _write_long(out, len(data))
    out.write(data)


def _zstd_read(decoder: Any) -> io.BytesIO:
    fo = getattr(decoder, "fo", decoder)
    data = fo.read(_read_long(fo))
    return io.BytesIO(pa.CompressedInputStream(pa.BufferReader(data), "zstd").read())


def _snappy_write(encoder: Any, block: bytes, level: int | None) -> None:
    out = getattr(encoder, "_fo", encoder)
    data = pa.Codec("snappy").compress(block, asbytes=True)
    _write_long(out, len(data) + 4)
    out.write(data)
    out.write(struct.pack(">I", zlib.crc32(block) & 0xFFFFFFFF))


def _snappy_read(decoder: Any) -> io.BytesIO:
    fo = getattr(decoder, "fo", decoder)
    length = _read_long(fo)
    data = fo.read(length - 4)
    (crc,) = struct.unpack(">I", fo.read(4))
    size = shift = 0
    for byte in data[:10]:  # raw snappy starts with the uncompressed length as a varint
        size |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    block = pa.Codec("snappy").decompress(data, decompressed_size=size, asbytes=True)
    if zlib.crc32(block) & 0xFFFFFFFF != crc:
        raise ValueError("snappy block checksum mismatch")
    return io.BytesIO(block)


def _lend_codecs() -> None:
    """Give fastavro pyarrow-backed snappy and zstd where its own libraries are missing."""
    from fastavro import read as fread

    try:
        fwrite: Any = importlib.import_module("fastavro._write")
    except ImportError:  # pure-Python build
        fwrite = importlib.import_module("fastavro._write_py")
    lent = {"zstandard": (_zstd_read, _zstd_write), "snappy": (_snappy_read, _snappy_write)}
    for codec, (reader, writer) in lent.items():
        if not pa.Codec.is_available("zstd" if codec == "zstandard" else codec):
            if _missing(fread.BLOCK_READERS.get(codec)):
                raise MissingDependencyError("cramjam" if codec == "snappy" else "backports.zstd")
            continue
        if _missing(fread.BLOCK_READERS.get(codec)):
            fread.BLOCK_READERS[codec] = reader
        if _missing(fwrite.BLOCK_WRITERS.get(codec)):
            fwrite.BLOCK_WRITERS[codec] = writer


def _missing(fn: Any) -> bool:
    return fn is None or getattr(fn, "__name__", "") in ("missing", "_missing")
