"""Inputs of the ingestion and compaction benchmarks.

* :func:`csv_folder`: a folder of same-schema CSV files (:data:`bench.data.WIDE_SCHEMA`), the
  shape of a daily export; cached under ``bench/data/`` like every other generated input.
* :func:`load_orders`: an ``orders`` table of mixed column types in a PostgreSQL database,
  filled server-side from ``generate_series`` (no rows travel through Python).
* :func:`write_small_parquet`: many small Parquet files, what a stream of micro-batch appends
  leaves behind; written fresh into the scratch folder because the benchmark commits them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench import data
from bench.common import MB

VERSION = 1


def csv_folder(total_mb: float, files: int, *, data_dir: Path | None = None) -> Path:
    """A folder of ``files`` CSV files of ``total_mb`` MiB together (each seeded by its index)."""
    root = (data_dir or data.DATA_DIR) / f"csv-folder-{total_mb:g}mb-{files}files-v{VERSION}"
    if root.exists():
        return root
    tmp = root.with_name(f".{root.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for i in range(files):
            data._write_wide_csv(tmp / f"part-{i:04d}.csv", int(total_mb * MB / files), seed=i)
        tmp.rename(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


# -- PostgreSQL ------------------------------------------------------------------------------

ORDERS_DDL = """
CREATE TABLE orders (
    id          bigint PRIMARY KEY,
    customer_id integer NOT NULL,
    status      text NOT NULL,
    amount      numeric(12, 2) NOT NULL,
    quantity    smallint NOT NULL,
    discount    double precision,
    created_at  timestamp NOT NULL,
    shipped_at  timestamptz,
    country     char(2) NOT NULL,
    is_gift     boolean NOT NULL,
    note        text
)
"""

# Deterministic (setseed) and all server-side: ~1 s per million rows on one core.
ORDERS_FILL = """
SELECT setseed(0.42);
INSERT INTO orders
SELECT g,
       1 + (g::bigint * 7919) % 250000,
       (ARRAY['new', 'paid', 'shipped', 'delivered', 'refunded', 'cancelled'])[1 + g % 6],
       round((random() * 900 + 1)::numeric, 2),
       1 + g % 9,
       CASE WHEN g % 7 = 0 THEN NULL ELSE round(random()::numeric, 2)::float8 END,
       timestamp '2023-01-01' + g * interval '5 seconds',
       CASE WHEN g % 4 = 0 THEN NULL
            ELSE timestamptz '2023-01-03 00:00+00' + g * interval '5 seconds' END,
       (ARRAY['DE', 'US', 'FR', 'GB', 'IN', 'BR', 'JP', 'ES', 'IT', 'NL'])[1 + g % 10],
       g % 10 = 0,
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'deliver to door ' || md5(g::text) END
FROM generate_series(1, {rows}) AS g;
ANALYZE orders;
"""


def load_orders(url: str, rows: int) -> None:
    """Create and fill ``orders`` with ``rows`` rows in the database ``url`` names."""
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(ORDERS_DDL)
            cur.execute(ORDERS_FILL.format(rows=int(rows)))  # no params: % is literal
    finally:
        conn.close()


# -- many small Parquet files ----------------------------------------------------------------


def _wide_tables(rows: int, seed: int) -> Iterator[pa.Table]:
    rng = np.random.default_rng(seed)
    pools = data._Pools(rng)
    for start in range(0, rows, data.MAX_CHUNK_ROWS):
        yield data._wide_chunk(rng, pools, start, min(data.MAX_CHUNK_ROWS, rows - start))


#: :data:`bench.data.WIDE_SCHEMA` with microsecond timestamps (Iceberg's unit).
SMALL_SCHEMA = pa.schema(
    [f.with_type(pa.timestamp("us")) if pa.types.is_timestamp(f.type) else f
     for f in data.WIDE_SCHEMA]
)  # fmt: skip


def write_small_parquet(folder: Path, count: int, rows_per_file: int, seed: int = 0) -> list[Path]:
    """``count`` Parquet files of ``rows_per_file`` rows each (:data:`SMALL_SCHEMA`), holding
    consecutive ``id`` ranges, as a stream of micro-batch appends would."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for wide in _wide_tables(count * rows_per_file, seed):
        chunk = wide.cast(SMALL_SCHEMA)
        for offset in range(0, chunk.num_rows, rows_per_file):
            path = folder / f"append-{len(paths):05d}.parquet"
            pq.write_table(chunk.slice(offset, rows_per_file), path)
            paths.append(path)
    return paths
