"""``lakebed stream ...`` in process: create from flags and YAML, list, start, status, stop,
drop, as a user types them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import lakebed
import lakebed.cli.stream
from lakebed.streams.manager import Streams

Run = Callable[..., tuple[int, str, str]]


def test_create_from_flags_and_yaml_then_list_and_drop(cli: Run, tmp_path: Path) -> None:
    code, out, err = cli(
        "stream", "create", "orders", "--into", "shop.orders",
        "--source", "type=kafka", "--source", "bootstrap_servers=localhost:9092",
        "--source", "topics=orders,refunds",
        "--buffer-size", "16MB", "--buffer-interval", "60",
        "--partition-by", "day(ts)", "--column", "ts=timestamptz", "--column", "id=long",
    )  # fmt: skip
    assert code == 0, err
    assert "stream orders created: kafka → shop.orders" in out
    config = tmp_path / "clicks.yaml"
    config.write_text(
        "into: web.clicks\n"
        "source: {type: http, dedupe_window_s: 60}\n"
        "buffer_interval_s: 5\n"
        "windows:\n"
        "  kind: tumbling\n  size_s: 60\n  time_field: ts\n  keys: [page]\n"
        "  aggregations: {views: count(*)}\n"
    )
    code, out, err = cli(
        "stream", "create", "clicks", "--config", str(config), "--buffer-interval", "2"
    )
    assert code == 0, err
    code, out, _ = cli("--json", "stream", "list")
    rows = json.loads(out)
    assert [(r["name"], r["source"], r["into"], r["running"]) for r in rows] == [
        ("clicks", "http", "web.clicks", False),
        ("orders", "kafka", "shop.orders", False),
    ]
    streams = Streams(lakebed.open(tmp_path / "lake", env={}))
    orders = streams.get("orders")
    assert orders.source.topics == ["orders", "refunds"]  # type: ignore[attr-defined]
    assert orders.buffer_size_bytes == 16 << 20 and orders.partition_by == ["day(ts)"]
    clicks = streams.get("clicks")
    assert clicks.buffer_interval_s == 2  # the flag wins over the file
    assert clicks.windows is not None
    code, out, _ = cli("stream", "drop", "orders")
    assert code == 0 and "dropped" in out
    code, _, err = cli("stream", "status", "orders")
    assert code == 1 and "stream 'orders' does not exist" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--buffer-interval", "1000"], "buffer_interval_s: must be 0 to 900 seconds"),
        (["--buffer-size", "1KB"], "buffer_size_bytes: must be 1 MiB to 128 MiB"),
        (["--format", "csv"], "Input should be 'json', 'avro' or 'protobuf'"),
    ],
)
def test_bad_flags_are_explained(cli: Run, args: list[str], message: str) -> None:
    code, _, err = cli("stream", "create", "s", "--into", "db.t", "--source", "type=http", *args)
    assert code == 1
    shown = " ".join(err.split())  # as a person reads it, however the terminal wrapped it
    assert message in shown and "fix:" in shown


def test_missing_source_type_is_explained(cli: Run) -> None:
    code, _, err = cli("stream", "create", "s", "--into", "db.t")
    shown = " ".join(err.split())
    assert code == 1 and "has no type" in shown and "--source type=http" in shown


@pytest.mark.timeout(180)
def test_start_status_stop_in_the_background(cli: Run, tmp_path: Path) -> None:
    code, _, err = cli(
        "stream", "create", "orders", "--into", "shop.orders", "--source", "type=http",
        "--buffer-interval", "0.1",
    )  # fmt: skip
    assert code == 0, err
    streams = Streams(lakebed.open(tmp_path / "lake", env={}))
    with streams.producer("orders") as producer:
        producer.put_batch([{"id": 1}, b"nope", {"id": 2}])
    code, out, err = cli("stream", "start", "orders")
    assert code == 0 and "stream orders running (pid" in out, err
    try:
        deadline = time.monotonic() + 60
        while streams.status("orders").records_out < 2:
            assert time.monotonic() < deadline, streams.status("orders")
            time.sleep(0.05)
        code, out, _ = cli("stream", "status", "orders")
        assert code == 0
        for shown in ("records in", "records out", "records errored", "1 (parse 1)", "lag"):
            assert shown in out
        assert "p50" in out and "p99" in out and "snapshot" in out
        code, out, _ = cli("--json", "stream", "status", "orders")
        status = json.loads(out)
        assert status["running"] and status["records_out"] == 2
        assert status["positions"] == {"http": 3}
    finally:
        code, out, _ = cli("stream", "stop", "orders")
    assert code == 0 and "stopped" in out
    code, out, _ = cli("--json", "stream", "status", "orders")
    assert json.loads(out)["running"] is False
