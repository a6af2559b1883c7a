"""``lake.optimize`` of a table made of many small appends: its time, and what queries gain.

Setup (untimed): ``count`` small Parquet files of 200 rows each, as a stream of micro-batch
appends leaves them, are written into the table's folder and committed with pyiceberg's
``add_files`` in batches of 1,000 (a few commits instead of ``count``, so setup takes seconds).
Full scale: 10,000 files (2 M rows); small: 500.

Measured: ``lake.optimize("bench.small")`` (time, data files before and after), and four
representative queries through ``lake.sql`` before and after it (median of ``runs`` each after
one warm-up), reported as the geometric mean of the per-query speed-ups. No target; the
results of every query must be the same before and after.
"""

from __future__ import annotations

import statistics
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from bench import _ingest_data, lakeops
from bench.common import MB, Context, Result, geometric_mean, timed

if TYPE_CHECKING:
    import pyarrow as pa

    from lakebed.catalog import Table
    from lakebed.lake import Lake

NAME = "compaction"
FILES = {"small": 500, "full": 10_000}
ROWS_PER_FILE = 200
COMMIT_BATCH = 1_000
IDENT = "bench.small"

QUERIES: dict[str, str] = {
    "count_filter": f"SELECT count(*) AS n FROM {IDENT} WHERE country = 'DE' AND price > 50",
    "group_by": (
        f"SELECT category, count(*) AS n, round(avg(price), 2) AS avg_price FROM {IDENT} "
        "GROUP BY category ORDER BY category"
    ),
    "daily_revenue": (
        "SELECT date_trunc('day', event_time) AS day, round(sum(price * quantity), 2) AS revenue "
        f"FROM {IDENT} GROUP BY day ORDER BY day"
    ),
    "point_lookup": f"SELECT * FROM {IDENT} WHERE id BETWEEN {{lo}} AND {{hi}} ORDER BY id",
}


def build_table(lake: Lake, count: int) -> Table:
    """A table of ``count`` small data files, committed ``COMMIT_BATCH`` files at a time."""
    table = lake.create_table(IDENT, schema=_ingest_data.SMALL_SCHEMA)
    folder = Path(table.location.removeprefix("file://")) / "data" / "appends"
    paths = _ingest_data.write_small_parquet(folder, count, ROWS_PER_FILE)
    for start in range(0, len(paths), COMMIT_BATCH):
        batch = [str(p) for p in paths[start : start + COMMIT_BATCH]]
        table.iceberg.add_files(file_paths=batch)
        table.refresh()
    return table


def time_queries(
    lake: Lake, queries: dict[str, str], runs: int
) -> dict[str, tuple[float, pa.Table]]:
    """Median seconds of each query after a warm-up, and its result."""
    out: dict[str, tuple[float, pa.Table]] = {}
    for name, sql in queries.items():
        result = lake.sql(sql)
        seconds = statistics.median(timed(partial(lake.sql, sql)) for _ in range(runs))
        out[name] = (seconds, result)
    return out


def run(ctx: Context) -> list[Result]:
    count = FILES[ctx.scale.name]
    rows = count * ROWS_PER_FILE
    lake = lakeops.open_lake(ctx.workdir / "lake")
    start = time.perf_counter()
    table = build_table(lake, count)
    setup = time.perf_counter() - start
    stats = table.stats()
    ctx.log(f"{NAME}: {stats.data_files:,} files, {stats.rows:,} rows set up in {setup:.1f} s")
    if stats.rows != rows:
        raise RuntimeError(f"setup committed {stats.rows:,} rows, expected {rows:,}")
    queries = {n: q.format(lo=rows // 2, hi=rows // 2 + 20) for n, q in QUERIES.items()}

    before = time_queries(lake, queries, ctx.scale.runs)
    start = time.perf_counter()
    report = lake.optimize(IDENT)
    took = time.perf_counter() - start
    after_stats = lake.table(IDENT).stats()
    ctx.log(f"{NAME}: optimize took {took:.1f} s: {stats.data_files} → {after_stats.data_files}")
    after = time_queries(lake, queries, ctx.scale.runs)

    speedups = {n: before[n][0] / after[n][0] for n in queries}
    differ = [n for n in queries if not before[n][1].equals(after[n][1])]
    per_query = ", ".join(f"{n} {s:.2f}x" for n, s in speedups.items())
    rows_note = f"ROWS CHANGED: {after_stats.rows:,}; " if after_stats.rows != rows else ""
    return [
        Result(NAME, "optimize", took, "s",
               note=f"{rows_note}{count:,} files of {ROWS_PER_FILE} rows ({rows:,} rows); "
               f"setup {setup:.1f} s; rewrote {report.rewritten_files:,} files into "
               f"{report.added_files:,}, {report.bytes_before / MB:.0f} → "
               f"{report.bytes_after / MB:.0f} MiB"),
        Result(NAME, "data files (before ÷ after)", after_stats.data_files, "files", "before",
               stats.data_files, stats.data_files / max(1, after_stats.data_files)),
        Result(NAME, "query speed-up (before ÷ after)",
               1000 * geometric_mean([a for a, _ in after.values()]), "ms", "before optimize",
               1000 * geometric_mean([b for b, _ in before.values()]),
               geometric_mean(list(speedups.values())),
               note=f"geomean of {len(queries)} lake.sql queries, median of {ctx.scale.runs}; "
               f"{per_query}" + (f"; RESULTS DIFFER: {', '.join(differ)}" if differ else "")),
    ]  # fmt: skip
