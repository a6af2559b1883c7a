"""Every file format lakebed reads and writes, to and from Arrow record batches.

CSV, TSV, JSON, JSON Lines, Avro, Parquet, ORC, Protobuf and SageMaker RecordIO-protobuf, each a
:class:`Format` in its own module, loaded when first used. The helpers here take a local path
or a binary stream, decompress gzip/bzip2/zstd transparently and detect the format by content::

    from lakebed import formats
    for batch in formats.read("data/events.jsonl.gz", on_bad_record=quarantine.append):
        ...
    formats.convert("raw.csv", "clean.parquet", to="parquet", compression="zstd")
"""

from __future__ import annotations

from lakebed.formats._api import (
    ConvertResult,
    convert,
    read,
    read_schema,
    sample_schema,
    write,
)
from lakebed.formats._registry import FORMAT_NAMES, format_for_path, get_format
from lakebed.formats.base import DEFAULT_BATCH_ROWS, BadRecord, Format, OnBadRecord, SchemaReader
from lakebed.formats.compression import open_decompressed, strip_compression_suffix
from lakebed.formats.detect import detect

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "FORMAT_NAMES",
    "BadRecord",
    "ConvertResult",
    "Format",
    "OnBadRecord",
    "SchemaReader",
    "convert",
    "detect",
    "format_for_path",
    "get_format",
    "open_decompressed",
    "read",
    "read_schema",
    "sample_schema",
    "strip_compression_suffix",
    "write",
]
