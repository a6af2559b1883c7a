"""What every benchmark shares: scales, targets, results, timing and child-process helpers."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
RESULTS_DIR = BENCH_DIR / "results"

MB = 1024 * 1024


@dataclass(frozen=True)
class Scale:
    """Input sizes and repetition counts of one benchmark run.

    ``full`` holds the sizes the benchmark targets are stated for; ``small`` runs in seconds
    and only proves the benchmark code still works (its ratios are not meaningful).
    """

    name: str
    convert_csv_mb: float  # csv_to_iceberg input
    sql_csv_mb: float  # sql_overhead table size (as CSV)
    crawl_files: int  # crawl: number of small files
    memory_csv_mb: float  # memory: input CSV
    memory_budget_mb: float  # memory: the budget the peak is compared with
    runs: int  # timed runs per measurement (median reported)


SCALES: dict[str, Scale] = {
    "small": Scale(
        name="small",
        convert_csv_mb=16,
        sql_csv_mb=8,
        crawl_files=300,
        memory_csv_mb=100,
        memory_budget_mb=25,
        runs=3,
    ),
    "full": Scale(
        name="full",
        convert_csv_mb=1024,
        sql_csv_mb=1024,
        crawl_files=10_000,
        memory_csv_mb=4096,
        memory_budget_mb=1024,
        runs=5,
    ),
}


@dataclass(frozen=True)
class Target:
    """A pass condition on a ratio, e.g. ``Target(">=", 0.7)``."""

    op: Literal[">=", "<=", "<"]
    threshold: float

    def check(self, ratio: float) -> bool:
        if self.op == ">=":
            return ratio >= self.threshold
        if self.op == "<=":
            return ratio <= self.threshold
        return ratio < self.threshold

    def __str__(self) -> str:
        return f"{self.op} {self.threshold:g}"


@dataclass
class Result:
    """One measured figure, its peer figure in the same run, and the verdict."""

    bench: str
    metric: str
    value: float
    unit: str
    peer: str = ""
    peer_value: float | None = None
    ratio: float | None = None
    target: Target | None = None
    note: str = ""

    @property
    def passed(self) -> bool | None:
        if self.target is None or self.ratio is None:
            return None
        return self.target.check(self.ratio)


@dataclass
class Context:
    """Where a benchmark may write and how big it should be."""

    scale: Scale
    workdir: Path  # scratch space for lakes and outputs, removed after the run
    data_dir: Path = DATA_DIR  # cached generated inputs
    log: Callable[[str], None] = field(default=lambda msg: print(msg, file=sys.stderr))


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes (wall clock)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cpu_seconds() -> float:
    """CPU seconds this process has used so far, on all its threads (user and system)."""
    times = os.times()
    return times.user + times.system


def median_seconds(fn: Callable[[], object], runs: int, *, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``runs`` calls after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    return statistics.median(timed(fn) for _ in range(runs))


def warm_page_cache(path: Path) -> None:
    """Read a file once so that every contender starts with it in the OS page cache."""
    with path.open("rb") as handle:
        while handle.read(16 * MB):
            pass


def geometric_mean(values: Sequence[float]) -> float:
    return statistics.geometric_mean(values) if values else float("nan")


@dataclass(frozen=True)
class ChildRun:
    """A finished child process: its peak resident set size and wall time."""

    peak_rss_mb: float
    seconds: float
    stdout: str
    stderr: str


class ChildFailed(RuntimeError):
    """A benchmark child exited non-zero; the message is its last stderr line."""

    def __init__(self, message: str, stderr: str) -> None:
        super().__init__(message)
        self.stderr = stderr


# Spawns the measured command from a tiny interpreter and reports that command's peak RSS.
_LAUNCHER = """
import os, sys
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_child(argv: Sequence[str], *, cwd: Path = REPO_ROOT) -> ChildRun:
    """Run ``argv`` to completion and measure that one process's peak RSS.

    Linux starts a child's ``ru_maxrss`` at its parent's resident size at fork (the high-water
    mark of the copied address space survives ``exec``), so a command started straight from
    this big benchmark process would report at least this process's size. The command is
    therefore spawned by a small launcher (``python -S``, ~10 MiB), which reads the command's
    own usage from ``os.wait4``.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    with (
        tempfile.TemporaryDirectory(prefix="bench-child-") as tmp,
        open(os.devnull, "rb") as stdin,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        usage_file = Path(tmp) / "maxrss"
        launcher = [sys.executable, "-S", "-c", _LAUNCHER, str(usage_file), *argv]
        start = time.perf_counter()
        code = subprocess.call(launcher, cwd=cwd, env=env, stdin=stdin, stdout=out, stderr=err)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        if code != 0:
            last = stderr.strip().splitlines()[-1] if stderr.strip() else "(no output)"
            raise ChildFailed(f"{last} (child `{' '.join(argv)}` exited {code})", stderr)
        kib = int(usage_file.read_text())  # Linux reports ru_maxrss in KiB
    return ChildRun(kib / 1024, seconds, stdout, stderr)


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a results table: ``-`` for missing, else up to ``digits`` significant."""
    if value is None:
        return "-"
    if value != value:  # NaN
        return "nan"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"
