"""A folder of CSV files → Iceberg table with ``lake.ingest``, against DuckDB and PySpark.

Every contender reads the same cached folder (warm page cache) and writes compressed Parquet
to the same disk; lakebed also commits an Iceberg snapshot.

* DuckDB: ``COPY (SELECT * FROM read_csv('folder/*.csv')) TO 'x.parquet'``.
  Target: lakebed MiB/s ÷ DuckDB MiB/s ≥ 0.7.
* PySpark ``local[2]``: ``spark.read.csv(folder, header=True, inferSchema=True)
  .write.parquet(...)`` on one warm session. The JVM start-up is *not* in Spark's timing
  (a cluster pays it once, not per job); it is reported on its own row together with the
  ratio it would give if it were. Target: lakebed ÷ Spark ≥ 3.

Full scale: 2 GiB in 16 files; small: 50 MiB in 8 files.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

from bench import _ingest_data, _ingest_spark
from bench._ingest_common import (
    Measured,
    folder_bytes,
    interleaved,
    throughput_results,
    timed_ingest,
)
from bench.common import MB, Context, Result, Target, warm_page_cache

NAME = "ingest_files"
SIZES = {"small": (50, 8), "full": (2048, 16)}  # (total MiB, files)
DUCKDB, SPARK, LAKEBED = "duckdb COPY", "spark local[2]", "lake.ingest"
PEERS = {DUCKDB: Target(">=", 0.7), SPARK: Target(">=", 3.0)}


def duckdb_copy(folder: Path, out: Path) -> int:
    """DuckDB's CSV → Parquet of every CSV in ``folder``; returns the rows written."""
    import duckdb

    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * FROM read_csv('{folder}/*.csv')) TO '{out}' (FORMAT parquet)")
    return int(pq.ParquetFile(out).metadata.num_rows)


def run(ctx: Context) -> list[Result]:
    total_mb, files = SIZES[ctx.scale.name]
    folder = _ingest_data.csv_folder(total_mb, files, data_dir=ctx.data_dir)
    size_mb = folder_bytes(folder, "*.csv") / MB
    runs = min(ctx.scale.runs, 3)
    ctx.log(f"{NAME}: {size_mb:.0f} MiB in {files} CSV files, {runs} runs per contender")
    for path in sorted(folder.glob("*.csv")):
        warm_page_cache(path)

    def duck(i: int) -> Measured:
        out = ctx.workdir / f"duck-{i}.parquet"
        try:
            start = time.perf_counter()
            rows = duckdb_copy(folder, out)
            return time.perf_counter() - start, rows
        finally:
            out.unlink(missing_ok=True)

    def lakebed(i: int) -> Measured:
        return timed_ingest(ctx.workdir / f"lake-{i}", str(folder), "bench.t")

    with _ingest_spark.spark_session() as (spark, spark_start):
        ctx.log(f"{NAME}: Spark session started in {spark_start:.1f} s (untimed)")

        def sparked(i: int) -> Measured:
            out = ctx.workdir / f"spark-{i}"
            try:
                start = time.perf_counter()
                _ingest_spark.csv_to_parquet(spark, folder, out)
                took = time.perf_counter() - start
                return took, _ingest_spark.parquet_rows(out)
            finally:
                shutil.rmtree(out, ignore_errors=True)

        contenders: dict[str, Callable[[int], Measured]] = {
            DUCKDB: duck,
            LAKEBED: lakebed,
            SPARK: sparked,
        }
        seconds, rows, errors = interleaved(ctx, NAME, contenders, runs)
    if DUCKDB in errors:
        raise RuntimeError(f"the DuckDB peer failed: {errors[DUCKDB]}")
    note = f"{size_mb:.0f} MiB in {files} CSV files, {rows[DUCKDB]:,} rows"
    results = throughput_results(
        NAME, LAKEBED, PEERS, seconds, rows, errors, size=size_mb, unit="MiB/s", note=note
    )
    if LAKEBED not in errors and SPARK not in errors:
        with_start = statistics.median(seconds[SPARK]) + spark_start
        ratio = with_start / statistics.median(seconds[LAKEBED])
        results.append(
            Result(NAME, "spark JVM start-up (not in its timing)", spark_start, "s",
                   note=f"counting it, lakebed vs Spark would be {ratio:.2f}x")
        )  # fmt: skip
    return results
