"""Apache Kafka topics as a stream source (confluent-kafka, i.e. librdkafka).

The source joins a consumer group (``lakebed-<stream>`` unless configured) so a topic's
partitions are assigned to it and its progress shows in Kafka's tools, but it never lets Kafka
decide where to start: on every assignment each partition is placed right after the position the
lake has committed for it (``resume_after``), or at the configured start (earliest/latest) when
the lake has none. Group offsets are committed only in :meth:`KafkaSource.acknowledge`, after the
snapshot holding the records is committed, and only for visibility (lag in
``kafka-consumer-groups``); exactly-once comes from the snapshot, not from them.

Partitions are named ``"<topic>/<partition>"``; positions are Kafka offsets (int).

Broker trouble: librdkafka reconnects on its own, so a dropped connection is not an error at
first. Only when the brokers stay unreachable for ``unreachable_grace_s`` (and a metadata request
confirms it) does :meth:`KafkaSource.poll` raise a transient :class:`StorageError` naming the
bootstrap servers and the fix; the source stays usable and recovers when the brokers return.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lakebed.errors import ConfigError, LakebedError, MissingDependencyError, StorageError
from lakebed.streams.records import Position, StreamRecord
from lakebed.streams.sources.base import StreamSource

if TYPE_CHECKING:
    from confluent_kafka import Consumer, KafkaError, TopicPartition

log = logging.getLogger(__name__)

_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_RESERVED_OPTIONS = {
    "bootstrap.servers": "bootstrap_servers",
    "group.id": "group_id",
    "enable.auto.commit": None,
    "enable.auto.offset.store": None,
    "auto.offset.reset": "start",
}
"""librdkafka settings the source owns; ``options`` may not override them."""


class KafkaSourceConfig(BaseModel):
    """Read one or more Kafka topics (all their partitions) through a consumer group.

    ``options`` pass straight to librdkafka (``security.protocol``, ``sasl.*``, ``fetch.*``;
    ``api.version.request: false`` and ``broker.version.fallback: "0.9.0.1"`` for a 0.9 broker).
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["kafka"] = "kafka"
    bootstrap_servers: str = Field(min_length=1)
    """Comma-separated ``host:port`` list of brokers to bootstrap from."""
    topics: list[str] = Field(min_length=1)
    group_id: str | None = None
    """Consumer group; ``lakebed-<stream>`` when unset."""
    start: Literal["earliest", "latest"] = "earliest"
    """Where to begin in partitions the lake has no committed position for."""
    options: dict[str, str | int | bool] = {}

    @field_validator("topics")
    @classmethod
    def _check_topics(cls, topics: list[str]) -> list[str]:
        for topic in topics:
            if not _TOPIC_NAME.match(topic):
                raise ValueError(
                    f"{topic!r} is not a Kafka topic name; use 1-249 of the characters "
                    "a-z A-Z 0-9 . _ -"
                )
        return topics

    @field_validator("options")
    @classmethod
    def _check_options(cls, options: dict[str, str | int | bool]) -> dict[str, str | int | bool]:
        for key in options:
            if key in _RESERVED_OPTIONS:
                field = _RESERVED_OPTIONS[key]
                fix = f"set the source's `{field}` instead" if field else "remove it"
                raise ValueError(f"option {key!r} is managed by the Kafka source; {fix}")
        return options

    def open_source(self, stream: str, state_dir: Path) -> KafkaSource:
        """The (not yet opened) source for delivery stream ``stream``; ``state_dir`` is unused:
        Kafka keeps everything the source needs."""
        return KafkaSource(self, group_id=self.group_id or f"lakebed-{stream}")


class KafkaSource(StreamSource):
    """A consumer-group member reading :attr:`KafkaSourceConfig.topics` (see module docs)."""

    kind = "kafka"

    def __init__(
        self,
        config: KafkaSourceConfig,
        *,
        group_id: str | None = None,
        unreachable_grace_s: float = 5.0,
    ) -> None:
        self.config = config
        self.group_id = group_id or config.group_id or "lakebed"
        self.unreachable_grace_s = unreachable_grace_s
        self._consumer: Consumer | None = None
        self._resume: dict[tuple[str, int], int] = {}
        """Next offset to read per (topic, partition): from ``resume_after``, then from where
        reading stopped when a partition was revoked (so a rebalance neither skips nor repeats)."""
        self._acknowledged: dict[tuple[str, int], int] = {}
        self._unreachable_since: float | None = None
        self._unreachable_reason = ""
        self._fatal: str | None = None
        self._deferred: StorageError | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def open(self, resume_after: Mapping[str, Position]) -> None:
        """Join the group and subscribe; reading starts after ``resume_after`` per partition."""
        try:
            from confluent_kafka import Consumer, KafkaException
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise MissingDependencyError("confluent-kafka") from exc
        self.close()
        self._resume = {}
        for name, position in resume_after.items():
            topic, partition = _split_partition(name)
            if topic in self.config.topics:
                self._resume[(topic, partition)] = _offset(name, position) + 1
        self._acknowledged = {}
        self._unreachable_since = None
        self._fatal = None
        self._deferred = None
        settings: dict[str, Any] = {
            "bootstrap.servers": self.config.bootstrap_servers,
            "group.id": self.group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": self.config.start,
            "enable.partition.eof": False,
            "error_cb": self._on_error,
            "on_commit": _on_commit,
            "logger": log,
            **self.config.options,
        }
        try:
            consumer = Consumer(settings)
        except (KafkaException, ValueError, TypeError) as exc:
            raise ConfigError(
                f"Kafka consumer settings for {self.config.bootstrap_servers} are invalid: {exc}",
                fix="correct or remove the offending entry in the source's `options`",
            ) from exc
        self._consumer = consumer
        consumer.subscribe(
            list(self.config.topics),
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )

    def close(self) -> None:
        """Commit the last acknowledged offsets (synchronously), leave the group, disconnect."""
        consumer, self._consumer = self._consumer, None
        if consumer is None:
            return
        try:
            if self._acknowledged and self._unreachable_since is None:
                from confluent_kafka import TopicPartition

                offsets = [TopicPartition(t, p, o) for (t, p), o in self._acknowledged.items()]
                consumer.commit(offsets=offsets, asynchronous=False)
        except Exception as exc:  # visibility only: the lake holds the real positions
            log.warning("final Kafka offset commit for group %s failed: %s", self.group_id, exc)
        finally:
            consumer.close()

    # -- reading ---------------------------------------------------------------------------

    def poll(self, max_records: int, timeout: float) -> list[StreamRecord]:
        """Up to ``max_records`` records (one ``consume`` call), waiting at most ``timeout`` s.

        An error met in the middle of a batch is raised by the next call, so records already
        taken from the consumer are never lost with it."""
        consumer = self._require_open()
        if self._deferred is not None:
            error, self._deferred = self._deferred, None
            raise error
        if max_records < 1:
            return []
        messages = consumer.consume(max_records, max(timeout, 0.0))
        records: list[StreamRecord] = []
        append = records.append
        last_topic: str | None = None
        last_partition: int | None = -1
        name = ""
        for message in messages:
            problem = message.error()
            if problem is not None:
                self._deferred = self._deferred or self._message_error(problem, message.topic())
                continue
            topic = message.topic()
            partition = message.partition()
            if partition != last_partition or topic != last_topic:
                last_topic, last_partition = topic, partition
                name = f"{topic}/{partition}"
            kind, timestamp = message.timestamp()
            append(
                StreamRecord(
                    message.value() or b"",
                    name,
                    message.offset(),  # type: ignore[arg-type]  # set on every fetched record
                    message.key(),
                    timestamp if kind else None,
                )
            )
        if self._fatal is not None:
            self._deferred = self._deferred or StorageError(
                f"Kafka consumer for {self.config.topics} on {self.config.bootstrap_servers} "
                f"failed for good: {self._fatal}",
                fix="check the broker logs and the source's `options`, then restart the stream",
            )
        if records:
            self._unreachable_since = None
            return records
        if self._deferred is not None:
            error, self._deferred = self._deferred, None
            raise error
        if self._unreachable_since is not None:
            self._check_reachable(consumer)
        return records

    def acknowledge(self, positions: Mapping[str, Position]) -> None:
        """Commit ``offset + 1`` per partition as the group's offset (asynchronously)."""
        consumer = self._require_open()
        if not positions:
            return
        from confluent_kafka import KafkaException, TopicPartition

        offsets = []
        for name, position in positions.items():
            topic, partition = _split_partition(name)
            nxt = _offset(name, position) + 1
            self._acknowledged[(topic, partition)] = nxt
            offsets.append(TopicPartition(topic, partition, nxt))
        try:
            consumer.commit(offsets=offsets, asynchronous=True)
        except KafkaException as exc:
            log.warning("Kafka offset commit for group %s failed: %s", self.group_id, exc)

    def lag(self) -> dict[str, int]:
        """High watermark minus the next offset to read, per assigned partition.

        Uses the watermarks the consumer already knows from its fetches; asks the brokers only
        for partitions it knows nothing of yet, for at most about two seconds in all."""
        consumer = self._consumer
        if consumer is None:
            return {}
        from confluent_kafka import KafkaException

        try:
            assigned = consumer.assignment()
            positions = consumer.position(assigned) if assigned else []
        except KafkaException:
            return {}
        lags: dict[str, int] = {}
        ask_until = time.monotonic() + 2.0
        for tp in positions:
            nxt = tp.offset if tp.offset >= 0 else self._resume.get((tp.topic, tp.partition), -1)
            try:
                low, high = consumer.get_watermark_offsets(tp, cached=True)
                wait = min(1.0, ask_until - time.monotonic())
                if (high < 0 or (nxt < 0 and low < 0)) and wait > 0:
                    low, high = consumer.get_watermark_offsets(tp, timeout=wait, cached=False)
            except KafkaException:
                continue
            if high < 0:
                continue
            if nxt < 0:
                nxt = low if self.config.start == "earliest" else high
            lags[f"{tp.topic}/{tp.partition}"] = max(0, high - nxt)
        return lags

    # -- group callbacks -------------------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        from confluent_kafka import OFFSET_BEGINNING, OFFSET_END

        start = OFFSET_BEGINNING if self.config.start == "earliest" else OFFSET_END
        for tp in partitions:
            tp.offset = self._resume.get((tp.topic, tp.partition), start)
        if self._incremental:
            consumer.incremental_assign(partitions)
        else:
            consumer.assign(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Remember where reading stopped: the records before it are in the delivery buffer.
        try:
            for tp in consumer.position(partitions):
                if tp.offset >= 0:
                    self._resume[(tp.topic, tp.partition)] = tp.offset
        finally:
            if self._incremental:
                consumer.incremental_unassign(partitions)
            else:
                consumer.unassign()

    @property
    def _incremental(self) -> bool:
        """Whether the group hands out partitions incrementally (KIP-848 or cooperative)."""
        options = self.config.options
        return str(options.get("group.protocol", "classic")).lower() == "consumer" or (
            "cooperative" in str(options.get("partition.assignment.strategy", ""))
        )

    # -- errors ----------------------------------------------------------------------------

    def _on_error(self, error: KafkaError) -> None:
        """librdkafka's error callback (and retriable error events): note broker trouble."""
        if error.code() in _UNREACHABLE_CODES:
            if self._unreachable_since is None:
                self._unreachable_since = time.monotonic()
            self._unreachable_reason = error.str()
        elif error.fatal():
            self._fatal = error.str()
        else:
            log.warning("Kafka (%s): %s", self.config.bootstrap_servers, error.str())

    def _message_error(self, error: KafkaError, topic: str | None) -> StorageError | None:
        """The error to raise for an error event among consumed messages, if any."""
        from confluent_kafka import KafkaError

        code = error.code()
        if code == KafkaError._PARTITION_EOF:
            return None
        if code in _UNREACHABLE_CODES or error.retriable():
            self._on_error(error)
            return None
        if code in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):
            return StorageError(
                f"Kafka topic {topic!r} does not exist on {self.config.bootstrap_servers}",
                fix="create the topic (or correct the stream source's `topics`); "
                "the stream picks it up once it exists",
                transient=True,
            )
        return StorageError(
            f"Kafka consumer for {self.config.topics} on {self.config.bootstrap_servers} "
            f"failed: {error.str()}",
            fix="check the broker logs and the source's `options`",
            transient=not error.fatal(),
        )

    def _check_reachable(self, consumer: Consumer) -> None:
        """After the grace, confirm with a metadata request; raise if the brokers stay away."""
        assert self._unreachable_since is not None
        if time.monotonic() - self._unreachable_since < self.unreachable_grace_s:
            return
        from confluent_kafka import KafkaException

        try:
            consumer.list_topics(self.config.topics[0], timeout=1.0)
        except KafkaException as exc:
            raise StorageError(
                f"Kafka brokers {self.config.bootstrap_servers} have been unreachable for "
                f"{time.monotonic() - self._unreachable_since:.0f} s "
                f"({self._unreachable_reason or exc})",
                fix="start the brokers or correct the source's `bootstrap_servers` (and "
                "network/`options` such as security.protocol); the stream resumes by itself",
                transient=True,
            ) from exc
        self._unreachable_since = None

    def _require_open(self) -> Consumer:
        if self._consumer is None:
            raise LakebedError(
                f"the Kafka source for {self.config.topics} is not open",
                fix="call open(resume_after) before reading or acknowledging",
            )
        return self._consumer


def _unreachable_codes() -> frozenset[int]:
    try:
        from confluent_kafka import KafkaError
    except ImportError:  # pragma: no cover - a core dependency
        return frozenset()
    return frozenset(
        (
            KafkaError._TRANSPORT,
            KafkaError._ALL_BROKERS_DOWN,
            KafkaError._RESOLVE,
            KafkaError._TIMED_OUT,
        )
    )


_UNREACHABLE_CODES = _unreachable_codes()
"""librdkafka error codes that mean the brokers cannot be reached (it keeps retrying)."""


def _on_commit(error: KafkaError | None, partitions: list[TopicPartition]) -> None:
    if error is not None:
        log.warning("Kafka offset commit failed: %s", error.str())


def _split_partition(name: str) -> tuple[str, int]:
    topic, sep, number = name.rpartition("/")
    if not sep or not topic or not number.isdigit():
        raise ConfigError(
            f"{name!r} is not a Kafka partition name",
            fix='name Kafka partitions "<topic>/<partition number>", e.g. "orders/0"',
        )
    return topic, int(number)


def _offset(name: str, position: Position) -> int:
    if isinstance(position, bool) or not isinstance(position, int | str):
        raise ConfigError(
            f"position {position!r} of {name!r} is not a Kafka offset",
            fix="pass the integer offset of the last record delivered from that partition",
        )
    try:
        offset = int(position)
    except ValueError:
        raise ConfigError(
            f"position {position!r} of {name!r} is not a Kafka offset",
            fix="pass the integer offset of the last record delivered from that partition",
        ) from None
    if offset < 0:
        raise ConfigError(
            f"position {offset} of {name!r} is negative",
            fix="pass the offset of the last record delivered from that partition (>= 0)",
        )
    return offset
