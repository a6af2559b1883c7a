"""HTTP PutRecordBatch throughput and acknowledgement latency, and end-to-end delivery latency.

Command: ``python -m bench stream_http [--scale small|full]``.

Setup (untimed): a lake with two HTTP-source delivery streams, ``lakebed --lake ROOT serve``
started in its own process on a free port, 20 distinct request bodies of :data:`BATCH` 1 KiB
JSON records each (Firehose-style ``{"Records": [{"Data": "<base64>"}]}``), a warm-up request.

1. **Throughput** (closed loop): :data:`CLIENTS` client threads (httpx, keep-alive) send
   batches back to back until N batches are acknowledged (full: 400 = 200,000 records; small:
   40). An acknowledgement means the records are fsynced to the stream's write-ahead log.
   Peer: the same threads append the same records to one file (``O_APPEND`` write + ``fsync``
   per batch, no HTTP): the floor for a durable acknowledgement on this disk. Interleaved
   ``min(runs, 3)`` times; medians reported, ratio lakebed ÷ peer.
2. **Acknowledgement latency at a fixed load** (open loop): batches due at a fixed rate of
   :data:`LOAD_FRACTION` of the measured maximum, for ``LOAD_S`` seconds, latency counted from
   when each batch was due to its answer; p50 and p99 against the peer at the same rate
   (ratio lakebed ÷ peer, lower is better).
3. **End-to-end delivery latency**: the second stream runs in its own process
   (``lake.streams.start``) with ``buffer_interval_s = 1`` (size hint 128 MiB, so the interval
   decides), ``partition_by=["country"]``, while batches arrive at :data:`E2E_RATE` records/s
   for ``E2E_S`` seconds; then it is given time to commit everything and stopped. Reported:
   the stream's own p50/p99 (``status().latency_p50_ms``: write-ahead-log acceptance → commit)
   and, by timestamps, send → the snapshot holding the record (see
   :mod:`bench._stream_latency`); the ratio is p99 ÷ the interval. The table must hold every
   record sent.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench import _stream_data, _stream_http, _stream_latency, lakeops
from bench._stream_http import BATCH, CLIENTS, FsyncFile, Load, drive, http_sender
from bench._stream_stats import Run, failed_result, latency_result, percentile, throughput_result
from bench.common import Context, Result

if TYPE_CHECKING:
    from lakebed.lake import Lake
    from lakebed.streams.metrics import StreamStatus

NAME = "stream_http"
MAX_BATCHES = {"small": 40, "full": 400}
LOAD_FRACTION = 0.5
LOAD_S = {"small": 5.0, "full": 30.0}
E2E_RATE = {"small": 2_000, "full": 5_000}
E2E_S = {"small": 8.0, "full": 60.0}
INTERVAL_S = 1.0
DRAIN_S = 60.0
PUT_STREAM, E2E_STREAM, E2E_TABLE = "bench_put", "bench_e2e", "bench.events"
LAKEBED, PEER = "PutRecordBatch", "fsync'd file append"


def create_streams(lake: Lake) -> None:
    """The stream the load is put into (never delivered) and the one delivered end to end."""
    lake.streams.create(PUT_STREAM, source={"type": "http"}, into="bench.put_only")
    lake.streams.create(
        E2E_STREAM,
        source={"type": "http"},
        into=E2E_TABLE,
        table_schema=_stream_data.TABLE_SCHEMA,
        partition_by=[_stream_data.PARTITION_FIELD],
        buffer_interval_s=INTERVAL_S,
        buffer_size_bytes=128 * (1 << 20),
    )


def as_run(load: Load) -> Run:
    if load.errors:
        raise RuntimeError("; ".join(load.errors[:3]))
    return Run(load.records, load.seconds, math.nan)


def run(ctx: Context) -> list[Result]:
    scale = ctx.scale.name
    root = ctx.workdir / "lake"
    lake = lakeops.open_lake(root)
    create_streams(lake)
    batches = _stream_http.make_batches(20)
    peer = FsyncFile(ctx.workdir / "peer.log")
    results: list[Result] = []
    try:
        with _stream_http.serve(root, _stream_http.free_port()) as url:
            put = lambda: http_sender(url, PUT_STREAM)  # noqa: E731
            as_run(drive(put, batches, 4, clients=1))  # warm-up
            ours, theirs = [], []
            for i in range(min(ctx.scale.runs, 3)):
                ours.append(as_run(drive(put, batches, MAX_BATCHES[scale])))
                theirs.append(as_run(drive(peer.sender, batches, MAX_BATCHES[scale])))
                ctx.log(
                    f"{NAME}: run {i + 1}: {ours[-1].rate:,.0f} vs {theirs[-1].rate:,.0f} records/s"
                )
            results.append(throughput_result(
                NAME, "put-batch records/s (acked = fsynced)", ours, PEER, theirs, target=None,
                note=f"{CLIENTS} client threads, batches of {BATCH} x 1 KiB, "
                f"{MAX_BATCHES[scale]} batches per run"))  # fmt: skip
            rate = LOAD_FRACTION * sorted(r.rate for r in ours)[(len(ours) - 1) // 2]
            results += fixed_load(ctx, put, peer, batches, rate, LOAD_S[scale])
            results += end_to_end(ctx, lake, url, batches, E2E_RATE[scale], E2E_S[scale])
    finally:
        peer.close()
    return results


def fixed_load(
    ctx: Context,
    put: _stream_http.SenderFactory,
    peer: FsyncFile,
    batches: list[_stream_http.Batch],
    rate: float,
    seconds: float,
) -> list[Result]:
    """p50/p99 acknowledgement latency at ``rate`` records/s, lakebed and the peer."""
    interval = BATCH / rate
    total = max(10, int(seconds / interval))
    ours = drive(put, batches, total, interval_s=interval)
    theirs = drive(peer.sender, batches, total, interval_s=interval)
    if ours.errors or theirs.errors:
        errors = {LAKEBED: "; ".join(ours.errors[:2]), PEER: "; ".join(theirs.errors[:2])}
        return [failed_result(NAME, "ack latency", "ms", errors)]
    mine = [s.latency_ms for s in ours.sent]
    other = [s.latency_ms for s in theirs.sent]
    achieved = ours.records / ours.seconds
    ctx.log(f"{NAME}: fixed load {rate:,.0f} records/s (achieved {achieved:,.0f}), {total} batches")
    note = (
        f"{total} batches due every {interval * 1000:.1f} ms ({rate:,.0f} records/s = "
        f"{LOAD_FRACTION:.0%} of the max; achieved {achieved:,.0f}); from due time to answer"
    )
    return [
        latency_result(NAME, f"ack latency p{q} at {LOAD_FRACTION:.0%} load",
                       percentile(mine, q), PEER, percentile(other, q), note=note)
        for q in (50, 99)
    ]  # fmt: skip


def end_to_end(
    ctx: Context, lake: Lake, url: str, batches: list[_stream_http.Batch], rate: int, seconds: float
) -> list[Result]:
    """Delivery latency of a running stream with a 1 s buffer interval at ``rate`` records/s."""
    interval = BATCH / rate
    total = max(4, int(seconds / interval))
    lake.streams.start(E2E_STREAM)
    try:
        load = drive(lambda: http_sender(url, E2E_STREAM), batches, total, interval_s=interval)
        if load.errors:
            raise RuntimeError(f"end-to-end load failed: {'; '.join(load.errors[:3])}")
        status = wait_for(lake, load.records)
    finally:
        lake.streams.stop(E2E_STREAM)
    rows = lake.table(E2E_TABLE).stats().rows
    committed = _stream_latency.commits(lake.table(E2E_TABLE), E2E_STREAM)
    latencies = _stream_latency.delivery_latencies(load.sent, committed)
    ctx.log(
        f"{NAME}: end to end: {load.records:,} records sent, {rows:,} delivered in "
        f"{len(committed)} commits; status p50 {status.latency_p50_ms} ms, "
        f"p99 {status.latency_p99_ms} ms"
    )
    problem = ""
    if rows != load.records or len(latencies) != load.records or status.records_errored:
        problem = (
            f"; MISMATCH: sent {load.records:,}, table {rows:,}, timed {len(latencies):,}, "
            f"errored {status.records_errored:,}"
        )
    note = (
        f"{load.records:,} records at {rate:,} records/s for {seconds:.0f} s, "
        f"buffer interval {INTERVAL_S:g} s, {len(committed)} commits{problem}"
    )
    interval_ms = INTERVAL_S * 1000
    p50 = status.latency_p50_ms if status.latency_p50_ms is not None else math.nan
    p99 = status.latency_p99_ms if status.latency_p99_ms is not None else math.nan
    return [
        latency_result(NAME, "delivery latency p50 (stream status)", p50, "buffer interval",
                       interval_ms, note="acknowledged → committed; " + note),
        latency_result(NAME, "delivery latency p99 (stream status)", p99, "buffer interval",
                       interval_ms, note="ratio = p99 ÷ interval"),
        latency_result(NAME, "delivery latency p50 (timestamps)", percentile(latencies, 50),
                       "buffer interval", interval_ms, note="sent → snapshot committed"),
        latency_result(NAME, "delivery latency p99 (timestamps)", percentile(latencies, 99),
                       "buffer interval", interval_ms, note="ratio = p99 ÷ interval"),
    ]  # fmt: skip


def wait_for(lake: Lake, records: int) -> StreamStatus:
    """The stream's status once it has committed ``records`` (or after :data:`DRAIN_S`)."""
    deadline = time.monotonic() + DRAIN_S
    while True:
        status = lake.streams.status(E2E_STREAM)
        if status.records_out + status.records_errored >= records or time.monotonic() > deadline:
            return status
        if not status.running:
            log = Path(lake.streams.state_dir(E2E_STREAM)) / "stream.log"
            raise RuntimeError(f"the stream process is not running: {status.state}; see {log}")
        time.sleep(0.2)
