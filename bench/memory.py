"""Peak memory converting a CSV four times larger than a memory budget.

A streaming conversion's peak should depend on its batch size, not on the input size. Each
conversion runs in its own child process and its peak resident set size is read from
``os.wait4`` (that child alone). Full scale: a 4 GiB CSV against a 1 GiB budget; small scale:
100 MiB against 25 MiB, where the interpreter and its imports alone exceed the budget, so
only the "growth over baseline" in the notes says anything there.

Measured: ``lakebed convert --to parquet`` (the CLI), ``crawl --convert`` into an Iceberg table,
and ``formats.read → Table.append``. For context, pandas ``read_csv`` of a budget-sized CSV.
Target: peak ÷ budget < 1.0.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pyarrow.parquet as pq

from bench import data
from bench.common import MB, ChildRun, Context, Result, Target, run_child

NAME = "memory"
TARGET = Target("<", 1.0)


def lakebed_cli() -> list[str]:
    """The ``lakebed`` command of this interpreter's environment."""
    exe = Path(sys.executable).with_name("lakebed")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "from lakebed.cli import main; main()"]


def _child(mode: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "bench._child", mode, *args]


def run(ctx: Context) -> list[Result]:
    scale = ctx.scale
    budget = scale.memory_budget_mb
    csv_path = data.wide_csv(scale.memory_csv_mb, data_dir=ctx.data_dir)
    size_mb = csv_path.stat().st_size / MB
    ctx.log(f"{NAME}: {size_mb:.0f} MiB CSV against a {budget:g} MiB budget")

    base = run_child(_child("baseline"))
    results = [
        Result(NAME, "baseline (imports only)", base.peak_rss_mb, "MiB", "budget", budget,
               base.peak_rss_mb / budget, None, "python + lakebed + pyarrow + pyiceberg imports")
    ]  # fmt: skip

    def measured(metric: str, argv: list[str], check: str = "") -> None:
        try:
            child = run_child(argv)
            rows = _rows(child) if not check else check_parquet_rows(Path(check))
        except Exception as exc:
            ctx.log(f"{NAME}: {metric} failed: {exc}\n{getattr(exc, 'stderr', '')[-3000:]}")
            results.append(
                Result(NAME, metric, float("nan"), "MiB", "budget", budget, target=TARGET,
                       note=f"failed: {exc}"[:300])
            )  # fmt: skip
            return
        growth = child.peak_rss_mb - base.peak_rss_mb
        note = (
            f"{size_mb:.0f} MiB CSV, {rows:,} rows in {child.seconds:.1f} s; "
            f"growth over baseline {growth:.0f} MiB ({growth / budget:.2f}x budget)"
        )
        results.append(
            Result(NAME, metric, child.peak_rss_mb, "MiB", "budget", budget,
                   child.peak_rss_mb / budget, TARGET, note)
        )  # fmt: skip

    out = ctx.workdir / "memory.parquet"
    lake_dir = ctx.workdir / "lake-memory"
    convert = [*lakebed_cli(), "--lake", str(lake_dir), "convert", str(csv_path), str(out)]
    measured("lakebed convert → parquet", [*convert, "--to", "parquet"], check=str(out))
    out.unlink(missing_ok=True)
    shutil.rmtree(lake_dir, ignore_errors=True)
    measured(
        "crawl --convert → iceberg", _child("crawl-convert", str(csv_path.parent), str(lake_dir))
    )
    shutil.rmtree(lake_dir, ignore_errors=True)
    measured("read → append → iceberg", _child("append", str(csv_path), str(lake_dir)))
    shutil.rmtree(lake_dir, ignore_errors=True)

    small = data.wide_csv(budget, data_dir=ctx.data_dir)
    pandas = run_child(_child("pandas", str(small)))
    results.append(
        Result(NAME, "pandas.read_csv (context)", pandas.peak_rss_mb, "MiB", "budget", budget,
               pandas.peak_rss_mb / budget, None,
               f"reads a {small.stat().st_size / MB:.0f} MiB CSV (budget-sized, not 4x) whole")
    )  # fmt: skip
    return results


def _rows(child: ChildRun) -> int:
    lines = child.stdout.strip().splitlines()
    return int(json.loads(lines[-1])["rows"]) if lines else -1


def check_parquet_rows(path: Path) -> int:
    """Rows in a Parquet file (proves the conversion wrote what it read)."""
    return int(pq.ParquetFile(path).metadata.num_rows)
