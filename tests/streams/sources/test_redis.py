"""The Redis Streams source against a real redis-server."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pydantic
import pytest
import redis
from tests.servers.redis import free_port, redis_server, run_redis  # noqa: F401  (fixture)

from lakebed.errors import ConfigError, StorageError
from lakebed.streams.records import StreamRecord
from lakebed.streams.sources.base import StreamSource
from lakebed.streams.sources.redis import RedisSourceConfig


@pytest.fixture
def client(redis_server: str) -> Iterator[redis.Redis]:  # noqa: F811
    conn = redis.Redis.from_url(redis_server)
    yield conn
    conn.close()


@pytest.fixture
def key() -> str:
    return f"orders-{uuid.uuid4().hex[:10]}"


def source(url: str, streams: list[str], tmp_path: Path, **options: object) -> StreamSource:
    config = RedisSourceConfig(url=url, streams=streams, **options)  # type: ignore[arg-type,unused-ignore]
    return config.open_source("orders", tmp_path)


def drain(src: StreamSource, max_records: int = 100) -> list[StreamRecord]:
    records: list[StreamRecord] = []
    while batch := src.poll(max_records, 0.05):
        records.extend(batch)
    return records


def text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def add(client: redis.Redis, key: str, *values: bytes) -> list[str]:
    return [text(client.xadd(key, {"value": v})) for v in values]


def test_reads_from_the_start_with_key_id_and_timestamp(
    redis_server: str,  # noqa: F811
    client: redis.Redis,
    key: str,
    tmp_path: Path,
) -> None:
    first = text(client.xadd(key, {"value": b'{"n":1}', "key": b"user-1", "id": "req-1"}))
    add(client, key, b'{"n":2}')
    client.xadd(key, {"n": "3", "city": "Zürich"})
    with source(redis_server, [key], tmp_path) as src:
        src.open({})
        records = drain(src)
    assert [r.value for r in records] == [
        b'{"n":1}',
        b'{"n":2}',
        b'{"n":"3","city":"Z\\u00fcrich"}',
    ]
    head = records[0]
    assert (head.partition, head.position, head.key, head.record_id) == (
        key,
        first,
        b"user-1",
        "req-1",
    )
    assert head.timestamp_ms == int(first.split("-")[0])
    assert abs(head.timestamp_ms - time.time() * 1000) < 60_000
    assert records[1].key is None and records[1].record_id is None


def test_resume_after_a_position_and_start_latest(
    redis_server: str,  # noqa: F811
    client: redis.Redis,
    key: str,
    tmp_path: Path,
) -> None:
    ids = add(client, key, b"a", b"b", b"c", b"d")
    with source(redis_server, [key], tmp_path) as src:
        src.open({key: ids[1]})
        assert [r.value for r in drain(src)] == [b"c", b"d"]
    with source(redis_server, [key], tmp_path, start="latest") as src:
        src.open({})
        assert src.poll(10, 0.05) == []
        add(client, key, b"e")
        assert [r.value for r in src.poll(10, 1.0)] == [b"e"]
        # A committed position wins over start="latest".
        src.open({key: ids[0]})
        assert [r.value for r in drain(src)] == [b"b", b"c", b"d", b"e"]


def test_poll_blocks_until_a_record_arrives(
    redis_server: str,  # noqa: F811
    client: redis.Redis,
    key: str,
    tmp_path: Path,
) -> None:
    with source(redis_server, [key], tmp_path) as src:
        src.open({})
        started = time.monotonic()
        assert src.poll(10, 0.3) == []
        assert time.monotonic() - started >= 0.25
        timer = threading.Timer(0.2, lambda: add(client, key, b"late"))
        timer.start()
        try:
            started = time.monotonic()
            records = src.poll(10, 5.0)
        finally:
            timer.join()
        assert [r.value for r in records] == [b"late"]
        assert time.monotonic() - started < 3.0


def test_multiple_streams_are_partitions_and_max_records_holds(
    redis_server: str,  # noqa: F811
    client: redis.Redis,
    key: str,
    tmp_path: Path,
) -> None:
    other = key + "-b"
    add(client, key, *[b"a%d" % i for i in range(7)])
    add(client, other, *[b"b%d" % i for i in range(5)])
    with source(redis_server, [key, other], tmp_path) as src:
        src.open({})
        batches = []
        while batch := src.poll(4, 0.05):
            assert len(batch) <= 4
            batches.append(batch)
        records = [r for b in batches for r in b]
    assert {r.partition for r in records} == {key, other}
    for name, prefix, count in ((key, b"a", 7), (other, b"b", 5)):
        mine = [r for r in records if r.partition == name]
        assert [r.value for r in mine] == [prefix + b"%d" % i for i in range(count)]
        positions = [tuple(map(int, str(r.position).split("-"))) for r in mine]
        assert positions == sorted(positions)


def test_lag_counts_entries_not_yet_read(
    redis_server: str,  # noqa: F811
    client: redis.Redis,
    key: str,
    tmp_path: Path,
) -> None:
    ids = add(client, key, *[b"%d" % i for i in range(10)])
    with source(redis_server, [key, key + "-empty"], tmp_path) as src:
        src.open({})
        assert src.lag() == {key: 10, key + "-empty": 0}
        assert len(src.poll(4, 0.05)) == 4
        add(client, key, b"x", b"y")
        assert src.lag()[key] == 8
    with source(redis_server, [key], tmp_path) as src:
        src.open({key: ids[6]})  # resuming in the middle counts what is after it
        assert src.lag() == {key: 5}
        drain(src)
        assert src.lag() == {key: 0}


def test_acknowledge_moves_the_group_so_redis_tools_show_progress(
    redis_server: str,  # noqa: F811
    client: redis.Redis,
    key: str,
    tmp_path: Path,
) -> None:
    add(client, key, *[b"%d" % i for i in range(6)])
    with source(redis_server, [key], tmp_path, group="lakebed") as src:
        src.open({})
        records = src.poll(4, 0.05)
        src.acknowledge({key: records[2].position})
        (group,) = client.xinfo_groups(key)
        assert group["name"] == b"lakebed"
        assert group["last-delivered-id"].decode() == records[2].position
        assert (group["entries-read"], group["lag"]) == (3, 3)
        rest = drain(src)
        src.acknowledge({key: rest[-1].position})
        (group,) = client.xinfo_groups(key)
        assert (group["entries-read"], group["lag"]) == (6, 0)


def test_a_dead_server_is_a_transient_storage_error_naming_the_url(tmp_path: Path) -> None:
    url = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    with source(url, ["orders"], tmp_path) as src, pytest.raises(StorageError) as info:
        src.open({})
    assert info.value.transient
    assert f"127.0.0.1:{url.rsplit(':', 1)[1].split('/')[0]}" in str(info.value)
    assert "s3cret" not in str(info.value)
    assert info.value.fix and "redis-server" in info.value.fix


def test_a_server_that_goes_away_mid_stream(tmp_path: Path) -> None:
    with run_redis() as url:
        src = source(url, ["s"], tmp_path)
        src.open({})
        conn = redis.Redis.from_url(url)
        add(conn, "s", b"1")
        conn.close()
        assert len(src.poll(10, 0.1)) == 1
    with src, pytest.raises(StorageError) as info:
        src.poll(10, 0.1)
    assert info.value.transient and url.split("/0")[0].split("//")[1] in info.value.message


def test_bad_input_gets_clear_errors(
    redis_server: str,  # noqa: F811
    client: redis.Redis,
    key: str,
    tmp_path: Path,
) -> None:
    with pytest.raises(pydantic.ValidationError, match="topics"):
        RedisSourceConfig(url=redis_server, streams=[key], topics=["x"])  # type: ignore[call-arg,unused-ignore]
    with pytest.raises(pydantic.ValidationError, match="not a Redis URL"):
        RedisSourceConfig(url="localhost:6379", streams=[key])
    with pytest.raises(pydantic.ValidationError, match="stream keys"):
        RedisSourceConfig(url=redis_server, streams=[])
    with source(redis_server, [key], tmp_path) as src:
        with pytest.raises(ConfigError, match="not an entry id"):
            src.open({key: 17})
        client.set(key, "a string, not a stream")
        with pytest.raises(StorageError, match="WRONGTYPE") as info:
            src.open({})
        assert not info.value.transient
        assert info.value.fix and "TYPE" in info.value.fix
