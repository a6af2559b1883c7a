"""CSV → Iceberg table throughput, against DuckDB writing the same CSV to Parquet.

Both sides read the same cached CSV from a warm page cache and write compressed Parquet on the
same disk; lakebed also commits an Iceberg snapshot, DuckDB writes one bare file. Two lakebed
paths are measured, the ones a user reaches for:

* ``crawl --convert``: ``lake.crawl(folder, database=..., convert=True)`` (discovery, schema
  inference, conversion, commit);
* ``read → append``: ``formats.read(csv)`` streamed into ``Table.append`` (one commit).

Target: lakebed MB/s ÷ DuckDB MB/s ≥ 0.7.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from bench import data, lakeops
from bench.common import MB, Context, Result, Target, warm_page_cache

if TYPE_CHECKING:
    from lakebed.catalog import Table
    from lakebed.lake import Lake

NAME = "csv_to_iceberg"
TARGET = Target(">=", 0.7)


def duckdb_copy(csv_path: Path, out: Path) -> int:
    """DuckDB's CSV → Parquet: ``COPY (SELECT * FROM read_csv(...)) TO ...``; returns rows."""
    import duckdb

    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * FROM read_csv('{csv_path}')) TO '{out}' (FORMAT parquet)")
    return int(pq.ParquetFile(out).metadata.num_rows)


Measured = tuple[float, int]  # (seconds, rows written)


def run(ctx: Context) -> list[Result]:
    csv_path = data.wide_csv(ctx.scale.convert_csv_mb, data_dir=ctx.data_dir)
    size_mb = csv_path.stat().st_size / MB
    runs = min(ctx.scale.runs, 3)
    ctx.log(f"{NAME}: {size_mb:.0f} MiB CSV, {runs} runs per contender")
    warm_page_cache(csv_path)

    def duck(i: int) -> Measured:
        out = ctx.workdir / f"duck-{i}.parquet"
        try:
            start = time.perf_counter()
            rows = duckdb_copy(csv_path, out)
            return time.perf_counter() - start, rows
        finally:
            out.unlink(missing_ok=True)

    def crawl(i: int) -> Measured:
        return _in_fresh_lake(
            ctx.workdir / f"lake-crawl-{i}",
            lambda lake: lakeops.crawl_convert(lake, csv_path.parent, "bench"),
        )

    def append(i: int) -> Measured:
        return _in_fresh_lake(
            ctx.workdir / f"lake-append-{i}",
            lambda lake: lakeops.append_csv(lake, "bench.events", csv_path),
        )

    contenders: dict[str, Callable[[int], Measured]] = {
        "duckdb": duck,
        "crawl --convert": crawl,
        "read → append": append,
    }
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    rows: dict[str, int] = {}
    errors: dict[str, str] = {}
    for i in range(runs):  # interleaved, so drift in machine load hits every contender alike
        for name, fn in contenders.items():
            if name in errors:
                continue
            try:
                took, rows[name] = fn(i)
                seconds[name].append(took)
            except Exception as exc:  # a broken path is reported, the others still measured
                errors[name] = f"{type(exc).__name__}: {exc}"
                ctx.log(f"{NAME}: {name} failed: {errors[name]}")
    if "duckdb" in errors:
        raise RuntimeError(f"the DuckDB peer failed: {errors['duckdb']}")

    duck_mbps = size_mb / statistics.median(seconds["duckdb"])
    results = []
    for name in ("crawl --convert", "read → append"):
        if name in errors:
            results.append(
                Result(NAME, name, float("nan"), "MiB/s", "duckdb COPY", duck_mbps,
                       target=TARGET, note=f"failed: {errors[name][:300]}")
            )  # fmt: skip
            continue
        mbps = size_mb / statistics.median(seconds[name])
        note = f"{size_mb:.0f} MiB CSV, {rows[name]:,} rows, median of {runs}"
        if rows[name] != rows["duckdb"]:
            note += f"; ROW COUNT DIFFERS: duckdb wrote {rows['duckdb']:,}"
        results.append(
            Result(NAME, name, mbps, "MiB/s", "duckdb COPY", duck_mbps, mbps / duck_mbps,
                   TARGET, note)
        )  # fmt: skip
    return results


def _in_fresh_lake(root: Path, make_table: Callable[[Lake], Table]) -> Measured:
    """Time ``make_table`` in a new lake (created untimed), then delete the lake."""
    try:
        lake = lakeops.open_lake(root)
        start = time.perf_counter()
        table = make_table(lake)
        took = time.perf_counter() - start
        return took, table.stats().rows
    finally:
        shutil.rmtree(root, ignore_errors=True)
