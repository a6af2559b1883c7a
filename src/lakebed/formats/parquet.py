"""Parquet, read and written with pyarrow.

Reads stream row group by row group (``iter_batches``); a stream that cannot seek is first
spooled to a temporary file, since the footer is at the end. ``columns=`` reads a subset.
Write options: ``compression`` (snappy by default; zstd, gzip, brotli, lz4, none),
``compression_level``, ``row_group_rows``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq

from lakebed.errors import ConfigError, FormatError
from lakebed.formats._common import conform, empty_batch, seekable, take_options
from lakebed.formats.base import DEFAULT_BATCH_ROWS, Format, OnBadRecord, SchemaReader

MAGIC = b"PAR1"
_COMPRESSION = ("snappy", "zstd", "gzip", "brotli", "lz4", "none")
_WRITE_OPTIONS = {"compression": "snappy", "compression_level": None, "row_group_rows": 1 << 20}


class ParquetFormat(Format, SchemaReader):
    """Apache Parquet."""

    name: ClassVar[str] = "parquet"
    extensions: ClassVar[tuple[str, ...]] = (".parquet", ".pq")
    content_type: ClassVar[str] = "application/vnd.apache.parquet"
    internal_compression: ClassVar[bool] = True

    def sniff(self, head: bytes) -> float:
        """Certain when the Parquet magic ``PAR1`` opens the file."""
        return 1.0 if head.startswith(MAGIC) else 0.0

    def read_schema(
        self, source: IO[bytes], *, name: str = "<stream>", **options: Any
    ) -> pa.Schema:
        """The schema from the footer."""
        take_options(self.name, options, {"columns": None})
        with seekable(source) as stream:
            return self._open(stream, name).schema_arrow

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
        """Batches of the file, row group by row group."""
        opts = take_options(self.name, options, {"columns": None})
        with seekable(source) as stream:
            parquet = self._open(stream, name)
            batches = parquet.iter_batches(batch_size=batch_rows, columns=opts["columns"])
            emitted = False
            while True:
                try:
                    batch = next(batches, None)
                except (OSError, pa.ArrowException) as exc:
                    raise _corrupt(name, exc) from exc
                if batch is None:
                    break
                yield conform(batch, schema, name) if schema is not None else batch
                emitted = True
            if not emitted:
                yield empty_batch(schema if schema is not None else parquet.schema_arrow)

    def _open(self, source: IO[bytes], name: str) -> pq.ParquetFile:
        try:
            return pq.ParquetFile(source)
        except (OSError, pa.ArrowException) as exc:
            raise _corrupt(name, exc) from exc

    def write(
        self,
        batches: Iterable[pa.RecordBatch],
        sink: IO[bytes],
        schema: pa.Schema,
        **options: Any,
    ) -> int:
        """Write row groups of up to ``row_group_rows`` rows."""
        opts = take_options(self.name, options, _WRITE_OPTIONS)
        compression = str(opts["compression"] or "none").lower()
        if compression not in _COMPRESSION:
            raise ConfigError(
                f"unknown parquet compression {opts['compression']!r}",
                fix=f"use one of: {', '.join(_COMPRESSION)}",
            )
        rows = 0
        with pq.ParquetWriter(
            sink,
            schema,
            compression=compression,
            compression_level=opts["compression_level"],
        ) as writer:
            for batch in batches:
                writer.write_batch(
                    conform(batch, schema, "<parquet writer>"), opts["row_group_rows"]
                )
                rows += batch.num_rows
        return rows


def _corrupt(name: str, exc: BaseException) -> FormatError:
    return FormatError(
        f"{name}: not a readable parquet file ({exc})",
        fix="the file is corrupt or truncated; re-create or re-upload it",
    )
