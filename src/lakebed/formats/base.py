"""The file format interface: one reader and writer per format, to and from Arrow.

Readers stream: they yield record batches, so a file larger than memory passes through.
A record a reader cannot parse goes to ``on_bad_record`` with its location and reason; with
no callback, the reader raises :class:`~lakebed.errors.FormatError` naming the input.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, ClassVar

import pyarrow as pa

DEFAULT_BATCH_ROWS = 65_536


@dataclass(frozen=True)
class BadRecord:
    """One record that could not be read, kept with its reason (the quarantine's unit)."""

    source: str  # file name or URL
    location: str  # e.g. "line 17", "byte 4096", "record 3"
    reason: str
    raw: bytes = b""


OnBadRecord = Callable[[BadRecord], None]


class Format(ABC):
    """Reads and writes one file format."""

    name: ClassVar[str]  # "csv", "jsonl", ...
    extensions: ClassVar[tuple[str, ...]]  # (".csv",)
    content_type: ClassVar[str]
    #: True when ``write`` takes ``compression=`` (the format compresses inside the file, like
    #: Parquet); otherwise the helpers in :mod:`lakebed.formats` compress the whole file.
    internal_compression: ClassVar[bool] = False

    @abstractmethod
    def sniff(self, head: bytes) -> float:
        """Confidence in 0..1 that a file starting with ``head`` (decompressed) is this format."""

    @abstractmethod
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
        """Record batches of the (already decompressed) stream; ``schema`` casts when given."""

    @abstractmethod
    def write(
        self,
        batches: Iterable[pa.RecordBatch],
        sink: IO[bytes],
        schema: pa.Schema,
        **options: Any,
    ) -> int:
        """Write the batches; returns the number of rows written."""


class SchemaReader(ABC):
    """Optional ability: tell a file's schema from its header or footer without reading rows."""

    @abstractmethod
    def read_schema(
        self, source: IO[bytes], *, name: str = "<stream>", **options: Any
    ) -> pa.Schema:
        """The Arrow schema of the (already decompressed) stream."""
