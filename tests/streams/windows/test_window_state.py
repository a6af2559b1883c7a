"""Window state survives a restart exactly, and aggregation stays fast on 100k rows."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from lakebed.errors import ConfigError
from lakebed.streams.windows import WindowAggregator, WindowSpec

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

SPEC: dict[str, Any] = {
    "kind": "sliding",
    "size_s": 60,
    "slide_s": 20,
    "time_field": "ts",
    "keys": ["user"],
    "aggregations": {
        "n": "count(*)",
        "total": "sum(amount)",
        "mean": "avg(amount)",
        "hi": "max(when)",
        "users": "count_distinct(tag)",
        "first_tag": "first(tag)",
        "last_cost": "last(cost)",
    },
    "watermark_delay_s": 15,
    "allowed_lateness_s": 5,
}


def make_rows(count: int, seed: int) -> list[dict[str, Any]]:
    """Rows moving forward in time, out of order by up to ~40 s, a tenth of them ~2 min late."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        behind = rng.uniform(60, 150) if rng.random() < 0.1 else rng.uniform(0, 40)
        t = T0 + timedelta(seconds=i * 0.7 - behind)
        rows.append(
            {
                "ts": t.isoformat() if i % 2 else t,
                "user": rng.choice(["ann", "bob", None, 7]),
                "amount": rng.choice([1, 2.5, None, 10]),
                "when": date(2024, 1, 1 + i % 28),
                "tag": rng.choice([b"\x00x", "y", 3]),
                "cost": Decimal(i) / 4,
            }
        )
    return rows


def run(rows: list[dict[str, Any]], cuts: list[int]) -> tuple[list[Any], list[Any]]:
    """Aggregate ``rows`` in batches split at ``cuts``, saving and restoring the state into a
    new aggregator at each cut (as a restarted stream does); emitted rows and errors."""
    aggregator = WindowAggregator(WindowSpec(**SPEC))
    emitted: list[Any] = []
    errors: list[Any] = []
    bounds = [0, *cuts, len(rows)]
    for lo, hi in itertools.pairwise(bounds):
        for index, error in aggregator.add(rows[lo:hi]):
            errors.append((lo + index, error.kind, error.reason))
        emitted.extend(aggregator.emit())
        saved = aggregator.state()
        aggregator = WindowAggregator(WindowSpec(**SPEC))
        aggregator.restore(saved)
    emitted.extend(aggregator.flush_all())
    return emitted, errors


def test_restoring_and_continuing_gives_what_an_uninterrupted_run_gives() -> None:
    rows = make_rows(600, seed=1)
    expected_rows, expected_errors = run(rows, [])
    assert any(kind == "late" for _, kind, _ in expected_errors)
    assert len(expected_rows) > 50
    for seed in range(3):
        rng = random.Random(seed)
        cuts = sorted(rng.sample(range(1, len(rows)), 7))
        assert run(rows, cuts) == (expected_rows, expected_errors)


def test_state_is_compact_json() -> None:
    aggregator = WindowAggregator(WindowSpec(**SPEC))
    aggregator.add(make_rows(50, seed=2))
    saved = aggregator.state()
    document = json.loads(saved)
    assert document["max"] == (aggregator.watermark_us or 0) + 15_000_000
    assert b" " not in saved and len(saved) < 20_000


def test_restore_refuses_state_of_another_spec_or_garbage() -> None:
    aggregator = WindowAggregator(WindowSpec(**SPEC))
    other = WindowAggregator(WindowSpec(**{**SPEC, "keys": []}))
    with pytest.raises(ConfigError, match="different window spec"):
        other.restore(aggregator.state())
    with pytest.raises(ConfigError, match="not one saved by"):
        aggregator.restore(b"{oops")


def test_100k_rows_over_many_keys_all_land_in_their_windows() -> None:
    base = int(T0.timestamp() * 1000)
    rows = [
        {"ts": base + i * 10, "user": f"u{i % 50}", "amount": i % 7, "price": i * 0.5}
        for i in range(100_000)
    ]
    aggregator = WindowAggregator(
        WindowSpec(
            kind="tumbling",
            size_s=60,
            time_field="ts",
            keys=["user"],
            aggregations={"n": "count(*)", "total": "sum(amount)", "mean": "avg(price)"},
        )
    )
    assert aggregator.add(rows) == []
    emitted = aggregator.emit() + aggregator.flush_all()
    assert sum(r["n"] for r in emitted) == 100_000
    assert len(emitted) == 17 * 50  # 1000 s of rows in 60 s windows, 50 users
