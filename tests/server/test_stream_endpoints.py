"""HTTP put endpoints of delivery streams, in process: PutRecord and PutRecordBatch answer only
after the records are in the stream's write-ahead log, record ids dedupe retries, bad input gets
400/404/409/413 naming the record, and a full disk 507."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

import lakebed
from lakebed.server import create_app
from lakebed.streams.manager import Streams
from lakebed.streams.wal import WalSource


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def streams(tmp_path: Path) -> Streams:
    lake = lakebed.open(tmp_path / "lake", env={})
    streams = Streams(lake)
    streams.create("clicks", source={"type": "http", "max_record_bytes": 1000}, into="web.clicks")
    streams.create(
        "orders",
        source={"type": "kafka", "bootstrap_servers": "127.0.0.1:9", "topics": ["orders"]},
        into="web.orders",
    )
    return streams


@pytest.fixture
def client(streams: Streams) -> Iterator[TestClient]:
    app = create_app(streams.lake)
    with TestClient(app) as client:
        yield client


def stored(streams: Streams, name: str = "clicks") -> list[tuple[int, bytes, str | None]]:
    with WalSource(streams.state_dir(name) / "wal") as source:
        source.open({})
        return [(int(r.position), r.value, r.record_id) for r in source.poll(10_000, 0.05)]


def test_put_record_in_every_body_shape(client: TestClient, streams: Streams) -> None:
    first = client.post("/streams/clicks/records", json={"Data": b64(b'{"page": "/"}')})
    assert first.status_code == 200
    assert first.json() == {"RecordId": "1", "SequenceNumber": 1}
    firehose = client.post(
        "/streams/clicks/records",
        json={"DeliveryStreamName": "clicks", "Record": {"Data": b64(b"raw\x00bytes")}},
    )
    assert firehose.json()["SequenceNumber"] == 2
    as_json = client.post(
        "/streams/clicks/records", json={"json": {"page": "/cart", "n": 2}, "RecordId": "c-3"}
    )
    assert as_json.json() == {"RecordId": "c-3", "SequenceNumber": 3}
    # A retry with the same id is acknowledged again, not stored twice.
    retry = client.post(
        "/streams/clicks/records", json={"json": {"page": "/cart", "n": 2}, "RecordId": "c-3"}
    )
    assert retry.json() == {"RecordId": "c-3", "SequenceNumber": 3}
    assert stored(streams) == [
        (1, b'{"page": "/"}', None),
        (2, b"raw\x00bytes", None),
        (3, b'{"page":"/cart","n":2}', "c-3"),
    ]


def test_put_record_batch_with_per_record_results(client: TestClient, streams: Streams) -> None:
    records: list[dict[str, Any]] = [
        {"Data": b64(b"one"), "RecordId": "a"},
        {"json": {"two": 2}},
        {"Data": b64(b"x" * 1001)},  # larger than the stream's max_record_bytes
        {"Record": {"Data": b64(b"four")}, "RecordId": "a"},  # same id as the first
    ]
    body = client.post("/streams/clicks/records:batch", json={"Records": records}).json()
    assert body["FailedPutCount"] == 1
    responses = body["RequestResponses"]
    assert responses[0] == {"RecordId": "a", "SequenceNumber": 1}
    assert responses[1] == {"RecordId": "2", "SequenceNumber": 2}
    assert responses[2]["ErrorCode"] == "RecordTooLarge"
    assert "1001 bytes" in responses[2]["ErrorMessage"]
    assert responses[3] == {"RecordId": "a", "SequenceNumber": 1}
    assert [v for _, v, _ in stored(streams)] == [b"one", b'{"two":2}']


def test_ndjson_batch(client: TestClient, streams: Streams) -> None:
    lines = b'{"a": 1}\n\n{"a": 2}\r\n{"a": 3}'
    answer = client.post(
        "/streams/clicks/records:batch",
        content=lines,
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert answer.json()["FailedPutCount"] == 0
    assert [r["SequenceNumber"] for r in answer.json()["RequestResponses"]] == [1, 2, 3]
    assert [v for _, v, _ in stored(streams)] == [b'{"a": 1}', b'{"a": 2}', b'{"a": 3}']
    bad = client.post(
        "/streams/clicks/records:batch",
        content=b'{"a": 1}\n{"a": \n',
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert bad.status_code == 400 and "record 1 (line 2)" in bad.json()["message"]


@pytest.mark.parametrize(
    ("path", "payload", "status", "says"),
    [
        ("/streams/nope/records", {"Data": b64(b"x")}, 404, "stream 'nope' does not exist"),
        ("/streams/orders/records", {"Data": b64(b"x")}, 409, "stream 'orders' reads from a kafka"),
        ("/streams/clicks/records", {"Data": "not base64!"}, 400, "Data is not valid base64"),
        ("/streams/clicks/records", {"json": [1]}, 400, "json must be an object"),
        ("/streams/clicks/records", {"Data": b64(b"x"), "Extra": 1}, 400, "unknown keys"),
        ("/streams/clicks/records", {"RecordId": "x"}, 400, "exactly one of Data"),
        ("/streams/clicks/records", {"Data": b64(b"y" * 2000)}, 413, "2000 bytes"),
        (
            "/streams/clicks/records:batch",
            {"Records": [{"Data": b64(b"ok")}, {"Data": "%%%"}]},
            400,
            "record 1: Data is not valid base64",
        ),
        (
            "/streams/clicks/records:batch",
            {"Records": [{"json": {}}] * 501},
            413,
            "501 records, more than 500",
        ),
        (
            "/streams/clicks/records:batch",
            {"Records": [{"Data": b64(b"z" * 1000)}] * 7000},  # a 9 MB body
            413,
            "larger than",
        ),
        ("/streams/clicks/records:batch", {"Records": []}, 400, "no records"),
        ("/streams/clicks/records:batch", [1, 2], 400, '"Records" list'),
    ],
)
def test_bad_requests(
    client: TestClient, streams: Streams, path: str, payload: Any, status: int, says: str
) -> None:
    answer = client.post(path, json=payload)
    assert answer.status_code == status, answer.text
    assert says in answer.json()["message"]
    assert answer.json()["fix"]
    if "clicks" in path:
        assert stored(streams) == []  # nothing of a refused request is kept


def test_batch_over_4_mib_is_refused(client: TestClient) -> None:
    records = [{"Data": b64(b"q" * 1000)}] * 500  # fine: 500 kB
    assert (
        client.post("/streams/clicks/records:batch", json={"Records": records}).status_code == 200
    )
    big = "\n".join(json.dumps({"v": "w" * 9000}) for _ in range(480)).encode()
    answer = client.post(
        "/streams/clicks/records:batch",
        content=big,
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 413 and "4 MiB" in answer.json()["message"]


def test_not_json_body(client: TestClient) -> None:
    answer = client.post("/streams/clicks/records", content=b"{nope")
    assert answer.status_code == 400 and "not valid JSON" in answer.json()["message"]


def test_the_log_stays_open_while_the_app_runs_and_closes_at_shutdown(streams: Streams) -> None:
    from lakebed.errors import StorageError
    from lakebed.streams.wal import WriteAheadLog

    app = create_app(streams.lake)
    wal_dir = streams.state_dir("clicks") / "wal"
    with TestClient(app) as client:
        assert client.post("/streams/clicks/records", json={"json": {"a": 1}}).status_code == 200
        with pytest.raises(StorageError, match=f"process {os.getpid()}"):
            WriteAheadLog(wal_dir)  # the app holds the writer lock
        assert client.post("/streams/clicks/records", json={"json": {"a": 2}}).status_code == 200
    with WriteAheadLog(wal_dir) as wal:  # released at shutdown
        assert wal.last_sequence == 2


def test_full_disk_is_507(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)]).returncode:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        lake = lakebed.open(tmp_path / "lake", env={})
        streams = Streams(lake)
        streams.create("clicks", source={"type": "http"}, into="web.clicks")
        # The app's stream routes find the write-ahead log through lake.streams: point it at
        # the tiny disk.
        lake.__dict__["streams"] = SimpleNamespace(
            get=streams.get, state_dir=lambda name: disk / "streams" / name
        )
        app = create_app(lake)
        records = [{"Data": b64(os.urandom(900))}] * 200
        with TestClient(app) as client:
            answers = [
                client.post("/streams/clicks/records:batch", json={"Records": records})
                for _ in range(5)
            ]
        assert [a.status_code for a in answers][:2] == [200, 200]
        full = answers[-1]
        assert full.status_code == 507
        assert "is full" in full.json()["message"] and str(disk) in full.json()["message"]
        assert "free disk space" in full.json()["fix"]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def test_a_dropped_stream_is_404_and_a_new_one_of_that_name_gets_a_new_log(
    client: TestClient, streams: Streams
) -> None:
    assert client.post("/streams/clicks/records", json={"json": {"old": 1}}).status_code == 200
    streams.drop("clicks")
    gone = client.post("/streams/clicks/records", json={"json": {"old": 2}})
    assert gone.status_code == 404
    streams.create("clicks", source={"type": "http"}, into="web.clicks")
    assert client.post("/streams/clicks/records", json={"json": {"new": 1}}).json() == {
        "RecordId": "1",
        "SequenceNumber": 1,
    }
    streams.drop("clicks")  # while the app holds the log: the next put reopens it
    streams.create("clicks", source={"type": "http"}, into="web.clicks")
    assert client.post("/streams/clicks/records", json={"json": {"newer": 1}}).status_code == 200
    assert [v for _, v, _ in stored(streams)] == [b'{"newer":1}']
