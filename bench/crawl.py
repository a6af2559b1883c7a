"""Crawling many small files: the first crawl, and a re-crawl that finds nothing new.

The input is :func:`bench.data.small_files`: half CSV, half JSON Lines, in ``key=value``
partition folders. Each run crawls into a fresh lake (created untimed) and registers the files
in place (no conversion), as ``lakebed crawl`` does by default. There is no peer: the targets
are absolute (first crawl of 10,000 files ≤ 30 s, re-crawl ≤ 3 s); at ``--scale small`` they
are scaled down in proportion to the file count, so only per-file cost is judged.
"""

from __future__ import annotations

import shutil
import statistics
import time

from bench import data, lakeops
from bench.common import Context, Result, Target

NAME = "crawl"
FULL_FILES = 10_000
FIRST_CRAWL_S = 30.0
RECRAWL_S = 3.0
RATIO_TARGET = Target("<=", 1.0)


def run(ctx: Context) -> list[Result]:
    count = ctx.scale.crawl_files
    root = data.small_files(count, data_dir=ctx.data_dir)
    files, size = data.tree_size(root)
    share = count / FULL_FILES
    first_target, again_target = FIRST_CRAWL_S * share, RECRAWL_S * share
    runs = min(ctx.scale.runs, 3)
    ctx.log(f"{NAME}: {files:,} files ({size / 1e6:.1f} MB), {runs} fresh lakes")

    first_times, again_times = [], []
    tables: list[str] = []
    for i in range(runs):
        lake_root = ctx.workdir / f"lake-crawl-{i}"
        try:
            lake = lakeops.open_lake(lake_root)
            start = time.perf_counter()
            lake.crawl(str(root), database="raw")
            first_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            lake.crawl(str(root), database="raw")
            again_times.append(time.perf_counter() - start)
            tables = lake.tables("raw")
        finally:
            shutil.rmtree(lake_root, ignore_errors=True)

    first, again = statistics.median(first_times), statistics.median(again_times)
    scaled = "" if count == FULL_FILES else f" (target scaled x{share:g} from 10,000 files)"
    note = f"{files:,} files → tables {', '.join(tables) or 'none'}; median of {runs}"
    if len(tables) != 2:
        note += "; EXPECTED 2 TABLES (sales, clicks)"
    return [
        Result(NAME, "first crawl", first, "s", "target", first_target, first / first_target,
               RATIO_TARGET, note + scaled),
        Result(NAME, "re-crawl, nothing new", again, "s", "target", again_target,
               again / again_target, RATIO_TARGET, note + scaled),
    ]  # fmt: skip
