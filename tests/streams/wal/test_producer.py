"""The Python producer: into an HTTP stream's write-ahead log directly (no server), and into a
Kafka stream's first topic (a librdkafka mock cluster in its own process)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from tests.servers.kafka import run_mock_cluster

from lakebed.errors import ConfigError, StorageError
from lakebed.streams.producer import Producer
from lakebed.streams.records import RecordError
from lakebed.streams.wal import HttpSourceConfig, WalSource


def test_http_stream_producer_appends_durably_and_dedupes(tmp_path: Path) -> None:
    config = SimpleNamespace(source=HttpSourceConfig(max_record_bytes=100))
    with Producer(config, tmp_path / "wal") as producer:
        assert producer.put(b"\x01raw") == 1
        assert producer.put("text é") == 2
        assert producer.put({"user": 7, "tags": ["a"]}, record_id="u7") == 3
        assert producer.put({"user": 7, "tags": ["a"]}, record_id="u7") == 3
        results = producer.put_batch([{"n": 1}, b"x" * 101, "last"], record_ids=["n1", None, None])
        assert results[0] == 4 and results[2] == 5
        assert isinstance(results[1], RecordError) and results[1].kind == "oversize"
        with pytest.raises(ConfigError, match="larger than the stream's max_record_bytes"):
            producer.put(b"y" * 500)
        with pytest.raises(ConfigError, match="a set; a record is bytes, str or dict"):
            producer.put({1, 2})  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match="record 1 cannot be written as JSON"):
            producer.put_batch([{"ok": 1}, {"bad": object()}])
    with WalSource(tmp_path / "wal") as source:
        source.open({})
        values = [r.value for r in source.poll(100, 0.1)]
    assert values == [
        b"\x01raw",
        "text é".encode(),
        b'{"user":7,"tags":["a"]}',
        b'{"n":1}',
        b"last",
    ]


def test_producer_refuses_sources_it_cannot_write(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="redis source"):
        Producer(SimpleNamespace(source=SimpleNamespace(type="redis")), tmp_path)


def test_kafka_stream_producer_writes_to_the_first_topic(tmp_path: Path) -> None:
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    from lakebed.streams.sources.kafka import KafkaSourceConfig

    with run_mock_cluster(1) as mock:
        mock.create_topic("orders", 2)
        mock.create_topic("other", 1)
        source = KafkaSourceConfig(
            bootstrap_servers=mock.bootstrap_servers,
            topics=["orders", "other"],
            options={"session.timeout.ms": 30000},  # a consumer option: not for producing
        )
        with Producer(SimpleNamespace(source=source), tmp_path / "wal") as producer:
            where = producer.put({"order": 1}, record_id="o-1")
            assert isinstance(where, str) and where.startswith("orders/")
            more = producer.put_batch([b"two", "three"])
            assert all(isinstance(w, str) and w.startswith("orders/") for w in more)
        consumer = Consumer(
            {
                "bootstrap.servers": mock.bootstrap_servers,
                "group.id": "check",
                "auto.offset.reset": "earliest",
            }
        )
        try:
            consumer.assign([TopicPartition("orders", p, OFFSET_BEGINNING) for p in (0, 1)])
            got: dict[bytes, bytes | None] = {}
            for _ in range(100):
                msg = consumer.poll(0.2)
                if msg is not None and msg.error() is None:
                    got[msg.value()] = msg.key()
                if len(got) == 3:
                    break
        finally:
            consumer.close()
        assert got == {b'{"order":1}': b"o-1", b"two": None, b"three": None}
        assert not (tmp_path / "wal").exists()


def test_kafka_producer_says_when_the_broker_is_down(tmp_path: Path) -> None:
    from lakebed.streams.sources.kafka import KafkaSourceConfig

    source = KafkaSourceConfig(bootstrap_servers="127.0.0.1:9", topics=["t"])
    producer = Producer(SimpleNamespace(source=source), tmp_path, flush_timeout_s=1)
    with producer, pytest.raises(StorageError) as caught:
        producer.put(b"x")
    assert "127.0.0.1:9" in caught.value.message and caught.value.transient
