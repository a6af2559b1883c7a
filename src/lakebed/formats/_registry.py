"""The formats by name and by file extension, each module imported only when first used."""

from __future__ import annotations

import functools
import importlib
from pathlib import PurePath

from lakebed.errors import ConfigError
from lakebed.formats.base import Format
from lakebed.formats.compression import strip_compression_suffix

_FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("lakebed.formats.csv", "CsvFormat"),
    "tsv": ("lakebed.formats.csv", "TsvFormat"),
    "json": ("lakebed.formats.json", "JsonFormat"),
    "jsonl": ("lakebed.formats.json", "JsonLinesFormat"),
    "avro": ("lakebed.formats.avro", "AvroFormat"),
    "parquet": ("lakebed.formats.parquet", "ParquetFormat"),
    "orc": ("lakebed.formats.orc", "OrcFormat"),
    "protobuf": ("lakebed.formats.protobuf", "ProtobufFormat"),
    "recordio": ("lakebed.formats.recordio", "RecordIOFormat"),
}
_ALIASES = {
    "ndjson": "jsonl",
    "jsonlines": "jsonl",
    "recordio-protobuf": "recordio",
    "pb": "protobuf",
}
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".avro": "avro",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".orc": "orc",
    ".pb": "protobuf",
    ".protobuf": "protobuf",
    ".rec": "recordio",
    ".recordio": "recordio",
}

FORMAT_NAMES: tuple[str, ...] = tuple(_FORMATS)


@functools.cache
def get_format(name: str) -> Format:
    """The format called ``name`` (``"csv"``, ``"parquet"``, ...); unknown is a ConfigError."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in _FORMATS:
        raise ConfigError(
            f"unknown file format {name!r}", fix=f"use one of: {', '.join(FORMAT_NAMES)}"
        )
    module, cls = _FORMATS[key]
    format_cls: type[Format] = getattr(importlib.import_module(module), cls)
    return format_cls()


def format_for_path(path: str | PurePath) -> Format | None:
    """The format a file name's extension suggests (compression suffixes ignored), if any."""
    suffix = PurePath(strip_compression_suffix(PurePath(path).name)).suffix.lower()
    name = _EXTENSIONS.get(suffix)
    return get_format(name) if name else None
