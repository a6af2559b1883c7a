"""The stream source interface: a partitioned log a delivery stream reads from.

A source reads records in order per partition. The delivery core buffers them, writes them to a
table and commits the snapshot together with the last position per partition; only then does it
call :meth:`StreamSource.acknowledge`, so the source may forget what is durable in the lake. On
restart the core passes the committed positions to :meth:`StreamSource.open`, which must resume
*after* them: that, not the source's own bookkeeping, is what makes delivery exactly once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping

from lakebed.streams.records import Position, StreamRecord


class StreamSource(ABC):
    """A partitioned, ordered log of records (Kafka, Redis Streams, the HTTP write-ahead log)."""

    kind: str = ""
    """Short name of the backend (``"kafka"``, ``"redis"``, ``"http"``)."""

    @abstractmethod
    def open(self, resume_after: Mapping[str, Position]) -> None:
        """Start reading after ``resume_after[partition]`` for the partitions it names, and from
        the source's configured start (earliest by default) for the others."""

    @abstractmethod
    def poll(self, max_records: int, timeout: float) -> list[StreamRecord]:
        """Up to ``max_records`` records, waiting at most ``timeout`` seconds; ``[]`` when none
        came. Raises :class:`lakebed.errors.StorageError` (``transient=True``) naming the server
        and the fix when the source cannot be reached."""

    @abstractmethod
    def acknowledge(self, positions: Mapping[str, Position]) -> None:
        """Everything up to and including ``positions`` is committed to the lake; the source may
        record it (Kafka group offsets, Redis XACK) or discard it (write-ahead-log segments)."""

    @abstractmethod
    def lag(self) -> dict[str, int]:
        """Records not yet read, per partition (best effort; ``{}`` when unknown)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections and files; safe to call twice."""

    def __enter__(self) -> StreamSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
