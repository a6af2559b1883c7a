"""A 20-step cleaning recipe on millions of rows: DuckDB engine against pandas and PySpark.

Input: :mod:`bench._recipe_data` orders (10 M rows at full scale, 200 k at small), committed
to a lake table with ``add_files`` (untimed). The DuckDB engine and pandas run :data:`RUNS`
times each, taking turns (a shared machine's speed drifts by a fifth over minutes: both see
the same drift), and the medians are compared; nothing else may run meanwhile:

- ``lake.recipes.apply(recipe, source=..., into=...)`` on the DuckDB engine: read the snapshot,
  fit the learning steps, run the steps, write a new Iceberg snapshot;
- the same steps written in pandas (:func:`bench._recipe_steps.pandas_steps`): read the Parquet
  files, run them, write Parquet. Target: DuckDB engine ≥ 5x faster;
- the PySpark engine (``local[2]``) on the same recipe, JVM start-up and a warm-up run on 10 k
  rows excluded (reported).

Then peak memory: the DuckDB engine with a fixed ``memory_limit`` on the input and on twice the
input, each in its own child process (peak RSS from ``wait4``). Target: the larger input's peak
within 1.2x of the smaller's (memory bounded by the limit, not the data).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench import _recipe_data, _recipe_steps, lakeops
from bench.common import Context, Result, Target, cpu_seconds, run_child, timed

if TYPE_CHECKING:
    from lakebed.lake import Lake
    from lakebed.transform import Recipe

NAME = "recipe"
ROWS = {"small": 200_000, "full": 10_000_000}
MEMORY_LIMIT = {"small": "200MB", "full": "1GB"}
RUNS = 3


def load(lake: Lake, folder: Path, ident: str) -> int:
    """Commit the Parquet files of ``folder`` to table ``ident`` (no copy); its row count."""
    import pyarrow.parquet as pq

    files = sorted(str(p) for p in folder.glob("*.parquet"))
    table = lake.create_table(ident, schema=pq.read_schema(files[0]))
    table.iceberg.add_files(file_paths=files)
    return table.refresh().stats().rows


def pandas_run(folder: Path, out: Path) -> int:
    import pandas as pd

    df = _recipe_steps.pandas_steps(pd.read_parquet(folder))
    df.to_parquet(out, index=False)
    return len(df)


def run(ctx: Context) -> list[Result]:
    rows = ROWS[ctx.scale.name]
    folder = _recipe_data.orders(rows, data_dir=ctx.data_dir)
    lake = lakeops.open_lake(ctx.workdir / "lake")
    loaded = load(lake, folder, "bench.orders")
    recipe = _recipe_steps.recipe()
    ctx.log(f"{NAME}: {loaded:,} rows, {len(recipe)} steps")

    counts: dict[str, int] = {}

    def duck() -> None:
        run_ = lake.recipes.apply(recipe, source="bench.orders", into="bench.clean")
        counts["duckdb"] = run_.rows_out  # type: ignore[union-attr]

    def pandas() -> None:
        counts["pandas"] = pandas_run(folder, ctx.workdir / "pandas.parquet")

    duck_runs, pandas_runs, duck_cpu, pandas_cpu = [], [], [], []
    for _ in range(RUNS):
        for fn, wall, cpu, label in ((duck, duck_runs, duck_cpu, "duckdb engine"),
                                     (pandas, pandas_runs, pandas_cpu, "pandas")):  # fmt: skip
            before = cpu_seconds()
            wall.append(timed(fn))
            cpu.append(cpu_seconds() - before)
            ctx.log(f"{NAME}: {label} {wall[-1]:.1f} s, CPU {cpu[-1]:.1f} s")
    duck_s, pandas_s = statistics.median(duck_runs), statistics.median(pandas_runs)
    runs = ", ".join(f"{d:.1f}/{p:.1f}" for d, p in zip(duck_runs, pandas_runs, strict=True))
    cores = os.cpu_count() or 1
    # The engine's wall time is at least its CPU time over the cores, so on this machine the
    # ratio can reach at most cores x pandas' wall time / the engine's CPU time.
    duck_c, pandas_c = statistics.median(duck_cpu), statistics.median(pandas_cpu)
    cpu_note = (f"; CPU s (all threads, medians): DuckDB {duck_c:.1f}, pandas {pandas_c:.1f}, "
                f"so at most {cores * pandas_s / duck_c:.1f}x on {cores} cores")  # fmt: skip

    results = [
        Result(NAME, "20-step recipe, DuckDB engine", duck_s, "s", "pandas", pandas_s,
               pandas_s / duck_s, Target(">=", 5.0),
               note=f"{rows:,} rows in; {counts['duckdb']:,} rows out (pandas "
               f"{counts['pandas']:,}); medians of {RUNS} runs each, taking turns "
               f"(DuckDB/pandas s: {runs}){cpu_note}"),
        spark_result(ctx, lake, recipe, duck_s, counts),
    ]  # fmt: skip
    results.append(memory(ctx, folder, rows))
    return results


def spark_result(
    ctx: Context, lake: Lake, recipe: Recipe, duck_s: float, counts: dict[str, int]
) -> Result:
    """The same recipe on the Spark engine (JVM start-up and a first job on a small slice of
    the input untimed)."""
    metric = "20-step recipe vs PySpark engine local[2]"
    try:
        start = time.perf_counter()
        warm = lake.table("bench.orders").scan(limit=10_000)
        lake.recipes.apply(recipe, source=warm, engine="spark")
        spark_start = time.perf_counter() - start

        def spark() -> None:
            run_ = lake.recipes.apply(recipe, source="bench.orders", into="bench.clean_spark",
                                      engine="spark")  # fmt: skip
            counts["spark"] = run_.rows_out  # type: ignore[union-attr]

        spark_s = timed(spark)
    except Exception as exc:  # a failing peer is a result to report, not a crash
        ctx.log(f"{NAME}: spark engine failed: {exc}")
        return Result(NAME, metric, duck_s, "s", "spark engine", None, None,
                      note=f"the Spark engine failed: {str(exc)[:200]}")  # fmt: skip
    ctx.log(f"{NAME}: spark engine {spark_s:.1f} s")
    return Result(NAME, metric, duck_s, "s", "spark engine", spark_s, spark_s / duck_s,
                  note=f"JVM start and first job {spark_start:.1f} s, not counted; "
                  f"{counts.get('spark', 0):,} rows out")  # fmt: skip


def memory(ctx: Context, folder: Path, rows: int) -> Result:
    """Peak RSS of the DuckDB engine at a fixed memory limit on ``rows`` and ``2 x rows``."""
    double = _recipe_data.orders(2 * rows, data_dir=ctx.data_dir)
    limit = MEMORY_LIMIT[ctx.scale.name]
    peaks, outs = [], []
    for n, data in ((rows, folder), (2 * rows, double)):
        root = ctx.workdir / f"mem-{n}"
        argv = [sys.executable, "-m", "bench._recipe_child", str(data), str(root), limit]
        child = run_child(argv)
        done = json.loads(child.stdout.strip().splitlines()[-1])
        ctx.log(f"{NAME}: {n:,} rows at memory_limit {limit}: peak {child.peak_rss_mb:.0f} MiB")
        peaks.append(child.peak_rss_mb)
        outs.append(done["rows_out"])
    small, large = peaks
    return Result(NAME, "peak RSS at 2x the rows (fixed memory_limit)", large, "MiB",
                  f"{rows:,} rows", small, large / small, Target("<=", 1.2),
                  note=f"memory_limit {limit}; {2 * rows:,} rows; rows out {outs[0]:,} and "
                  f"{outs[1]:,}")  # fmt: skip
