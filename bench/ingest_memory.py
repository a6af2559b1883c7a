"""Peak memory of ``lake.ingest`` does not grow with the input: three CSV sizes, one peak.

Each load of one CSV file (:func:`bench.data.wide_csv`) into a new Iceberg table runs in its own
child process, whose peak resident set size is read from ``os.wait4``. A streaming load's peak
depends on its batch and file sizes, not on the input, so the three peaks should agree.
Full scale: 1, 4 and 8 GiB; small: 50, 100 and 200 MiB.

Target: largest peak ÷ smallest peak ≤ 1.2 (flat within 20 %).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from bench import data
from bench._ingest_common import require_free_disk
from bench.common import MB, Context, Result, Target, run_child

NAME = "ingest_memory"
SIZES_MB = {"small": (50, 100, 200), "full": (1024, 4096, 8192)}
TARGET = Target("<=", 1.2)


def _child(mode: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "bench._ingest_child", mode, *args]


def _check_disk(ctx: Context, sizes: tuple[int, ...]) -> None:
    """Room for the inputs not yet cached, plus the largest load's table (~half its CSV)."""
    missing = sum(s for s in sizes if not data.wide_csv_dir(s, data_dir=ctx.data_dir).exists())
    ctx.data_dir.mkdir(parents=True, exist_ok=True)
    output = max(sizes) // 2 + 512
    if os.stat(ctx.data_dir).st_dev == os.stat(ctx.workdir).st_dev:
        require_free_disk(ctx.data_dir, (missing + output) * MB, f"{NAME} (inputs and output)")
    else:
        require_free_disk(ctx.data_dir, missing * MB, f"{NAME} (inputs)")
        require_free_disk(ctx.workdir, output * MB, f"{NAME} (output)")


def run(ctx: Context) -> list[Result]:
    sizes = SIZES_MB[ctx.scale.name]
    _check_disk(ctx, sizes)
    inputs = [data.wide_csv(size, data_dir=ctx.data_dir) for size in sizes]
    base = run_child(_child("baseline"))
    ctx.log(f"{NAME}: baseline (imports only) {base.peak_rss_mb:.0f} MiB")
    peaks: list[tuple[Path, float, str]] = []
    for csv_path in inputs:
        lake = ctx.workdir / "lake"
        try:
            child = run_child(_child("ingest", str(csv_path), str(lake), "bench.events"))
        except Exception as exc:
            ctx.log(f"{NAME}: {csv_path} failed: {exc}\n{getattr(exc, 'stderr', '')[-3000:]}")
            raise
        finally:
            shutil.rmtree(lake, ignore_errors=True)
        done = json.loads(child.stdout.strip().splitlines()[-1])
        size_mb = csv_path.stat().st_size / MB
        growth = child.peak_rss_mb - base.peak_rss_mb
        note = (
            f"{size_mb:,.0f} MiB CSV, {done['rows']:,} rows, {done['data_files']} data files in "
            f"{child.seconds:.1f} s; growth over baseline {growth:.0f} MiB"
        )
        ctx.log(f"{NAME}: {size_mb:,.0f} MiB → peak {child.peak_rss_mb:.0f} MiB")
        peaks.append((csv_path, child.peak_rss_mb, note))

    low = min(peak for _, peak, _ in peaks)
    high = max(peak for _, peak, _ in peaks)
    results = [
        Result(NAME, "baseline (imports only)", base.peak_rss_mb, "MiB",
               note="python + lakebed + pyarrow + pyiceberg imports")
    ]  # fmt: skip
    for csv_path, peak, note in peaks:
        metric = f"peak RSS, {csv_path.stat().st_size / MB:,.0f} MiB CSV"
        results.append(
            Result(NAME, metric, peak, "MiB", "lowest peak", low, peak / low, None, note)
        )
    results.append(
        Result(NAME, "largest ÷ smallest peak", high, "MiB", "lowest peak", low, high / low,
               TARGET, f"inputs {' / '.join(f'{s:g}' for s in sizes)} MiB")
    )  # fmt: skip
    return results
