"""What the ingestion and compaction benchmarks share: the lakebed call, timing, disk checks.

``lake.ingest`` is the one lakebed path these benchmarks time; :func:`ingest` calls it and
checks its report, so a load that quietly wrote nothing cannot pass as fast.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import lakeops
from bench.common import MB, Context, Result, Target

if TYPE_CHECKING:
    from lakebed.ingest.report import IngestReport
    from lakebed.lake import Lake

#: What one timed run returns: (seconds, rows written).
Measured = tuple[float, int]


def ingest(lake: Lake, source: str, into: str, **options: Any) -> IngestReport:
    """``lake.ingest(source, into=...)``; raises unless it succeeded and reconciles."""
    report: IngestReport = lake.ingest(source, into=into, **options)
    if report.status != "succeeded" or not report.reconciles:
        raise RuntimeError(
            f"lake.ingest({source!r}) ended {report.status!r} "
            f"(read {report.rows_read:,}, wrote {report.rows_written:,}, "
            f"quarantined {report.rows_quarantined:,}): {report.error or report.notes}"
        )
    if report.rows_quarantined:
        raise RuntimeError(f"lake.ingest({source!r}) quarantined {report.rows_quarantined:,} rows")
    return report


def timed_ingest(root: Path, source: str, into: str, **options: Any) -> Measured:
    """Time ``lake.ingest`` into a new lake (created untimed), then delete the lake."""
    try:
        lake = lakeops.open_lake(root)
        start = time.perf_counter()
        report = ingest(lake, source, into, **options)
        return time.perf_counter() - start, report.rows_written
    finally:
        shutil.rmtree(root, ignore_errors=True)


def interleaved(
    ctx: Context, name: str, contenders: Mapping[str, Callable[[int], Measured]], runs: int
) -> tuple[dict[str, list[float]], dict[str, int], dict[str, str]]:
    """Run every contender ``runs`` times, interleaved so machine-load drift hits all alike.

    Returns seconds per contender, rows per contender and the error of each that failed (a
    failed contender is not run again; the others still are).
    """
    seconds: dict[str, list[float]] = {c: [] for c in contenders}
    rows: dict[str, int] = {}
    errors: dict[str, str] = {}
    for i in range(runs):
        for contender, fn in contenders.items():
            if contender in errors:
                continue
            try:
                took, rows[contender] = fn(i)
            except Exception as exc:
                errors[contender] = f"{type(exc).__name__}: {exc}"
                ctx.log(f"{name}: {contender} failed: {errors[contender]}")
                continue
            seconds[contender].append(took)
            ctx.log(
                f"{name}: run {i + 1}/{runs} {contender}: {took:.2f} s, {rows[contender]:,} rows"
            )
    return seconds, rows, errors


def throughput_results(
    name: str,
    ours: str,
    peers: Mapping[str, Target | None],
    seconds: Mapping[str, list[float]],
    rows: Mapping[str, int],
    errors: Mapping[str, str],
    *,
    size: float,
    unit: str,
    note: str,
) -> list[Result]:
    """One row per peer: lakebed's ``size``/median-seconds against the peer's, same run."""
    results = []
    for peer, target in peers.items():
        failed = errors.get(ours) or errors.get(peer)
        if failed:
            who = ours if ours in errors else peer
            results.append(
                Result(name, f"{ours} vs {peer}", float("nan"), unit, peer, target=target,
                       note=f"failed: {who}: {failed}"[:300])
            )  # fmt: skip
            continue
        value = size / statistics.median(seconds[ours])
        peer_value = size / statistics.median(seconds[peer])
        text = f"{note}; median of {len(seconds[ours])}"
        if rows[ours] != rows[peer]:
            text += f"; ROW COUNT DIFFERS: lakebed {rows[ours]:,}, {peer} {rows[peer]:,}"
        results.append(
            Result(name, f"{ours} vs {peer}", value, unit, peer, peer_value, value / peer_value,
                   target, text)
        )  # fmt: skip
    return results


def require_free_disk(folder: Path, needed_bytes: int, what: str) -> None:
    """Fail with a clear message when ``folder``'s file system has less than ``needed_bytes``."""
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < needed_bytes:
        raise RuntimeError(
            f"{what} needs {needed_bytes / MB / 1024:.1f} GiB free under {folder}, "
            f"only {free / MB / 1024:.1f} GiB is; free space there or pass --data-dir/--workdir "
            "on a bigger disk"
        )


def folder_bytes(folder: Path, pattern: str = "*") -> int:
    return sum(p.stat().st_size for p in folder.glob(pattern) if p.is_file())
