"""Transparent decompression, recognised by magic bytes rather than by file name.

A ``.csv`` that is really gzip, or a ``data.gz`` holding Parquet, is read correctly: the first
bytes decide. gzip and bzip2 use the standard library; zstd uses pyarrow's codec, so no extra
package is needed.
"""

from __future__ import annotations

import bz2
import gzip
import io
import zlib
from typing import IO, Any, cast

import pyarrow as pa

from lakebed.errors import ConfigError, FormatError
from lakebed.formats._common import KeepOpen, peek

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".zst": "zstd", ".zstd": "zstd"}
CODECS = ("gzip", "bz2", "zstd")


def compression_of(head: bytes) -> str | None:
    """The compression (``"gzip"``, ``"bz2"``, ``"zstd"``) whose magic ``head`` starts with."""
    for magic, codec in _MAGIC:
        if head.startswith(magic):
            return codec
    return None


def strip_compression_suffix(name: str) -> str:
    """``name`` without a trailing compression suffix: ``a.csv.gz`` -> ``a.csv``."""
    lower = name.lower()
    for suffix in _SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def open_decompressed(stream: IO[bytes], name: str = "<stream>") -> IO[bytes]:
    """A stream of ``stream``'s bytes, decompressed when they start with a known magic.

    Decompression is streamed, so a large file never sits in memory. Corrupt compressed data
    raises :class:`FormatError` naming ``name`` when it is reached.
    """
    head, stream = peek(stream, 4)
    codec = compression_of(head)
    if codec is None:
        return stream
    inner: Any
    if codec == "gzip":
        inner = gzip.GzipFile(fileobj=stream, mode="rb")
    elif codec == "bz2":
        inner = bz2.BZ2File(stream, mode="rb")
    else:
        inner = pa.CompressedInputStream(pa.PythonFile(stream, mode="r"), "zstd")
    return io.BufferedReader(_Guarded(inner, codec, name), 1 << 16)


def open_compressed(sink: IO[bytes], codec: str) -> IO[bytes]:
    """A writable stream that compresses into ``sink`` with ``codec``; close it to finish."""
    if codec in ("gzip", "gz"):
        return cast(IO[bytes], gzip.GzipFile(fileobj=sink, mode="wb"))
    if codec in ("bz2", "bzip2"):
        return cast(IO[bytes], bz2.BZ2File(sink, mode="wb"))
    if codec in ("zstd", "zstandard"):
        native = pa.PythonFile(KeepOpen(sink), mode="w")
        return cast(IO[bytes], _NativeWriter(pa.CompressedOutputStream(native, "zstd")))
    raise ConfigError(
        f"unknown compression {codec!r} for a text format",
        fix=f"use one of: {', '.join(CODECS)}, or None",
    )


def decompress_head(head: bytes) -> bytes:
    """As much of a compressed ``head`` as decompresses (for sniffing); ``head`` if plain."""
    codec = compression_of(head)
    try:
        if codec == "gzip":
            return zlib.decompressobj(wbits=47).decompress(head)
        if codec == "bz2":
            return bz2.BZ2Decompressor().decompress(head)
        if codec == "zstd":
            return _zstd_prefix(head)
    except (OSError, EOFError, zlib.error, ValueError):
        return b""
    return head


def _zstd_prefix(head: bytes) -> bytes:
    stream = pa.CompressedInputStream(pa.BufferReader(head), "zstd")
    out = bytearray()
    try:
        while chunk := stream.read(1 << 16):
            out += chunk
    except (OSError, pa.ArrowInvalid):
        pass
    return bytes(out)


class _Guarded(io.RawIOBase):
    """A decompressing stream whose errors become FormatErrors naming the input."""

    def __init__(self, inner: Any, codec: str, name: str) -> None:
        super().__init__()
        self._inner = inner
        self._codec = codec
        self._name = name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._inner.read(len(view))
        except (OSError, EOFError, zlib.error, ValueError, pa.ArrowInvalid) as exc:
            raise FormatError(
                f"{self._name}: corrupt or truncated {self._codec} data: {exc}",
                fix="re-create or re-upload the file; check the transfer finished",
            ) from exc
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


class _NativeWriter(io.RawIOBase):
    """A pyarrow output stream seen as a Python binary file."""

    def __init__(self, inner: Any) -> None:
        super().__init__()
        self._inner = inner

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._inner.write(data)
        return len(memoryview(data))

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()
