"""Kafka (the librdkafka mock cluster) as a backend of the shared source behaviour suite."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers.kafka import KafkaCluster

from lakebed.streams.sources.base import StreamSource
from lakebed.streams.sources.kafka import KafkaSourceConfig


class KafkaBackend:
    """A fresh topic with :attr:`partitions` partitions; sources share one consumer group."""

    partitions = 3

    def __init__(self, cluster: KafkaCluster) -> None:
        self.cluster = cluster
        self.topic = f"behaviour-{uuid.uuid4().hex[:12]}"
        self.group_id = f"behaviour-{uuid.uuid4().hex[:12]}"
        cluster.create_topic(self.topic, self.partitions)
        self._state = tempfile.TemporaryDirectory(prefix="lakebed-kafka-source-")
        self._sources: list[StreamSource] = []

    def produce(self, values: list[bytes], *, key: bytes | None = None) -> None:
        """Produce ``values`` in order (spread over partitions unless ``key`` pins one)."""
        self.cluster.produce(self.topic, values, key=key)

    def source(self) -> StreamSource:
        """A new, unopened source over the topic, starting at the earliest offsets."""
        config = KafkaSourceConfig(
            bootstrap_servers=self.cluster.bootstrap_servers,
            topics=[self.topic],
            group_id=self.group_id,
            start="earliest",
            options=self.cluster.source_options,
        )
        source = config.open_source("behaviour", Path(self._state.name))
        self._sources.append(source)
        return source

    def close(self) -> None:
        for source in self._sources:
            source.close()
        self._state.cleanup()


@contextmanager
def kafka_backend(cluster: KafkaCluster) -> Iterator[KafkaBackend]:
    """A :class:`KafkaBackend` on ``cluster``, closed afterwards."""
    backend = KafkaBackend(cluster)
    try:
        yield backend
    finally:
        backend.close()
