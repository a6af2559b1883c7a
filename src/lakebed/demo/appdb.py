"""The shop's operational database for the demo: an SQLite file with an ``inventory`` table.

The quickstart loads it incrementally (merge on ``sku``, bookmark on ``updated_at``), then
changes a few rows and adds some, the way an application would, and loads again: only the
changed rows travel, and the lake table ends up equal to the source.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

START = datetime(2026, 11, 1, 8, 0, 0)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def create(path: Path, skus: Sequence[str], *, seed: int = 7) -> None:
    """Create the database with one inventory row per SKU."""
    rng = random.Random(seed)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE inventory (sku TEXT PRIMARY KEY, warehouse TEXT, stock INTEGER, "
            "updated_at TIMESTAMP)"
        )
        conn.executemany(
            "INSERT INTO inventory VALUES (?, ?, ?, ?)",
            [
                (sku, rng.choice(["north", "south"]), rng.randint(0, 500), _stamp(START))
                for sku in skus
            ],
        )
    conn.close()


def change(path: Path, *, updates: int, inserts: int, seed: int = 8) -> None:
    """Sell some stock and add new SKUs, stamping each change with a later ``updated_at``."""
    rng = random.Random(seed)
    later = START + timedelta(days=1)
    with sqlite3.connect(path) as conn:
        skus = [row[0] for row in conn.execute("SELECT sku FROM inventory ORDER BY sku")]
        for sku in rng.sample(skus, updates):
            conn.execute(
                "UPDATE inventory SET stock = max(stock - 5, 0), updated_at = ? WHERE sku = ?",
                (_stamp(later), sku),
            )
        conn.executemany(
            "INSERT INTO inventory VALUES (?, 'north', 100, ?)",
            [(f"SKU-ADD{i:02d}", _stamp(later)) for i in range(inserts)],
        )
    conn.close()
