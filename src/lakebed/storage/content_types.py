"""Content types for stored objects: from the key's extension, else from the first bytes.

The standard ``mimetypes`` table lacks the data formats a lake holds (Parquet, Avro, ORC, JSON
Lines, ...), so those are added here; sniffing covers keys without a known extension.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

DEFAULT = "application/octet-stream"

_BY_SUFFIX = {
    ".parquet": "application/vnd.apache.parquet",
    ".avro": "application/avro",
    ".orc": "application/x-orc",
    ".jsonl": "application/jsonl",
    ".ndjson": "application/x-ndjson",
    ".json": "application/json",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".recordio": "application/x-recordio",
    ".pbr": "application/x-recordio-protobuf",
    ".manifest": "application/jsonl",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".md": "text/markdown",
    ".txt": "text/plain",
    ".gz": "application/gzip",
    ".zst": "application/zstd",
}

_MAGIC = (
    (b"PAR1", "application/vnd.apache.parquet"),
    (b"ORC", "application/x-orc"),
    (b"Obj\x01", "application/avro"),
    (b"\x1f\x8b", "application/gzip"),
    (b"(\xb5/\xfd", "application/zstd"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x89PNG", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"%PDF", "application/pdf"),
)


def from_key(key: str) -> str | None:
    """The content type the key's extension implies, or None."""
    suffix = PurePosixPath(key).suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    guessed, _ = mimetypes.guess_type(key, strict=False)
    return guessed


def from_content(head: bytes) -> str:
    """The content type the first bytes of an object suggest (octet-stream when unsure)."""
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    if not head:
        return DEFAULT
    try:
        # The last character may be cut in half by the sample boundary.
        text = head[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head[:4096]) - 3:
            return DEFAULT
        text = head[: exc.start].decode("utf-8")
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return "application/json"
    if all(char.isprintable() or char in "\r\n\t" for char in text):
        return "text/plain"
    return DEFAULT


def guess(key: str, head: bytes) -> str:
    """Content type for an object stored without one: by extension, then by content."""
    return from_key(key) or from_content(head)
