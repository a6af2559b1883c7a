"""Inspecting one object: is it tabular, in which format (by content), with which schema.

The format comes from the first bytes after decompression (gzip, bzip2, zstd are looked through);
the file name is only a hint for ties. Media and archives are recognised by their magic bytes
so the report can say "not tabular (image/jpeg)" instead of a parser's complaint. Every failure
becomes a reason string: inspection never raises for a bad file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

import pyarrow as pa

from lakebed.errors import LakebedError
from lakebed.formats.base import BadRecord, Format
from lakebed.storage.base import ObjectStore

HEAD_BYTES = 1 << 16
#: A sniff score at which the extension's own format is taken without trying the others.
SURE = 0.8

#: Magic bytes of common non-tabular files: (offset, magic, content type).
_MEDIA_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (8, b"WEBP", "image/webp"),
    (8, b"WAVE", "audio/wav"),
    (8, b"AVI ", "video/x-msvideo"),
    (0, b"fLaC", "audio/flac"),
    (0, b"OggS", "audio/ogg"),
    (4, b"ftyp", "video/mp4"),
    (0, b"\x1aE\xdf\xa3", "video/webm"),
    (0, b"%PDF", "application/pdf"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"Rar!", "application/vnd.rar"),
    (0, b"\x7fELF", "application/x-executable"),
)

#: Options a format's reader needs again at query time, by format name.
_CSV_LIKE = ("csv", "tsv")


@dataclass(frozen=True)
class Inspection:
    """The outcome for one object: a format and schema, or the reason it was skipped."""

    key: str
    format: str | None = None
    schema: pa.Schema | None = None
    options: dict[str, str | bool] = field(default_factory=dict)
    skip_reason: str | None = None
    #: Unreadable records met in the rows sampled for the schema (left in the file).
    bad_sampled: int = 0


def media_type(head: bytes) -> str | None:
    """The content type of a known non-tabular file from its first bytes, else None."""
    for offset, magic, content_type in _MEDIA_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return content_type
    if head[:3] == b"ID3" and head[3:4] in (b"\x02", b"\x03", b"\x04") and head[4:5] == b"\x00":
        return "audio/mpeg"  # an ID3v2 tag (text starting "ID3" has no version bytes)
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] != 0xFE:
        return "audio/mpeg"  # an MPEG audio frame header (FF FE is a UTF-16 byte order mark)
    return None


def _read_head(stream: IO[bytes]) -> bytes:
    head = b""
    while len(head) < HEAD_BYTES:
        chunk = stream.read(HEAD_BYTES - len(head))
        if not chunk:
            break
        head += chunk
    return head


def _reason(err: BaseException) -> str:
    if isinstance(err, LakebedError):
        return err.message
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else 'unreadable'}"


def csv_options(format_name: str, schema: pa.Schema) -> dict[str, str | bool]:
    """Reader options to keep for a CSV/TSV table: ``header=False`` when the file had none."""
    if format_name not in _CSV_LIKE:
        return {}
    generated = [f"col_{i}" for i in range(len(schema))]
    return {"header": False} if schema.names == generated else {}


def detect_format(head: bytes, name: str) -> Format:
    """The format of a (decompressed) head: the extension's format when its own sniffer is
    sure of the content, else the best of all sniffers (``formats.detect``).

    Asking the suggested format first saves sniffing every format for the common case of a
    well-named file; a misnamed one (Parquet called ``.csv``) fails that check and is detected
    by content like any other.
    """
    from lakebed import formats

    hinted = formats.format_for_path(name)
    if hinted is not None and hinted.name != "protobuf" and hinted.sniff(head) >= SURE:
        return hinted
    return formats.detect(head, name)


def sample_schema(
    fmt: Format, source: IO[bytes], name: str, sample_rows: int, bad: list[BadRecord] | None = None
) -> pa.Schema:
    """The schema from the header or footer, else from the first ``sample_rows`` rows.

    Bad records met while sampling are passed over (added to ``bad`` when given): the schema
    comes from the good ones, and converting reports each one.

    The Format is called directly on the store's own stream, so footer formats (Parquet, ORC)
    seek in it instead of copying it to a temporary file first.
    """
    from lakebed.formats import sample_schema as format_schema

    seen: list[BadRecord] = [] if bad is None else bad
    return format_schema(fmt, source, name=name, sample_rows=sample_rows, on_bad_record=seen.append)


@contextmanager
def open_source(store: ObjectStore, key: str) -> Iterator[IO[bytes]]:
    """The object's bytes to parse: decompressed when compressed, else the store's own
    (seekable) stream, which columnar readers need."""
    from lakebed import formats
    from lakebed.formats.compression import compression_of

    name = key.rsplit("/", 1)[-1]
    with store.open(key) as stream:
        head = stream.read(4)
        stream.seek(0)
        yield formats.open_decompressed(stream, name) if compression_of(head) else stream


def inspect_object(store: ObjectStore, key: str, *, sample_rows: int = 1000) -> Inspection:
    """Detect the format and read the schema of one object; never raises for bad content."""
    from lakebed import formats
    from lakebed.formats.compression import compression_of, strip_compression_suffix

    name = key.rsplit("/", 1)[-1]
    bad: list[BadRecord] = []
    try:
        with store.open(key) as stream:
            head = _read_head(stream)
            if not head:
                return Inspection(key, skip_reason="empty file")
            compressed = compression_of(head) is not None
            if compressed:
                stream.seek(0)
                head = _read_head(formats.open_decompressed(stream, name))
            media = media_type(head)
            if media is not None:
                return Inspection(key, skip_reason=f"not tabular ({media})")
            fmt = detect_format(head, strip_compression_suffix(name))
            stream.seek(0)
            source = formats.open_decompressed(stream, name) if compressed else stream
            schema = sample_schema(fmt, source, key, sample_rows, bad)
    except (LakebedError, OSError, ValueError, pa.ArrowException, EOFError) as err:
        return Inspection(key, skip_reason=_reason(err))
    if len(schema) == 0:
        return Inspection(key, format=fmt.name, skip_reason=f"no columns found ({fmt.name})")
    return Inspection(
        key,
        format=fmt.name,
        schema=schema,
        options=csv_options(fmt.name, schema),
        bad_sampled=len(bad),
    )
