"""Messy customer-order rows for the recipe benchmark, as Parquet files (cached).

Text with padding and mixed case, nulls, outliers, dates in several formats, duplicates:
what a cleaning recipe meets. Generated with numpy in chunks of 1M rows, one file per chunk.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.data import _cache_path, _tmp_sibling

CHUNK = 1_000_000
VERSION = 1
CITIES = np.array(["Paris", " berlin", "ROME ", "madrid", "Oslo", "paris", "Lisbon", None])
NAMES = np.array(["alice smith", "  BOB JONES", "Carol White ", "dave o'neil", "Eve", None])
PLANS = np.array(["free", "pro", "team", "enterprise"])
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y")


def _pick(rng: np.random.Generator, values: np.ndarray, rows: int) -> pa.Array:
    """``rows`` values drawn from ``values`` (a dictionary decode: fast for millions)."""
    indices = pa.array(rng.integers(0, len(values), rows).astype("int32"))
    dictionary = pa.array(list(values), pa.string())
    return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())


def _chunk(rng: np.random.Generator, start: int, rows: int) -> pa.Table:
    ids = np.arange(start, start + rows, dtype=np.int64)
    # about 2% of the rows repeat an earlier id in the chunk (duplicates to remove)
    dup = rng.random(rows) < 0.02
    ids[dup] = rng.integers(start, start + rows, int(dup.sum()))
    price = np.round(rng.lognormal(3.0, 0.5, rows), 2)
    price[rng.random(rows) < 0.05] = np.nan
    price[rng.random(rows) < 0.002] *= 100  # outliers
    qty = rng.integers(1, 10, rows).astype("float64")
    qty[rng.random(rows) < 0.03] = np.nan
    days = pa.array(rng.integers(19000, 19000 + 3 * 365, rows).astype("int32"), pa.date32())
    stamps = pc.cast(days, pa.timestamp("s"))
    formats = [pc.strftime(stamps, format=f) for f in DATE_FORMATS]
    kind = pa.array(rng.integers(0, len(DATE_FORMATS) + 2, rows).astype("int8"))
    signup = pc.choose(kind, *formats, pa.nulls(rows, pa.string()), pa.repeat("not a date", rows))
    id_text = pc.cast(pa.array(ids), pa.string())
    email = pc.binary_join_element_wise("user", id_text, "@Example.COM", "")
    return pa.table(
        {
            "id": pa.array(ids),
            "name": _pick(rng, NAMES, rows),
            "email": email,
            "city": _pick(rng, CITIES, rows),
            "plan": _pick(rng, PLANS, rows),
            "price": pa.array(price, pa.float64(), from_pandas=True),
            "qty": pa.array(qty, pa.float64(), from_pandas=True),
            "signup": signup,
            "score": pa.array(rng.normal(50, 15, rows)),
            "churned": pa.array(rng.random(rows) < 0.1),
        }
    )


def orders(rows: int, *, data_dir: Path | None = None) -> Path:
    """A folder of Parquet files holding ``rows`` messy order rows; cached by size."""
    folder = _cache_path(data_dir, f"recipe-orders-{rows}-v{VERSION}")
    if folder.exists():
        return folder
    tmp = _tmp_sibling(folder)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    rng = np.random.default_rng(7)
    try:
        for n, start in enumerate(range(0, rows, CHUNK)):
            table = _chunk(rng, start, min(CHUNK, rows - start))
            pq.write_table(table, tmp / f"part-{n:04d}.parquet")
        tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
