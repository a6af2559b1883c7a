"""The Kafka source against librdkafka's mock cluster (its own process, real TCP).

The behaviour every source shares is in test_source_behaviour.py; here: many partitions, the
consumer group (committed offsets visible to Kafka tools, restart resumes after the lake's
positions), lag, ``start="latest"``, a dead broker, and bad configuration.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from pathlib import Path

import pydantic
import pytest
from confluent_kafka import Consumer, TopicPartition
from tests.servers.kafka import KafkaCluster, free_port, run_mock_cluster

from lakebed.errors import ConfigError, LakebedError, StorageError
from lakebed.streams.records import StreamRecord
from lakebed.streams.sources.kafka import KafkaSource, KafkaSourceConfig


def new_topic(cluster: KafkaCluster, partitions: int) -> str:
    topic = f"orders-{uuid.uuid4().hex[:10]}"
    cluster.create_topic(topic, partitions)
    return topic


def config(cluster: KafkaCluster, topic: str, **fields: object) -> KafkaSourceConfig:
    return KafkaSourceConfig(
        bootstrap_servers=cluster.bootstrap_servers,
        topics=[topic],
        options=cluster.source_options,
        **fields,
    )


def read(source: KafkaSource, count: int, timeout: float = 20.0) -> list[StreamRecord]:
    records: list[StreamRecord] = []
    deadline = time.monotonic() + timeout
    while len(records) < count:
        assert time.monotonic() < deadline, f"read {len(records)} of {count} records"
        records += source.poll(count - len(records), 0.2)
    return records


def committed(cluster: KafkaCluster, group: str, topic: str, partitions: int) -> dict[int, int]:
    """The group's committed offsets, as ``kafka-consumer-groups --describe`` shows them."""
    consumer = Consumer(cluster.config(**{"group.id": group}))
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        return {tp.partition: tp.offset for tp in consumer.committed(tps, timeout=10)}
    finally:
        consumer.close()


def test_reads_many_partitions_with_keys_timestamps_and_order(
    kafka_mock: KafkaCluster, tmp_path: Path
) -> None:
    topic = new_topic(kafka_mock, 16)
    before = int(time.time() * 1000)
    for k in range(40):
        kafka_mock.produce(topic, [f"{k}:{i}".encode() for i in range(10)], key=f"k{k}".encode())
    with config(kafka_mock, topic).open_source("orders", tmp_path) as source:
        source.open({})
        records = read(source, 400)
        assert source.poll(100, 0.3) == []
    assert {r.partition for r in records} <= {f"{topic}/{p}" for p in range(16)}
    assert len({r.partition for r in records}) > 8  # 40 keys spread over the partitions
    per_key: dict[bytes, list[int]] = defaultdict(list)
    for record in records:
        assert record.key is not None and record.value.startswith(record.key[1:] + b":")
        assert isinstance(record.position, int)
        assert record.timestamp_ms is not None and before - 1000 <= record.timestamp_ms
        assert record.timestamp_ms <= int(time.time() * 1000) + 1000
        per_key[record.key].append(int(record.value.split(b":")[1]))
    assert all(seq == list(range(10)) for seq in per_key.values())
    assert len(per_key) == 40


def test_group_offsets_follow_acknowledge_and_restart_resumes_after_lake_positions(
    kafka_mock: KafkaCluster, tmp_path: Path
) -> None:
    topic = new_topic(kafka_mock, 3)
    for p in range(3):
        kafka_mock.produce(topic, [f"p{p}-{i}".encode() for i in range(10)], partition=p)
    cfg = config(kafka_mock, topic)  # group defaults to lakebed-<stream>
    with cfg.open_source("orders", tmp_path) as source:
        source.open({})
        records = read(source, 30)
        delivered = {f"{topic}/0": 3, f"{topic}/1": 9, f"{topic}/2": 0}
        source.acknowledge(delivered)
    assert committed(kafka_mock, "lakebed-orders", topic, 3) == {0: 4, 1: 10, 2: 1}
    assert len(records) == 30

    # A restart resumes after the lake's positions: records 4.., none of 1, 1.. of partition 2.
    kafka_mock.produce(topic, [b"p1-10"], partition=1)
    with cfg.open_source("orders", tmp_path) as source:
        source.open(delivered)
        rest = read(source, 6 + 1 + 9)
        assert source.poll(100, 0.3) == []
    got = sorted(r.value for r in rest)
    assert got == sorted(
        [f"p0-{i}".encode() for i in range(4, 10)]
        + [b"p1-10"]
        + [f"p2-{i}".encode() for i in range(1, 10)]
    )


def test_the_lake_not_the_group_decides_where_to_start(
    kafka_mock: KafkaCluster, tmp_path: Path
) -> None:
    topic = new_topic(kafka_mock, 1)
    kafka_mock.produce(topic, [b"a", b"b", b"c"])
    cfg = config(kafka_mock, topic, group_id="shared-group")
    with cfg.open_source("orders", tmp_path) as source:
        source.open({})
        source.acknowledge({f"{topic}/0": r.position for r in read(source, 3)[-1:]})
    # Kafka has offset 3 committed, but a lake with no positions (say, a new table) starts over.
    with cfg.open_source("orders", tmp_path) as source:
        source.open({})
        assert [r.value for r in read(source, 3)] == [b"a", b"b", b"c"]


def test_lag_counts_records_not_yet_read(kafka_mock: KafkaCluster, tmp_path: Path) -> None:
    topic = new_topic(kafka_mock, 2)
    kafka_mock.produce(topic, [b"x"] * 30, partition=0)
    kafka_mock.produce(topic, [b"y"] * 10, partition=1)
    with config(kafka_mock, topic).open_source("orders", tmp_path) as source:
        source.open({f"{topic}/0": 9})  # 20 records left in partition 0, 10 in partition 1
        first = read(source, 1)[0]
        expected = {f"{topic}/0": 20, f"{topic}/1": 10}
        expected[first.partition] -= 1
        assert source.lag() == expected
        read(source, 29)
        assert source.lag() == {f"{topic}/0": 0, f"{topic}/1": 0}
        kafka_mock.produce(topic, [b"z"] * 4, partition=1)
        deadline = time.monotonic() + 10
        while source.lag().get(f"{topic}/1") != 4 and time.monotonic() < deadline:
            time.sleep(0.1)  # the client learns the new end of the log from its fetches
        assert source.lag() == {f"{topic}/0": 0, f"{topic}/1": 4}


def test_latest_start_skips_what_was_there_before(kafka_mock: KafkaCluster, tmp_path: Path) -> None:
    topic = new_topic(kafka_mock, 1)
    kafka_mock.produce(topic, [b"old-1", b"old-2"])
    with config(kafka_mock, topic, start="latest").open_source("orders", tmp_path) as source:
        source.open({})
        deadline = time.monotonic() + 10
        while not source.lag() and time.monotonic() < deadline:
            assert source.poll(10, 0.1) == []
        assert source.poll(10, 0.5) == []
        kafka_mock.produce(topic, [b"new-1"])
        assert [r.value for r in read(source, 1)] == [b"new-1"]


def test_a_broker_that_dies_gives_a_transient_error_naming_it(tmp_path: Path) -> None:
    with run_mock_cluster(1) as mock:
        cluster = mock.cluster()
        topic = new_topic(cluster, 1)
        cluster.produce(topic, [b"a", b"b"])
        cluster.close()
        source = KafkaSource(config(cluster, topic), unreachable_grace_s=1.0)
        try:
            source.open({})
            assert len(read(source, 2)) == 2
            mock.kill()
            started = time.monotonic()
            with pytest.raises(StorageError) as caught:
                while time.monotonic() - started < 15:
                    source.poll(10, 0.3)
            assert time.monotonic() - started < 8
            assert caught.value.transient
            assert mock.bootstrap_servers in str(caught.value)
            assert "bootstrap_servers" in (caught.value.fix or "")
        finally:
            source.close()
            source.close()


def test_unreachable_servers_fail_only_after_the_grace(tmp_path: Path) -> None:
    servers = f"127.0.0.1:{free_port()}"
    cfg = KafkaSourceConfig(bootstrap_servers=servers, topics=["orders"])
    with KafkaSource(cfg, unreachable_grace_s=1.5) as source:
        source.open({})
        assert source.poll(10, 0.5) == []  # still within the grace: librdkafka retries
        with pytest.raises(StorageError, match=servers) as caught:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                source.poll(10, 0.5)
        assert caught.value.transient


def test_a_missing_topic_is_reported_and_the_other_topics_still_flow(
    kafka_mock: KafkaCluster, tmp_path: Path
) -> None:
    topic = new_topic(kafka_mock, 1)
    kafka_mock.produce(topic, [b"a", b"b", b"c"])
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    cfg = KafkaSourceConfig(  # the classic group protocol reports unknown topics
        bootstrap_servers=kafka_mock.bootstrap_servers, topics=[topic, missing]
    )
    errors: list[StorageError] = []
    records: list[StreamRecord] = []
    with cfg.open_source("orders", tmp_path) as source:
        source.open({})
        deadline = time.monotonic() + 20
        while len(records) < 3 and time.monotonic() < deadline:
            try:
                records += source.poll(10, 0.3)
            except StorageError as exc:
                errors.append(exc)
    assert [r.value for r in records] == [b"a", b"b", b"c"]
    assert errors and all(e.transient for e in errors)
    assert missing in str(errors[0]) and kafka_mock.bootstrap_servers in str(errors[0])


def test_bad_configuration_is_rejected_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(pydantic.ValidationError, match="group_id"):
        KafkaSourceConfig(bootstrap_servers="h:9092", topics=["t"], options={"group.id": "other"})
    with pytest.raises(pydantic.ValidationError, match="not a Kafka topic name"):
        KafkaSourceConfig(bootstrap_servers="h:9092", topics=["bad topic"])
    with pytest.raises(pydantic.ValidationError):
        KafkaSourceConfig(bootstrap_servers="h:9092", topics=[])
    with pytest.raises(pydantic.ValidationError, match="extra"):
        KafkaSourceConfig(bootstrap_servers="h:9092", topics=["t"], partitions=3)

    bad_option = KafkaSourceConfig(
        bootstrap_servers="h:9092", topics=["t"], options={"no.such.setting": 1}
    )
    with pytest.raises(ConfigError, match=r"no\.such\.setting") as caught:
        bad_option.open_source("s", tmp_path).open({})
    assert "options" in (caught.value.fix or "")

    source = KafkaSourceConfig(bootstrap_servers="h:9092", topics=["t"]).open_source("s", tmp_path)
    with pytest.raises(LakebedError, match="not open"):
        source.poll(10, 0.1)
    with pytest.raises(ConfigError, match="partition name"):
        source.open({"t-0": 5})
    with pytest.raises(ConfigError, match="not a Kafka offset"):
        source.open({"t/0": "abc"})
    source.close()
