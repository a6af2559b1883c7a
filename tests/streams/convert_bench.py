"""Micro-benchmark (not a test): Converter.convert against plain pa.Table.from_pylist.

Run: ``.venv/bin/python tests/streams/convert_bench.py`` — 100k JSON rows of ~1 KB each
(26 columns), decoded once, then converted by each contender (best of 3, in CPU time since the
machine may be shared). ``from_pylist`` is the floor: it checks nothing (unknown fields and
nulls in required columns pass silently, epoch-ms ints in a timestamp column would be read as
microseconds).

Measured 2026-11-23 on the 2-core dev box (CPU time): epoch-ms timestamps 1.11x of
from_pylist (~72k rows/s), ISO-8601 string timestamps 1.02x (~90k rows/s).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pyarrow as pa

from lakebed.streams.convert import Converter

N = 100_000
SCHEMA = pa.schema(
    [pa.field("id", pa.int64(), nullable=False), pa.field("at", pa.timestamp("us", tz="UTC"))]
    + [pa.field(f"s{i}", pa.large_string()) for i in range(12)]
    + [pa.field(f"n{i}", pa.float64()) for i in range(6)]
    + [pa.field(f"k{i}", pa.int64()) for i in range(6)]
)


def make_rows(iso: bool) -> list[dict[str, object]]:
    raw = []
    for i in range(N):
        row: dict[str, object] = {"id": i}
        row["at"] = f"2024-05-01T12:{i % 60:02d}:00+00:00" if iso else 1714564800000 + i
        row.update({f"s{j}": f"value-{i}-{j}-" + "x" * 50 for j in range(12)})
        row.update({f"n{j}": i * 0.5 + j for j in range(6)})
        row.update({f"k{j}": i * 7 + j for j in range(6)})
        raw.append(json.dumps(row).encode())
    print(f"record size ~{sum(map(len, raw)) // N} bytes")
    return [json.loads(r) for r in raw]


def best(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    converter = Converter(SCHEMA)
    pa.array([1]).cast(pa.float64())  # warm Arrow's compute registry once
    for iso in (False, True):
        rows = make_rows(iso)
        plain_schema = SCHEMA if not iso else SCHEMA.set(1, pa.field("at", pa.large_string()))
        floor = best(lambda: pa.Table.from_pylist(rows, schema=plain_schema))  # noqa: B023
        ours = best(lambda: converter.convert(rows))  # noqa: B023
        label = "ISO-string timestamps" if iso else "epoch-ms timestamps"
        print(
            f"{label}: from_pylist {floor * 1000:.0f} ms, convert {ours * 1000:.0f} ms "
            f"({ours / floor:.2f}x), {N / ours:,.0f} rows/s"
        )


if __name__ == "__main__":
    main()
