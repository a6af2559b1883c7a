"""Keeps the streaming benchmark code from rotting: inputs, configs, result assembly; no timing."""

from __future__ import annotations

import base64
import itertools
import json
import math
import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pytest
from bench._stream_http import Batch, Sent
from bench._stream_stats import (
    Run,
    latency_result,
    median_run,
    per_core_result,
    percentile,
    throughput_result,
)
from bench.common import Target

from bench import _stream_data, _stream_http, _stream_latency, lakeops, stream_http, stream_kafka


def test_records_are_exactly_one_kib_of_json_matching_the_table_schema() -> None:
    values = _stream_data.encoded(0, 50)
    assert {len(v) for v in values} == {_stream_data.RECORD_BYTES}
    rows = [json.loads(v) for v in values]
    assert [r["id"] for r in rows] == list(range(50))
    assert list(rows[0]) == list(_stream_data.TABLE_SCHEMA)
    table = pa.Table.from_pylist(rows, schema=_stream_data.ARROW_SCHEMA)
    assert table.num_rows == 50 and table.column("note").null_count == 0
    assert set(table.column("country").to_pylist()) == set(_stream_data.COUNTRIES)
    assert _stream_data.encode(7) == values[7]  # the same bytes every run
    assert len(_stream_data.encode(123_456, size=2000)) == 2000
    with pytest.raises(ValueError, match="at least"):
        _stream_data.encode(1, size=100)


def test_chunks_cover_the_range_once() -> None:
    assert list(_stream_data.chunks(25, 10)) == [(0, 10), (10, 10), (20, 5)]
    with pytest.raises(ValueError):
        list(_stream_data.chunks(5, 0))


def test_batches_carry_the_same_records_as_put_bodies_and_peer_blobs() -> None:
    first, second = _stream_http.make_batches(2, size=3)
    body = json.loads(second.body)
    assert [base64.b64decode(r["Data"]) for r in body["Records"]] == _stream_data.encoded(3, 3)
    values, blob = [], first.blob
    while blob:
        size = int.from_bytes(blob[:4], "little")
        values.append(blob[4 : 4 + size])
        blob = blob[4 + size :]
    assert values == _stream_data.encoded(0, 3) and first.records == 3


def test_kafka_commit_size_splits_the_records_evenly() -> None:
    assert stream_kafka.commit_records(20_000, 5) == 4_000
    with pytest.raises(ValueError, match="equal commits"):
        stream_kafka.commit_records(20_001, 5)
    with pytest.raises(ValueError, match="1 MiB"):
        stream_kafka.commit_records(1_000, 5)


def test_benchmark_stream_configs_are_valid_lakebed_streams(tmp_path: Path) -> None:
    from lakebed.streams.config import stream_config

    cluster = SimpleNamespace(bootstrap_servers="127.0.0.1:9", source_options={"a.b": "c"})
    options = stream_kafka.stream_options(cluster, "g", 4_000)  # type: ignore[arg-type]
    config = stream_config("bench_kafka", **options)
    assert config.buffer_size_bytes == 4_000 * 1024 and config.partition_by == ["country"]
    lake = lakeops.open_lake(tmp_path / "lake")
    stream_http.create_streams(lake)
    e2e = lake.streams.get(stream_http.E2E_STREAM)
    assert e2e.buffer_interval_s == stream_http.INTERVAL_S and e2e.source.type == "http"


def test_percentiles_and_median_runs() -> None:
    assert percentile([3.0, 1.0, 2.0, 4.0], 50) == 2.5
    assert percentile([5.0], 99) == 5.0 and math.isnan(percentile([], 50))
    runs = [Run(100, 3.0, 1.0), Run(100, 1.0, 0.5), Run(100, 2.0, 4.0)]
    assert median_run(runs) is runs[2]
    assert runs[2].rate == 50 and runs[2].cores == 2 and runs[2].per_core == 25


def test_throughput_and_latency_results_give_ratios_against_the_peer() -> None:
    ours = [Run(1000, 2.0, 1.0)]
    peer = [Run(1000, 1.0, 0.25), Run(1000, 1.0, 0.25), Run(900, 4.0, 1.0)]
    row = throughput_result("b", "m", ours, "p", peer, target=Target(">=", 0.8), note="n")
    assert row.value == 500 and row.peer_value == 1000 and row.ratio == 0.5
    assert row.passed is False and "cores used 0.50 vs 0.25" in row.note
    core = per_core_result("b", "c", ours, "p", peer)
    assert core.value == 1000 and core.peer_value == 4000 and core.ratio == 0.25
    mismatch = throughput_result(
        "b", "m", ours, "p", [Run(999, 1.0, math.nan)], target=None, note=""
    )
    assert "RECORD COUNT DIFFERS" in mismatch.note and "cores" not in mismatch.note
    assert latency_result("b", "p99", 1500.0, "interval", 1000.0).ratio == 1.5
    assert latency_result("b", "p99", 10.0).ratio is None


def test_delivery_latency_uses_the_first_commit_covering_each_record() -> None:
    sent = [Sent(due=1.0, acked=1.01, first_seq=1, last_seq=4), Sent(2.0, 2.01, 5, 8)]
    committed = [(2, 1500), (6, 2600)]  # records 7 and 8 were never committed
    assert _stream_latency.delivery_latencies(sent, committed) == [500, 500, 1600, 1600, 600, 600]


def test_commits_reads_positions_from_snapshot_summaries(tmp_path: Path) -> None:
    lake = lakeops.open_lake(tmp_path / "lake")
    table = lake.create_table("bench.t", schema=pa.schema([("x", pa.int64())]))
    key = "lakebed.stream.s.positions"
    table.append(pa.table({"x": [1]}), properties={key: json.dumps({"http": 10})})
    table.append(pa.table({"x": [2]}))  # another writer's snapshot
    table.append(pa.table({"x": [3]}), properties={key: json.dumps({"http": 25})})
    found = _stream_latency.commits(lake.table("bench.t"), "s")
    assert [p for p, _ in found] == [10, 25] and found[0][1] <= found[1][1]


def test_drive_sends_every_batch_once_and_closes_each_sender() -> None:
    closed: list[int] = []
    lock = threading.Lock()
    counter = [0]

    def make_sender() -> tuple[_stream_http.Sender, Callable[[], None]]:
        def send(batch: Batch) -> tuple[int, int]:
            with lock:
                first = counter[0] + 1
                counter[0] += batch.records
            return first, first + batch.records - 1

        return send, lambda: closed.append(1)

    batches = _stream_http.make_batches(2, size=5)
    load = _stream_http.drive(make_sender, batches, 7, clients=3)
    assert not load.errors and len(load.sent) == 7 and load.records == 35 and len(closed) == 3
    paced = _stream_http.drive(make_sender, batches, 4, clients=2, interval_s=0.01)
    dues = sorted(s.due for s in paced.sent)
    assert [round(b - a, 6) for a, b in itertools.pairwise(dues)] == [0.01] * 3


def test_drive_stops_on_the_first_failure_and_reports_it() -> None:
    def make_sender() -> tuple[_stream_http.Sender, Callable[[], None]]:
        def send(batch: Batch) -> tuple[int, int]:
            raise RuntimeError("HTTP 507: disk full")

        return send, lambda: None

    load = _stream_http.drive(make_sender, _stream_http.make_batches(1, 2), 10, clients=2)
    assert load.errors and "HTTP 507: disk full" in load.errors[0] and not load.sent
    with pytest.raises(RuntimeError, match="disk full"):
        stream_http.as_run(load)


def test_fsync_peer_appends_every_batch(tmp_path: Path) -> None:
    peer = _stream_http.FsyncFile(tmp_path / "peer.log")
    try:
        batches = _stream_http.make_batches(3, size=4)
        load = _stream_http.drive(peer.sender, batches, 3, clients=2)
    finally:
        peer.close()
    assert load.records == 12 and peer.count == 12
    assert (tmp_path / "peer.log").stat().st_size == sum(len(b.blob) for b in batches)


def test_streaming_benchmarks_are_registered_under_their_names() -> None:
    from bench import __main__ as runner

    for module in (stream_kafka, stream_http):
        assert runner.BENCHMARKS[module.NAME] == module.__name__
        assert callable(module.run)
