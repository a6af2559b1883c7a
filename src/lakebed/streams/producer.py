"""``Producer``: put records into a delivery stream from Python, without the HTTP server.

For a stream with an HTTP source the producer appends to the stream's write-ahead log directly
(durable when ``put`` returns, record ids deduplicated exactly as over HTTP); for a Kafka source
it produces to the stream's first topic and flushes before returning. ``lake.streams.producer(
name)`` builds one. A write-ahead log has one writer process at a time: while ``lakebed serve``
holds a stream's log, put records through its HTTP endpoint instead.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lakebed.errors import ConfigError, MissingDependencyError, StorageError
from lakebed.streams.records import RecordError
from lakebed.streams.wal import WriteAheadLog

Record = bytes | str | dict[str, Any]
"""A record to put: raw bytes, text (stored as UTF-8) or a dict (stored as compact JSON)."""

_CONSUMER_ONLY = (
    "group.",
    "auto.offset.reset",
    "enable.auto.",
    "auto.commit.",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "partition.assignment.strategy",
    "isolation.level",
    "fetch.",
    "enable.partition.eof",
    "check.crcs",
)


def encode_record(record: Record, index: int | None = None) -> bytes:
    """The bytes stored for ``record``."""
    if isinstance(record, bytes | bytearray | memoryview):
        return bytes(record)
    if isinstance(record, str):
        return record.encode()
    if isinstance(record, dict):
        try:
            return json.dumps(record, separators=(",", ":")).encode()
        except (TypeError, ValueError) as exc:
            where = "the record" if index is None else f"record {index}"
            raise ConfigError(
                f"{where} cannot be written as JSON: {exc}",
                fix="use JSON values (str, int, float, bool, None, lists, dicts) or pass bytes",
            ) from None
    where = "the record" if index is None else f"record {index}"
    raise ConfigError(
        f"{where} is a {type(record).__name__}; a record is bytes, str or dict",
        fix="encode it yourself and pass bytes",
    )


class Producer:
    """Puts records into one delivery stream; ``config`` is the stream's config (``.source``)."""

    def __init__(self, config: Any, wal_dir: Path, *, flush_timeout_s: float = 30.0) -> None:
        self.config = config
        self.source = config.source
        self.wal_dir = Path(wal_dir)
        self.flush_timeout_s = flush_timeout_s
        kind = getattr(self.source, "type", None)
        if kind not in ("http", "kafka"):
            raise ConfigError(
                f"cannot produce to a stream with a {kind} source from Python",
                fix="write to the source itself (e.g. XADD for Redis Streams)",
            )
        self.kind: str = kind
        self._wal: WriteAheadLog | None = None
        self._kafka: Any = None
        self._lock = threading.Lock()

    def put(self, record: Record, *, record_id: str | None = None) -> int | str:
        """Store one record; its sequence number (HTTP source) or ``"topic/partition:offset"``
        (Kafka). Raises :class:`ConfigError` for a record the stream refuses (too large)."""
        (result,) = self.put_batch([record], record_ids=[record_id])
        if isinstance(result, RecordError):
            raise ConfigError(result.reason, fix="send a smaller record")
        return result

    def put_batch(
        self, records: Sequence[Record], *, record_ids: Sequence[str | None] | None = None
    ) -> list[int | str | RecordError]:
        """Store ``records``; per record, where it went or the :class:`RecordError` that kept it
        out. Everything stored is durable (fsynced, or acknowledged by Kafka) on return."""
        if record_ids is not None and len(record_ids) != len(records):
            raise ConfigError(
                f"put_batch got {len(records)} records but {len(record_ids)} record ids",
                fix="pass one record id (or None) per record",
            )
        values = [encode_record(r, i) for i, r in enumerate(records)]
        ids: list[str | None] = list(record_ids) if record_ids is not None else [None] * len(values)
        if self.kind == "http":
            return list(self._log().append(values, ids))
        return self._produce_kafka(values, ids)

    def _log(self) -> WriteAheadLog:
        with self._lock:
            if self._wal is None:
                src = self.source
                self._wal = WriteAheadLog(
                    self.wal_dir,
                    segment_bytes=getattr(src, "segment_bytes", 64 << 20),
                    max_record_bytes=getattr(src, "max_record_bytes", 1_024_000),
                    dedupe_window_s=getattr(src, "dedupe_window_s", 300),
                )
            return self._wal

    def _produce_kafka(
        self, values: list[bytes], ids: list[str | None]
    ) -> list[int | str | RecordError]:
        producer = self._kafka_producer()
        topic = self.source.topics[0]
        results: list[int | str | RecordError | None] = [None] * len(values)
        failures: list[str] = []

        def delivered(index: int) -> Any:
            def callback(err: Any, msg: Any) -> None:
                if err is not None:
                    failures.append(str(err))
                else:
                    results[index] = f"{msg.topic()}/{msg.partition()}:{msg.offset()}"

            return callback

        for i, (value, rid) in enumerate(zip(values, ids, strict=True)):
            key = rid.encode() if rid is not None else None
            while True:
                try:
                    producer.produce(topic, value, key=key, on_delivery=delivered(i))
                    break
                except BufferError:
                    producer.poll(0.1)  # the local queue is full: let deliveries drain
                except Exception as exc:  # KafkaException: e.g. the message is too large
                    results[i] = RecordError("oversize", f"Kafka refused it: {exc}")
                    break
        remaining = producer.flush(self.flush_timeout_s)
        if remaining or failures:
            raise StorageError(
                f"Kafka at {self.source.bootstrap_servers} did not take "
                f"{remaining or len(failures)} of {len(values)} records for topic {topic!r}"
                + (f": {failures[0]}" if failures else f" within {self.flush_timeout_s} s"),
                fix="check that the brokers are up and the topic exists, then send again",
                transient=True,
            )
        return [r for r in results if r is not None]

    def _kafka_producer(self) -> Any:
        with self._lock:
            if self._kafka is None:
                try:
                    from confluent_kafka import Producer as KafkaProducer
                except ImportError:
                    raise MissingDependencyError("confluent-kafka", "kafka") from None
                options = {
                    k: v for k, v in self.source.options.items() if not k.startswith(_CONSUMER_ONLY)
                }
                options.update(
                    {
                        "bootstrap.servers": self.source.bootstrap_servers,
                        "socket.timeout.ms": int(self.flush_timeout_s * 1000),
                        "message.timeout.ms": int(self.flush_timeout_s * 1000),
                    }
                )
                self._kafka = KafkaProducer(options)
            return self._kafka

    def close(self) -> None:
        """Flush and release the log or the Kafka client; safe to call twice."""
        with self._lock:
            if self._wal is not None:
                self._wal.close()
                self._wal = None
            if self._kafka is not None:
                self._kafka.flush(self.flush_timeout_s)
                self._kafka = None

    def __enter__(self) -> Producer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
