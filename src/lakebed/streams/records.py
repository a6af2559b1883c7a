"""The record every stream source hands to a delivery stream.

A *position* says where a record sits in its source partition (a Kafka offset, a Redis Streams
entry id, a write-ahead-log sequence number). Positions are opaque to the delivery core: it keeps
the last one it delivered per partition and commits that map with the table snapshot holding the
rows, then gives it back to the source on restart ("resume after these").
"""

from __future__ import annotations

from dataclasses import dataclass

Position = int | str
"""Where a record sits in its partition; JSON-serialisable, increasing within a partition."""


@dataclass(slots=True)
class StreamRecord:
    """One record read from a stream source, before decoding.

    Not frozen: a frozen dataclass costs several times more to build, and sources build one
    per record on the hot path. Treat it as read-only."""

    value: bytes
    partition: str
    """Source partition: ``"orders/3"`` (Kafka topic/partition), a Redis stream key, ``"wal"``."""
    position: Position
    key: bytes | None = None
    timestamp_ms: int | None = None
    """When the source accepted the record (broker or append time), in ms since the epoch."""
    record_id: str | None = None
    """A producer-chosen id, used to drop client retries (HTTP put)."""


ERROR_KINDS = ("parse", "schema", "conversion", "oversize", "partition", "late")
"""Why a record went to a stream's error output; the kind is part of its path there.

- ``parse``: the bytes are not valid JSON / Avro / Protobuf, or the wire format is wrong;
- ``schema``: it fails schema validation (unknown schema id, missing required field, a field the
  table does not have);
- ``conversion``: a value cannot be converted to the table column's type;
- ``oversize``: larger than the stream's maximum record size;
- ``partition``: a partition key cannot be computed from it;
- ``late``: its event time is behind the watermark by more than the allowed lateness.
"""


class RecordError(Exception):
    """One record cannot be delivered; it goes to the error output with ``kind`` and ``reason``.

    Not a :class:`lakebed.errors.LakebedError`: it never reaches a user as an exception, it is
    the reason stored next to the raw record.
    """

    def __init__(self, kind: str, reason: str) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown record error kind {kind!r}; one of {ERROR_KINDS}")
        self.kind = kind
        self.reason = reason
        super().__init__(f"{kind}: {reason}")
