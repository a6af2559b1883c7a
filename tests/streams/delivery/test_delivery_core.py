"""Delivery end to end over a file-backed source: rows land once, failures land once in the
error output with their raw bytes, positions commit with the rows, acks follow commits."""

from __future__ import annotations

import json
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
from lakebed.streams.buffer import FailedRecord
from lakebed.streams.errors_output import ErrorOutput
from lakebed.streams.manager import Streams
from lakebed.streams.offsets import committed_positions
from lakebed.streams.records import RecordError, StreamRecord


def _ids(lake: Lake, table: str = "db.t") -> list[int]:
    return sorted(lake.sql(f"SELECT id FROM {table}").column("id").to_pylist())


def _table(lake: Lake, ident: str = "db.t") -> Table:
    table = lake.table(ident)
    assert isinstance(table, Table)
    return table


def test_rows_land_once_across_restarts_and_positions_commit_with_them(
    lake: Lake, streams: Streams, logdir: Path, make_stream: Callable[..., str]
) -> None:
    append(logdir, "p0", records(*({"id": i, "name": f"n{i}"} for i in range(50))))
    append(logdir, "p1", records(*({"id": 1000 + i, "name": "x"} for i in range(30))))
    make_stream("s1")
    status = run_until(streams, "s1", lambda s: s.records_out >= 80)
    assert status.records_in == 80 and status.records_errored == 0
    assert _ids(lake) == [*range(50), *range(1000, 1030)]
    table = _table(lake)
    assert committed_positions(table, "s1") == {"p0": 49, "p1": 29}
    summary = table.current_snapshot().summary  # type: ignore[union-attr]
    assert json.loads(summary["lakebed.stream.s1.positions"]) == {"p0": 49, "p1": 29}
    # every acknowledgement names positions a commit already holds
    assert acks(logdir) and all(a["p0"] <= 49 for a in acks(logdir) if "p0" in a)
    # a restart resumes after the committed positions: new records only, nothing twice
    append(logdir, "p0", records(*({"id": i, "name": "later"} for i in range(50, 60))))
    status = run_until(streams, "s1", lambda s: s.records_out >= 90)
    assert status.records_in == 90  # counts carry over a restart
    assert _ids(lake) == [*range(60), *range(1000, 1030)]
    assert committed_positions(_table(lake), "s1") == {"p0": 59, "p1": 29}


def test_positions_survive_other_writers_commits(
    lake: Lake, streams: Streams, logdir: Path, make_stream: Callable[..., str]
) -> None:
    append(logdir, "p0", records(*({"id": i} for i in range(5))))
    make_stream("s1")
    run_until(streams, "s1", lambda s: s.records_out >= 5)
    table = _table(lake)
    table.append(pa.table({"id": pa.array([99], pa.int64())}))  # another writer, after
    assert committed_positions(table, "s1") == {"p0": 4}
    run_until(streams, "s1", lambda s: s.records_in >= 5)
    assert _ids(lake) == [0, 1, 2, 3, 4, 99]


def test_failures_go_to_the_error_output_with_kind_in_path_and_raw_bytes(
    lake: Lake, streams: Streams, logdir: Path, make_stream: Callable[..., str]
) -> None:
    lake.create_table("db.t", schema=pa.schema([("id", pa.int64()), ("name", pa.string())]))
    bad = {
        b"{not json": "parse",
        b'{"id": "seven"}': "conversion",
        b'{"id": 8, "colour": "red"}': "schema",
        b'{"id": 9, "name": "' + b"x" * 300 + b'"}': "oversize",
        b"\xff\xfe binary": "parse",
    }
    append(logdir, "p0", [*records({"id": 1, "name": "a"}), *bad, *records({"id": 2})])
    make_stream("s1", max_record_bytes=200)
    status = run_until(streams, "s1", lambda s: s.records_in >= 7 and s.buffered_records == 0)
    assert status.records_out == 2 and status.records_errored == 5
    assert status.errored_by_kind == {"parse": 2, "conversion": 1, "schema": 1, "oversize": 1}
    assert _ids(lake) == [1, 2]
    errors = lake.sql("SELECT * FROM db._stream_errors ORDER BY position").to_pylist()
    assert {e["raw"]: e["kind"] for e in errors} == bad  # the exact bytes, with their kind
    assert [e["position"] for e in errors] == ["1", "2", "3", "4", "5"]
    assert all(e["stream"] == "s1" and e["partition"] == "p0" and e["reason"] for e in errors)
    assert all(e["target"] == "db.t" for e in errors)
    files = _table(lake, "db._stream_errors").plan_files().files
    assert any("/stream=s1/kind=parse/" in f for f in files)
    assert any("/stream=s1/kind=oversize/" in f for f in files)


def test_errors_committed_before_a_crash_are_not_written_again(
    lake: Lake, streams: Streams, logdir: Path, make_stream: Callable[..., str]
) -> None:
    # the state a crash between the error commit and the data commit leaves behind: the
    # failures of positions 0..2 are in the error output, the rows are not in the table
    append(logdir, "p0", [*records({"id": 0}), b"{bad", *records({"id": 2})])
    make_stream("s1")
    output = ErrorOutput(lake.catalog, "db._stream_errors", stream="s1", target="db.t")
    failed = FailedRecord(StreamRecord(b"{bad", "p0", 1), RecordError("parse", "bad JSON"))
    output.write([failed], {"p0": 2}, "batch-1")
    run_until(streams, "s1", lambda s: s.records_out >= 2)
    assert _ids(lake) == [0, 2]
    rows = lake.sql("SELECT position, reason FROM db._stream_errors").to_pylist()
    assert rows == [{"position": "1", "reason": "bad JSON"}]


def test_error_positions_never_go_back(lake: Lake) -> None:
    # a restarted stream that has read only some partitions again must not lower the error
    # output's positions for the others, or their failures would be written twice
    def failure(partition: str, position: int) -> FailedRecord:
        record = StreamRecord(b"{bad", partition, position)
        return FailedRecord(record, RecordError("parse", "bad JSON"))

    output = ErrorOutput(lake.catalog, "db._stream_errors", stream="s1", target="db.t")
    output.write([failure("p0", 10), failure("p1", 4)], {"p0": 10, "p1": 5}, "b1")
    restarted = ErrorOutput(lake.catalog, "db._stream_errors", stream="s1", target="db.t")
    restarted.load()
    restarted.write([failure("p1", 7)], {"p0": 3, "p1": 7}, "b2")  # p0 not read again yet
    again = ErrorOutput(lake.catalog, "db._stream_errors", stream="s1", target="db.t")
    again.load()
    assert again.written == {"p0": 10, "p1": 7}
    fresh = again.fresh([failure("p0", 10), failure("p1", 7), failure("p1", 8)])
    assert [f.record for f in fresh] == [failure("p1", 8).record]


def test_an_all_bad_batch_still_commits_its_positions(
    lake: Lake, streams: Streams, logdir: Path, make_stream: Callable[..., str]
) -> None:
    lake.create_table("db.t", schema=pa.schema([("id", pa.int64())]))
    append(logdir, "p0", [b"{bad", b"[1, 2]"])
    make_stream("s1")
    run_until(streams, "s1", lambda s: s.last_commit is not None)
    assert committed_positions(_table(lake), "s1") == {"p0": 1}
    assert acks(logdir) == [{"p0": 1}]
    kinds = lake.sql("SELECT kind FROM db._stream_errors ORDER BY position").column("kind")
    assert kinds.to_pylist() == ["parse", "parse"]  # not JSON; JSON but not an object


def test_table_created_from_the_configured_schema(
    lake: Lake, streams: Streams, logdir: Path, make_stream: Callable[..., str]
) -> None:
    append(logdir, "p0", records({"id": 1, "ts": "2026-11-23T10:00:00Z", "amount": "12.50"}))
    make_stream(
        "s1",
        table_schema={"id": "int64", "ts": "timestamp[us, tz=UTC]", "amount": "decimal(10,2)"},
    )
    run_until(streams, "s1", lambda s: s.records_out >= 1)
    schema = _table(lake).schema
    assert schema.field("ts").type == pa.timestamp("us", tz="UTC")
    assert schema.field("amount").type == pa.decimal128(10, 2)
    assert str(lake.sql("SELECT amount FROM db.t").column(0)[0]) == "12.50"


def test_unknown_fields_ignored_when_asked(
    lake: Lake, streams: Streams, logdir: Path, make_stream: Callable[..., str]
) -> None:
    lake.create_table("db.t", schema=pa.schema([("id", pa.int64())]))
    append(logdir, "p0", records({"id": 1, "extra": True}))
    make_stream("s1", unknown_fields="ignore")
    status = run_until(streams, "s1", lambda s: s.records_out >= 1)
    assert status.records_errored == 0 and _ids(lake) == [1]


def test_a_stream_runs_once_at_a_time(
    streams: Streams,
    logdir: Path,
    make_stream: Callable[..., str],
    in_thread: Callable[[str], object],
) -> None:
    append(logdir, "p0", records({"id": 1}))
    make_stream("s1")
    in_thread("s1")
    deadline = time.monotonic() + 10
    while not streams.status("s1").running and time.monotonic() < deadline:
        time.sleep(0.02)
    with pytest.raises(ConfigError, match="already running"):
        streams.run("s1", until=lambda s: True)
