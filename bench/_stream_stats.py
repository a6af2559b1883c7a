"""What the streaming benchmarks share: CPU-time accounting, percentiles and result rows.

A :class:`Run` is one timed pass of a contender: records handled, wall seconds and the CPU
seconds this process spent (``getrusage``, every thread, so librdkafka's threads count too).
Records per CPU-second is records/s divided by the cores the process kept busy.
"""

from __future__ import annotations

import math
import resource
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.common import Result, Target


def cpu_seconds() -> float:
    """User + system CPU seconds this process (all its threads) has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Run:
    """One timed pass: ``records`` in ``seconds`` of wall time using ``cpu`` CPU-seconds."""

    records: int
    seconds: float
    cpu: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else math.nan

    @property
    def cores(self) -> float:
        """Average cores busy during the pass."""
        return self.cpu / self.seconds if self.seconds > 0 else math.nan

    @property
    def per_core(self) -> float:
        """Records/s divided by the cores used: records per CPU-second."""
        return self.records / self.cpu if self.cpu > 0 else math.nan


def median_run(runs: Sequence[Run]) -> Run:
    """The run of median wall time (its own CPU time with it, not a mix of runs)."""
    if not runs:
        raise ValueError("no runs to take the median of")
    ordered = sorted(runs, key=lambda r: r.seconds)
    return ordered[(len(ordered) - 1) // 2]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def throughput_result(
    bench: str,
    metric: str,
    ours: Sequence[Run],
    peer_name: str,
    peer: Sequence[Run],
    *,
    target: Target | None,
    note: str,
) -> Result:
    """records/s of the median runs, ours against the peer's, with CPU use in the note."""
    mine, theirs = median_run(ours), median_run(peer)
    text = f"{note}; median of {len(ours)}"
    if not (math.isnan(mine.cores) or math.isnan(theirs.cores)):
        text += f"; cores used {mine.cores:.2f} vs {theirs.cores:.2f}"
    text += (
        f"; all runs {', '.join(f'{r.rate:,.0f}' for r in ours)} vs "
        f"{', '.join(f'{r.rate:,.0f}' for r in peer)} records/s"
    )
    if mine.records != theirs.records:
        text += f"; RECORD COUNT DIFFERS: {mine.records:,} vs {theirs.records:,}"
    return Result(bench, metric, mine.rate, "records/s", peer_name, theirs.rate,
                  mine.rate / theirs.rate, target, text)  # fmt: skip


def per_core_result(
    bench: str, metric: str, ours: Sequence[Run], peer_name: str, peer: Sequence[Run]
) -> Result:
    """Records per CPU-second (records/s ÷ cores used) of the median runs."""
    mine, theirs = median_run(ours), median_run(peer)
    return Result(bench, metric, mine.per_core, "records/s/core", peer_name, theirs.per_core,
                  mine.per_core / theirs.per_core,
                  note=f"records ÷ process CPU seconds (median-time run: "
                  f"{mine.cpu:.1f} vs {theirs.cpu:.1f} CPU-s)")  # fmt: skip


def latency_result(
    bench: str,
    metric: str,
    ours_ms: float,
    peer_name: str = "",
    peer_ms: float | None = None,
    *,
    target: Target | None = None,
    note: str = "",
) -> Result:
    """A latency in ms; with a peer, the ratio is ours ÷ the peer's (lower is better)."""
    ratio = None
    if peer_ms is not None and peer_ms > 0 and not math.isnan(ours_ms):
        ratio = ours_ms / peer_ms
    return Result(bench, metric, ours_ms, "ms", peer_name, peer_ms, ratio, target, note)


def failed_result(bench: str, metric: str, unit: str, errors: Mapping[str, str]) -> Result:
    """A row saying which contender failed and how."""
    text = "; ".join(f"{who}: {why}" for who, why in errors.items())
    return Result(bench, metric, math.nan, unit, note=f"failed: {text}"[:300])


def spread(values: Sequence[float]) -> str:
    """``min-max`` of a few numbers, for notes."""
    if not values:
        return "-"
    return f"{min(values):,.0f}-{max(values):,.0f}" if len(values) > 1 else f"{values[0]:,.0f}"
