"""``Streams``: stream definitions in the catalog, state folders, and streams run in the
background (started, watched and stopped like a user would)."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import lakebed
from lakebed import Lake
from lakebed.errors import AlreadyExistsError, ConfigError, NotFoundError
from lakebed.streams.config import StreamConfig, stream_config
from lakebed.streams.manager import Streams


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    lake = lakebed.open(tmp_path / "lake", env={})
    yield lake
    lake.catalog.close()


@pytest.fixture
def streams(lake: Lake) -> Streams:
    return Streams(lake)


def test_create_get_list_update_drop(lake: Lake, streams: Streams) -> None:
    created = streams.create(
        "orders",
        source={"type": "http", "dedupe_window_s": 60},
        into="shop.orders",
        buffer_size_bytes="8MB",
        buffer_interval_s=30,
        partition_by=["day(ts)"],
    )
    assert created.buffer_size_bytes == 8 << 20
    again = Streams(lakebed.open(lake.config.root, env={}))  # another process's view
    got = again.get("orders")
    assert got == created and got.source.dedupe_window_s == 60  # type: ignore[attr-defined]
    assert got.errors_ident == "shop._stream_errors"
    streams.create("clicks", source={"type": "http"}, into="web.clicks")
    assert [s.name for s in streams.list()] == ["clicks", "orders"]
    updated = streams.update("orders", buffer_interval_s=5)
    assert updated.buffer_interval_s == 5 and streams.get("orders").buffer_interval_s == 5
    assert streams.get("orders").partition_by == ["day(ts)"]
    with pytest.raises(AlreadyExistsError, match="stream 'orders' already exists"):
        streams.create("orders", source={"type": "http"}, into="shop.orders")
    streams.state_dir("orders").mkdir(parents=True)
    streams.drop("orders")
    assert not streams.state_dir("orders").exists()
    with pytest.raises(NotFoundError, match="did you mean 'clicks'"):
        streams.get("clickz")


def test_state_dir_is_hidden_in_a_local_lake_and_per_lake_for_object_stores(
    lake: Lake, streams: Streams, tmp_path: Path
) -> None:
    folder = streams.state_dir("orders")
    assert folder == lake.config.local_root / ".lakebed-state" / "streams" / "orders"
    folder.mkdir(parents=True)
    (folder / "x").write_text("state")
    assert lake.ls("") == []  # the object store does not list it
    remote = Streams(lakebed.open("s3://bucket/a", env={}, catalog=f"sqlite:///{tmp_path}/c.db"))
    other = Streams(lakebed.open("s3://bucket/b", env={}, catalog=f"sqlite:///{tmp_path}/c.db"))
    assert remote.state_dir("s") != other.state_dir("s")
    assert remote.state_dir("s").parts[-4:-2] == ("state", remote.state_dir("s").parts[-3])
    assert Path.home() / ".lakebed" / "state" in remote.state_dir("s").parents


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"buffer_size_bytes": 512}, "buffer_size_bytes: must be 1 MiB to 128 MiB"),
        ({"buffer_size_bytes": "200MB"}, "buffer_size_bytes: must be 1 MiB to 128 MiB"),
        ({"buffer_interval_s": 901}, "buffer_interval_s: must be 0 to 900 seconds"),
        ({"buffer_interval_s": -1}, "buffer_interval_s: must be 0 to 900 seconds"),
        ({"partition_by": ["dayz(ts)"]}, "invalid partition spec 'dayz\\(ts\\)'"),
        ({"format": "xml"}, "format: Input should be 'json', 'avro' or 'protobuf'"),
        ({"bufer_size_bytes": 5}, "bufer_size_bytes: Extra inputs are not permitted"),
        ({"format": "protobuf"}, "needs schema_subject or schema plus message"),
        ({"table_schema": {"id": "integer-ish"}}, "column 'id' has unknown type"),
        ({"into": "no_dot"}, "expected 'database.table'"),
        ({"name": "bad name!"}, "invalid stream name 'bad name!'"),
        ({"source": {"type": "ftp"}}, "unknown stream source type 'ftp'"),
        ({"source": {"type": "http", "dedupe": 1}}, "invalid http stream source"),
        ({"source": {"dedupe_window_s": 1}}, "has no type"),
    ],
)
def test_bad_options_say_what_is_wrong(options: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "name": "s",
        "source": {"type": "http"},
        "into": "db.t",
        **options,
    }
    name = str(values.pop("name"))
    with pytest.raises(ConfigError, match=message):
        stream_config(name, **values)  # type: ignore[arg-type]


def test_config_round_trips_through_json() -> None:
    config = stream_config(
        "s",
        source={"type": "http"},
        into="db.t",
        schema='{"type": "record", "name": "r", "fields": []}',
        format="avro",
        windows={
            "kind": "tumbling",
            "size_s": 60,
            "time_field": "ts",
            "aggregations": {"n": "count(*)"},
        },
    )
    data = json.loads(json.dumps(config.to_dict()))
    assert data["schema"].startswith('{"type"') and data["windows"]["size_s"] == 60
    assert StreamConfig.model_validate(data) == config


def _wait(check: object, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.timeout(180)
def test_start_status_stop_a_background_stream(lake: Lake, streams: Streams) -> None:
    streams.create("orders", source={"type": "http"}, into="shop.orders", buffer_interval_s=0.1)
    assert streams.status("orders").state == "not started"
    with streams.producer("orders") as producer:
        producer.put_batch([{"id": 1, "sku": "a"}, b"{broken", {"id": 2, "sku": "b"}])
        started = streams.start("orders")
        try:
            assert started.running and started.pid
            with pytest.raises(ConfigError, match="already running"):
                streams.start("orders")
            with pytest.raises(ConfigError, match="stop it first"):
                streams.drop("orders")
            _wait(lambda: streams.status("orders").records_out == 2)
            producer.put({"id": 3, "sku": "c"})
            _wait(lambda: streams.status("orders").records_out == 3)
            status = streams.status("orders")
            assert status.running and status.state == "running" and status.pid == started.pid
            assert status.records_in == 4 and status.errored_by_kind == {"parse": 1}
            assert status.positions == {"http": 4}  # WAL sequence numbers start at 1
            assert status.lag.get("http", 0) == 0
            assert status.last_commit is not None and status.latency_p99_ms is not None
        finally:
            stopped = streams.stop("orders")
    assert not stopped.running and stopped.state == "stopped"
    ids = lake.sql("SELECT id FROM shop.orders ORDER BY id").column("id").to_pylist()
    assert ids == [1, 2, 3]
    streams.drop("orders")
    assert streams.names() == []


def test_a_killed_stream_shows_as_not_running(lake: Lake, streams: Streams) -> None:
    streams.create("s", source={"type": "http"}, into="db.t", buffer_interval_s=0.1)
    started = streams.start("s")
    assert started.pid is not None
    _wait(lambda: streams.status("s").state == "running")
    os.kill(started.pid, signal.SIGKILL)
    _wait(lambda: not streams.status("s").running)
    assert streams.status("s").state.startswith("not running (it died while running")
