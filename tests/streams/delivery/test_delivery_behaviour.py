"""Buffering hints, dynamic partitioning, a dead source, a failing commit, a graceful stop and
windowed delivery."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from tests.streams.delivery.conftest import records, run_until
from tests.streams.delivery.filelog import acks, append

from lakebed import Lake
from lakebed.catalog import Table
from lakebed.errors import ConfigError
from lakebed.streams.manager import Streams
from lakebed.streams.offsets import committed_positions


def _wait(check: Callable[[], bool], what: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _count(lake: Lake, table: str = "db.t") -> int:
    if not lake.catalog.table_exists(table):
        return 0
    return int(lake.sql(f"SELECT count(*) AS n FROM {table}").column("n")[0].as_py())


def test_interval_hint_delivers_after_the_interval(
    lake: Lake, streams: Streams, logdir: Path, make_stream: Callable[..., str]
) -> None:
    append(logdir, "p0", records({"id": 1}))
    make_stream("s1", buffer_interval_s=0.8)
    began = time.monotonic()
    status = run_until(streams, "s1", lambda s: s.records_out >= 1)
    took = time.monotonic() - began
    assert 0.8 <= took < 5
    assert status.latency_p50_ms is not None and status.latency_p50_ms >= 800


def test_size_hint_delivers_before_the_interval(
    lake: Lake, streams: Streams, logdir: Path, make_stream: Callable[..., str]
) -> None:
    payload = "x" * 2000
    append(logdir, "p0", records(*({"id": i, "pad": payload} for i in range(600))))  # ~1.2 MB
    make_stream("s1", buffer_interval_s=900, buffer_size_bytes="1MB")
    run_until(streams, "s1", lambda s: s.records_out > 0)
    # a delivery at the size hint, well before 900 s, holding about 1 MiB of records; the
    # rest goes in when the stream stops
    table = lake.table("db.t")
    assert isinstance(table, Table)
    added = [s.added_rows for s in table.snapshots() if s.added_rows]
    assert len(added) == 2 and 500 <= added[0] <= 530 and sum(added) == 600


def test_graceful_stop_delivers_the_buffer(
    lake: Lake, streams: Streams, logdir: Path, make_stream: Callable[..., str]
) -> None:
    append(logdir, "p0", records(*({"id": i} for i in range(20))))
    make_stream("s1", buffer_interval_s=900)
    stop = threading.Event()
    thread = threading.Thread(target=lambda: streams.run("s1", stop=stop))
    thread.start()
    _wait(lambda: streams.status("s1").records_in >= 20, "records read")
    assert _count(lake) == 0  # buffered, not yet due
    stop.set()
    thread.join(30)
    assert _count(lake) == 20
    assert streams.status("s1").state == "stopped"


def test_dynamic_partitioning_by_transforms_and_nested_fields(
    lake: Lake, streams: Streams, logdir: Path, make_stream: Callable[..., str]
) -> None:
    rows = [
        {"id": 1, "ts": "2026-11-22T10:00:00Z", "user": {"country": "DE"}, "code": "ABCD"},
        {"id": 2, "ts": "2026-11-23T11:00:00Z", "user": {"country": "FR"}, "code": "ABXY"},
        {"id": 3, "ts": "2026-11-23T12:00:00Z", "user": {"country": None}, "code": "QQQ"},
    ]
    append(logdir, "p0", records(*rows))
    lake.create_table(
        "db.t",
        schema=pa.schema(
            [
                ("id", pa.int64()),
                ("ts", pa.timestamp("us", tz="UTC")),
                ("user", pa.struct([("country", pa.string())])),
                ("code", pa.string()),
            ]
        ),
        partition_by=["day(ts)", "user.country", "bucket(4, id)", "truncate(2, code)"],
    )
    make_stream(
        "s1", partition_by=["day(ts)", "user.country", "bucket(4, id)", "truncate(2, code)"]
    )
    status = run_until(streams, "s1", lambda s: s.records_in >= 3 and s.buffered_records == 0)
    assert status.records_out == 2 and status.errored_by_kind == {"partition": 1}
    table = lake.table("db.t")
    assert isinstance(table, Table)
    files = table.plan_files().files
    assert any("ts_day=2026-11-22/" in f and "country=DE" in f for f in files)
    assert len(files) == 2
    reason = lake.sql("SELECT reason FROM db._stream_errors").column(0)[0].as_py()
    assert "user.country" in reason
    pruned = table.plan_files(filter="ts >= '2026-11-23T00:00:00+00:00'").files
    assert len(pruned) == 1


def test_a_new_table_gets_the_streams_partitioning(
    lake: Lake, streams: Streams, logdir: Path, make_stream: Callable[..., str]
) -> None:
    append(logdir, "p0", records({"id": 1, "ts": "2026-11-22T10:00:00Z", "region": "eu"}))
    make_stream(
        "s1",
        partition_by=["hour(ts)", "region"],
        table_schema={"id": "long", "ts": "timestamptz", "region": "string"},
    )
    run_until(streams, "s1", lambda s: s.records_out >= 1)
    table = lake.table("db.t")
    assert isinstance(table, Table)
    assert table.partition_by == ["hour(ts)", "region"]
    assert "ts_hour=2026-11-22-10/region=eu/" in table.plan_files().files[0]


def test_partitioning_must_match_an_existing_table(
    lake: Lake, streams: Streams, logdir: Path, make_stream: Callable[..., str]
) -> None:
    lake.create_table("db.t", schema=pa.schema([("id", pa.int64()), ("k", pa.string())]))
    make_stream("s1", partition_by=["k"])
    with pytest.raises(ConfigError, match=r"differs from table db\.t's partitioning"):
        streams.run("s1", until=lambda s: True)


def test_unreachable_source_is_retried_and_reported(
    lake: Lake,
    streams: Streams,
    logdir: Path,
    tmp_path: Path,
    make_stream: Callable[..., str],
    in_thread: Callable[[str], threading.Event],
) -> None:
    flag = tmp_path / "down"
    append(logdir, "p0", records({"id": 1}))
    make_stream("s1", down_flag=str(flag))
    stop = in_thread("s1")
    _wait(lambda: _count(lake) == 1, "first delivery")
    flag.touch()  # the source goes away
    append(logdir, "p0", records({"id": 2}))
    _wait(lambda: streams.status("s1").state.startswith("source unreachable"), "status")
    status = Streams(lake).status("s1")  # as another process sees it
    assert status.running and "is down" in status.state
    flag.unlink()  # ... and comes back: the loop kept running
    _wait(lambda: _count(lake) == 2, "delivery after the source came back")
    assert streams.status("s1").state == "running"
    stop.set()


def test_failing_commits_are_retried_and_nothing_is_acknowledged_before(
    lake: Lake,
    streams: Streams,
    logdir: Path,
    make_stream: Callable[..., str],
    in_thread: Callable[[str], threading.Event],
) -> None:
    append(logdir, "p0", records({"id": 1}))
    make_stream("s1")
    stop = in_thread("s1")
    _wait(lambda: _count(lake) == 1, "first delivery")
    acked = len(acks(logdir))
    table = lake.table("db.t")
    assert isinstance(table, Table)
    data = Path(table.location.removeprefix("file://")) / "data"
    data.rename(data.with_name("moved"))
    data.write_text("a file where the data folder was: data files cannot be written")
    append(logdir, "p0", records({"id": 2}))
    _wait(lambda: streams.status("s1").state.startswith("commit failing"), "failing commit")
    time.sleep(0.5)
    assert len(acks(logdir)) == acked  # nothing acknowledged while the commit fails
    data.unlink()
    data.with_name("moved").rename(data)
    _wait(lambda: len(acks(logdir)) > acked, "retried delivery")
    assert sorted(lake.sql("SELECT id FROM db.t").column("id").to_pylist()) == [1, 2]
    assert committed_positions(table, "s1") == {"p0": 1}
    assert streams.status("s1").state == "running"
    stop.set()


def test_a_dropped_target_table_is_created_again(
    lake: Lake,
    streams: Streams,
    logdir: Path,
    make_stream: Callable[..., str],
    in_thread: Callable[[str], threading.Event],
) -> None:
    append(logdir, "p0", records({"id": 1}))
    make_stream("s1")
    stop = in_thread("s1")
    _wait(lambda: _count(lake) == 1, "first delivery")
    lake.catalog.drop_table("db.t")
    append(logdir, "p0", records({"id": 2}))
    _wait(lambda: _count(lake) == 1 and len(acks(logdir)) == 2, "delivery into a new table")
    assert lake.sql("SELECT id FROM db.t").column("id").to_pylist() == [2]
    stop.set()


def test_windowed_stream_delivers_aggregates_and_keeps_state_across_restarts(
    lake: Lake, streams: Streams, logdir: Path, make_stream: Callable[..., str]
) -> None:
    def click(second: int, page: str) -> dict[str, object]:
        return {"ts": f"2026-11-23T10:00:{second:02d}Z", "page": page, "ms": second}

    windows = {
        "kind": "tumbling",
        "size_s": 10,
        "time_field": "ts",
        "keys": ["page"],
        "aggregations": {"n": "count(*)", "total": "sum(ms)"},
    }
    append(logdir, "p0", records(click(1, "a"), click(2, "a"), click(3, "b"), click(12, "a")))
    make_stream("w", windows=windows, into="db.clicks")
    # the window [0, 10) closes when event time 12 arrives; [10, 20) stays open
    run_until(streams, "w", lambda s: s.records_out >= 2)
    got = lake.sql("SELECT page, n, total FROM db.clicks ORDER BY page").to_pylist()
    assert got == [{"page": "a", "n": 2, "total": 3}, {"page": "b", "n": 1, "total": 3}]
    # restart: the open window [10, 20) comes back from the committed state; a late record
    # (for the closed window) goes to the error output
    append(logdir, "p0", records(click(15, "a"), click(4, "a"), click(25, "a")))
    run_until(streams, "w", lambda s: s.records_out >= 3)
    got = lake.sql(
        "SELECT page, n, total FROM db.clicks WHERE window_start = '2026-11-23T10:00:10Z'"
    ).to_pylist()
    assert got == [{"page": "a", "n": 2, "total": 27}]
    late = lake.sql("SELECT kind, raw FROM db._stream_errors").to_pylist()
    assert late == [{"kind": "late", "raw": json.dumps(click(4, "a")).encode()}]
