"""Deterministic benchmark inputs, generated once and cached under ``bench/data/``.

* :func:`wide_csv` writes a realistic event table (ints, floats, strings, timestamps, some
  nulls) of a requested size, streaming in chunks so a 4 GB file never sits in memory.
* :func:`small_files` writes many small CSV and JSON Lines files in ``key=value`` partition
  folders, the shape a crawler meets in a raw zone.

The same parameters give the same bytes (numpy's seeded PCG64), and the cache key holds every
parameter plus :data:`VERSION`, bumped whenever the generators change their output. A file is
written under a temporary name and renamed when complete, so an interrupted run never leaves a
truncated input in the cache.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from bench.common import DATA_DIR, MB

VERSION = 1
MAX_CHUNK_ROWS = 100_000
_EPOCH_2024 = np.datetime64("2024-01-01T00:00:00", "s")
_YEAR_SECONDS = 366 * 24 * 3600

COUNTRIES = ["DE", "US", "FR", "GB", "IN", "BR", "JP", "ES", "IT", "NL", "SE", "PL", "CA", "MX"]
COUNTRY_REGIONS = {
    "DE": "europe", "FR": "europe", "GB": "europe", "ES": "europe", "IT": "europe",
    "NL": "europe", "SE": "europe", "PL": "europe", "US": "americas", "BR": "americas",
    "CA": "americas", "MX": "americas", "IN": "asia", "JP": "asia",
}  # fmt: skip
_COUNTRY_WEIGHTS = np.array([9, 14, 7, 8, 10, 6, 5, 5, 5, 4, 3, 4, 4, 3], dtype=float)
DEVICES = ["mobile", "desktop", "tablet", "tv"]
CATEGORIES = [
    "books", "music", "garden", "toys", "kitchen", "sports", "health", "fashion",
    "electronics", "office", "pets", "automotive",
]  # fmt: skip
_WORDS = [
    "fast", "delivery", "great", "value", "broken", "box", "would", "buy", "again", "late",
    "arrived", "damaged", "perfect", "fit", "too", "small", "large", "colour", "faded",
    "works", "as", "described", "refund", "requested", "five", "stars", "gift",
]  # fmt: skip

WIDE_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("user_id", pa.int64()),
        ("event_time", pa.timestamp("s")),
        ("country", pa.string()),
        ("device", pa.string()),
        ("category", pa.string()),
        ("product", pa.string()),
        ("price", pa.float64()),
        ("quantity", pa.int64()),
        ("discount", pa.float64()),
        ("score", pa.float64()),
        ("rating", pa.int64()),
        ("is_member", pa.bool_()),
        ("session", pa.string()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("comment", pa.string()),
    ]
)


def _cache_path(data_dir: Path | None, name: str) -> Path:
    root = DATA_DIR if data_dir is None else data_dir
    root.mkdir(parents=True, exist_ok=True)
    return root / name


def _tmp_sibling(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _size_tag(size_mb: float) -> str:
    return f"{size_mb:g}".replace(".", "p")


# -- the wide CSV ----------------------------------------------------------------------------


def wide_csv_dir(size_mb: float, *, seed: int = 0, data_dir: Path | None = None) -> Path:
    """The folder holding :func:`wide_csv`'s file alone (what a crawl is pointed at)."""
    return _cache_path(data_dir, f"wide-{_size_tag(size_mb)}mb-seed{seed}-v{VERSION}")


def wide_csv(size_mb: float, *, seed: int = 0, data_dir: Path | None = None) -> Path:
    """A CSV of about ``size_mb`` MiB (never less) with :data:`WIDE_SCHEMA`; cached."""
    folder = wide_csv_dir(size_mb, seed=seed, data_dir=data_dir)
    path = folder / "events.csv"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_sibling(path)
    try:
        _write_wide_csv(tmp, int(size_mb * MB), seed)
        tmp.rename(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write_wide_csv(path: Path, target_bytes: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pools = _Pools(rng)
    written_rows = 0
    bytes_per_row = 180.0  # first guess; refined from what is written
    with path.open("wb") as sink, pacsv.CSVWriter(sink, WIDE_SCHEMA) as writer:
        while sink.tell() < target_bytes:
            remaining = target_bytes - sink.tell()
            rows = max(1, min(MAX_CHUNK_ROWS, math.ceil(remaining / bytes_per_row)))
            writer.write_table(_wide_chunk(rng, pools, written_rows, rows))
            written_rows += rows
            sink.flush()
            bytes_per_row = max(1.0, sink.tell() / written_rows)


class _Pools:
    """Precomputed string pools that chunks index into (cheap to take, realistic to read)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.countries = pa.array(COUNTRIES)
        self.country_p = _COUNTRY_WEIGHTS / _COUNTRY_WEIGHTS.sum()
        self.devices = pa.array(DEVICES)
        self.categories = pa.array(CATEGORIES)
        self.hex16 = pa.array([f"{i:04x}" for i in range(1 << 16)])
        comments = []
        for _ in range(4096):
            count = int(rng.integers(0, 7))
            comments.append(" ".join(rng.choice(_WORDS, size=count)) if count else "")
        self.comments = pa.array(comments)


def _wide_chunk(rng: np.random.Generator, pools: _Pools, start: int, rows: int) -> pa.Table:
    seconds = np.sort(rng.integers(0, _YEAR_SECONDS, size=rows))
    hexes = [pools.hex16.take(pa.array(rng.integers(0, 1 << 16, size=rows))) for _ in range(4)]
    sku = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 50_000, size=rows)), pa.string()), 6, "0")
    columns = [
        pa.array(np.arange(start, start + rows, dtype=np.int64)),
        pa.array(rng.zipf(1.3, size=rows) % 1_000_000 + 1),
        pa.array(_EPOCH_2024 + seconds.astype("timedelta64[s]")),
        pools.countries.take(pa.array(rng.choice(len(COUNTRIES), size=rows, p=pools.country_p))),
        pools.devices.take(pa.array(rng.integers(0, len(DEVICES), size=rows))),
        pools.categories.take(pa.array(rng.integers(0, len(CATEGORIES), size=rows))),
        pc.binary_join_element_wise("sku-", sku, ""),
        pa.array(np.round(rng.lognormal(3.0, 1.0, size=rows), 2)),
        pa.array(rng.integers(1, 10, size=rows)),
        pa.array(np.round(rng.integers(0, 6, size=rows) * 0.05, 2), mask=rng.random(rows) < 0.05),
        pa.array(rng.normal(0.0, 1.0, size=rows)),
        pa.array(rng.integers(1, 6, size=rows), mask=rng.random(rows) < 0.2),
        pa.array(rng.random(rows) < 0.3),
        pc.binary_join_element_wise(*hexes, ""),
        pa.array(np.round(rng.uniform(-60, 70, size=rows), 5)),
        pa.array(np.round(rng.uniform(-180, 180, size=rows), 5)),
        pools.comments.take(pa.array(rng.integers(0, len(pools.comments), size=rows))),
    ]
    return pa.Table.from_arrays(columns, schema=WIDE_SCHEMA)


def countries_table() -> pa.Table:
    """A small dimension table (country code → region) for join benchmarks."""
    codes = sorted(COUNTRY_REGIONS)
    return pa.table(
        {
            "code": codes,
            "region": [COUNTRY_REGIONS[c] for c in codes],
            "vat": [round(0.15 + 0.01 * i, 2) for i in range(len(codes))],
        }
    )


# -- many small files ------------------------------------------------------------------------


def small_files(count: int, *, seed: int = 0, data_dir: Path | None = None) -> Path:
    """A folder of ``count`` small files: half CSV, half JSON Lines, in partition folders.

    ``sales/year=Y/month=M/part-N.csv`` and ``clicks/date=D/region=R/part-N.jsonl``, each file
    5-30 rows, so a crawler finds two partitioned tables.
    """
    root = _cache_path(data_dir, f"small-files-{count}-seed{seed}-v{VERSION}")
    if root.exists():
        return root
    tmp = _tmp_sibling(root)
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        rng = np.random.default_rng(seed)
        csv_count = (count + 1) // 2
        _write_sales(tmp / "sales", csv_count, rng)
        _write_clicks(tmp / "clicks", count - csv_count, rng)
        tmp.rename(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _write_sales(root: Path, count: int, rng: np.random.Generator) -> None:
    statuses = ["paid", "shipped", "refunded", "cancelled"]
    order_id = 0
    for n in range(count):
        year, month = 2023 + (n % 24) // 12, (n % 12) + 1
        folder = root / f"year={year}" / f"month={month:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        rows = int(rng.integers(5, 31))
        lines = ["order_id,customer,amount,ordered_at,status"]
        for _ in range(rows):
            order_id += 1
            day = int(rng.integers(1, 29))
            lines.append(
                f"{order_id},cust-{int(rng.integers(0, 5000)):04d},"
                f"{float(rng.lognormal(3, 1)):.2f},"
                f"{year}-{month:02d}-{day:02d} {int(rng.integers(0, 24)):02d}:"
                f"{int(rng.integers(0, 60)):02d}:00,"
                f"{statuses[int(rng.integers(0, len(statuses)))]}"
            )
        (folder / f"part-{n:05d}.csv").write_text("\n".join(lines) + "\n")


def _write_clicks(root: Path, count: int, rng: np.random.Generator) -> None:
    regions = ["eu", "us", "apac"]
    pages = ["/", "/search", "/item", "/cart", "/checkout", "/help"]
    click_id = 0
    for n in range(count):
        day, region = (n // 3) % 28 + 1, regions[n % 3]
        folder = root / f"date=2024-02-{day:02d}" / f"region={region}"
        folder.mkdir(parents=True, exist_ok=True)
        rows = int(rng.integers(5, 31))
        lines = []
        for _ in range(rows):
            click_id += 1
            referrer = (
                None if rng.random() < 0.4 else f"https://ref{int(rng.integers(0, 50))}.example"
            )
            record = {
                "click_id": click_id,
                "user": f"u{int(rng.integers(0, 20_000))}",
                "url": pages[int(rng.integers(0, len(pages)))],
                "ts": f"2024-02-{day:02d}T{int(rng.integers(0, 24)):02d}:"
                f"{int(rng.integers(0, 60)):02d}:{int(rng.integers(0, 60)):02d}",
                "ms_on_page": int(rng.integers(50, 120_000)),
                "referrer": referrer,
            }
            lines.append(json.dumps(record, separators=(",", ":")))
        (folder / f"part-{n:05d}.jsonl").write_text("\n".join(lines) + "\n")


def tree_size(root: Path) -> tuple[int, int]:
    """(number of files, total bytes) under ``root``."""
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)
