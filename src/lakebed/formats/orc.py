"""ORC, read and written with pyarrow.

Reads stream stripe by stripe; a stream that cannot seek is first spooled to a temporary
file, since the footer is at the end. ``columns=`` reads a subset. Write options:
``compression`` (zstd by default; snappy, zlib, lz4, uncompressed), ``stripe_size``.
ORC stores timestamps in nanoseconds; pass ``schema=`` to read them back in another unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any, ClassVar

import pyarrow as pa
import pyarrow.orc as porc

from lakebed.errors import ConfigError, FormatError
from lakebed.formats._common import KeepOpen, conform, empty_batch, seekable, take_options
from lakebed.formats.base import DEFAULT_BATCH_ROWS, Format, OnBadRecord, SchemaReader

MAGIC = b"ORC"
_COMPRESSION = ("zstd", "snappy", "zlib", "lz4", "uncompressed")
_WRITE_OPTIONS = {"compression": "zstd", "stripe_size": 64 * 1024 * 1024}


class OrcFormat(Format, SchemaReader):
    """Apache ORC."""

    name: ClassVar[str] = "orc"
    extensions: ClassVar[tuple[str, ...]] = (".orc",)
    content_type: ClassVar[str] = "application/vnd.apache.orc"
    internal_compression: ClassVar[bool] = True

    def sniff(self, head: bytes) -> float:
        """Certain when the ORC magic opens the file."""
        return 1.0 if head.startswith(MAGIC) else 0.0

    def read_schema(
        self, source: IO[bytes], *, name: str = "<stream>", **options: Any
    ) -> pa.Schema:
        """The schema from the footer."""
        take_options(self.name, options, {"columns": None})
        with seekable(source) as stream:
            return self._open(stream, name).schema

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
        """Batches of the file, stripe by stripe."""
        opts = take_options(self.name, options, {"columns": None})
        with seekable(source) as stream:
            orc = self._open(stream, name)
            emitted = False
            for index in range(orc.nstripes):
                try:
                    stripe = orc.read_stripe(index, columns=opts["columns"])
                except (OSError, pa.ArrowException) as exc:
                    raise _corrupt(name, exc) from exc
                for batch in pa.Table.from_batches([stripe]).to_batches(max_chunksize=batch_rows):
                    yield conform(batch, schema, name) if schema is not None else batch
                    emitted = True
            if not emitted:
                yield empty_batch(schema if schema is not None else orc.schema)

    def _open(self, source: IO[bytes], name: str) -> porc.ORCFile:
        try:
            return porc.ORCFile(source)
        except (OSError, pa.ArrowException) as exc:
            raise _corrupt(name, exc) from exc

    def write(
        self,
        batches: Iterable[pa.RecordBatch],
        sink: IO[bytes],
        schema: pa.Schema,
        **options: Any,
    ) -> int:
        """Write stripes of about ``stripe_size`` bytes."""
        opts = take_options(self.name, options, _WRITE_OPTIONS)
        compression = str(opts["compression"] or "uncompressed").lower()
        compression = {"none": "uncompressed", "gzip": "zlib"}.get(compression, compression)
        if compression not in _COMPRESSION:
            raise ConfigError(
                f"unknown orc compression {opts['compression']!r}",
                fix=f"use one of: {', '.join(_COMPRESSION)}",
            )
        rows = 0
        writer = porc.ORCWriter(
            pa.PythonFile(KeepOpen(sink), mode="w"),
            compression=compression,
            stripe_size=opts["stripe_size"],
        )
        try:
            for batch in batches:
                writer.write(pa.Table.from_batches([conform(batch, schema, "<orc writer>")]))
                rows += batch.num_rows
            if rows == 0:
                writer.write(schema.empty_table())
        finally:
            writer.close()
        return rows


def _corrupt(name: str, exc: BaseException) -> FormatError:
    return FormatError(
        f"{name}: not a readable orc file ({exc})",
        fix="the file is corrupt or truncated; re-create or re-upload it",
    )
