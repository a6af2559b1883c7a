"""A PostgreSQL table → lake table with ``lake.ingest``, against pandas and connectorx.

A throw-away PostgreSQL server (``tests/servers/postgres.py``'s :func:`run_postgres`, on
localhost) holds ``orders``: 11 columns of mixed types (bigint, integer, smallint, numeric,
double, text, char, boolean, timestamp, timestamptz; some nulls), filled server-side with
``generate_series``. Full scale: 5 M rows; small: 200 k.

* pandas: ``pandas.read_sql("SELECT * FROM orders", sqlalchemy_engine).to_parquet(...)``, the
  everyday notebook path. Target: lakebed rows/s ÷ pandas rows/s ≥ 3.
* connectorx: ``connectorx.read_sql(url, ..., return_type="arrow")`` +
  ``pyarrow.parquet.write_table``, the fastest Python reader we know; ratios reported, no
  target. Measured twice: with its defaults (one connection), and split on ``id`` into 2
  partitions read at once, which is what lakebed does by default (it splits on an integer
  primary key and reads ``parallelism=2`` ranges at a time).

lakebed runs with its defaults and also commits an Iceberg snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

import pyarrow as pa
import pyarrow.parquet as pq

from bench import _ingest_data
from bench._ingest_common import Measured, interleaved, throughput_results, timed_ingest
from bench.common import Context, Result, Target

NAME = "ingest_db"
ROWS = {"small": 200_000, "full": 5_000_000}
QUERY = "SELECT * FROM orders"
PANDAS, LAKEBED = "pandas read_sql", "lake.ingest"
CONNECTORX, CONNECTORX_2 = "connectorx arrow", "connectorx arrow, 2 partitions"
PEERS: dict[str, Target | None] = {PANDAS: Target(">=", 3.0), CONNECTORX: None, CONNECTORX_2: None}


@contextmanager
def postgres() -> Iterator[str]:
    """A running throw-away server's URL (its start-up failures as plain exceptions)."""
    import pytest
    from tests.servers.postgres import run_postgres

    try:
        with run_postgres(database="bench") as server:
            yield server.url()
    except pytest.fail.Exception as exc:  # the helper fails tests; here it is an error
        raise RuntimeError(f"could not run PostgreSQL: {exc}") from None


def pandas_copy(url: str, out: str) -> int:
    import pandas as pd
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        frame = pd.read_sql(QUERY, engine)
    finally:
        engine.dispose()
    frame.to_parquet(out)
    return len(frame)


def connectorx_copy(url: str, out: str, partitions: int = 1) -> int:
    import connectorx

    split = partitions > 1
    table = connectorx.read_sql(
        url,
        QUERY,
        return_type="arrow",
        partition_on="id" if split else None,
        partition_num=partitions if split else None,
    )
    if not isinstance(table, pa.Table):
        raise TypeError(f"connectorx returned a {type(table).__name__}, not an Arrow table")
    pq.write_table(table, out)
    return table.num_rows


def run(ctx: Context) -> list[Result]:
    rows = ROWS[ctx.scale.name]
    runs = min(ctx.scale.runs, 3)
    with postgres() as url:
        start = time.perf_counter()
        _ingest_data.load_orders(url, rows)
        ctx.log(
            f"{NAME}: loaded {rows:,} rows into PostgreSQL in {time.perf_counter() - start:.1f} s"
        )

        def peer(copy: Callable[[str, str], int]) -> Callable[[int], Measured]:
            def timed_copy(i: int) -> Measured:
                out = ctx.workdir / f"peer-{i}.parquet"
                try:
                    start = time.perf_counter()
                    n = copy(url, str(out))
                    return time.perf_counter() - start, n
                finally:
                    out.unlink(missing_ok=True)

            return timed_copy

        def lakebed(i: int) -> Measured:
            root = ctx.workdir / f"lake-{i}"
            return timed_ingest(root, url, "bench.orders", table="orders")

        contenders = {
            PANDAS: peer(pandas_copy),
            CONNECTORX: peer(connectorx_copy),
            CONNECTORX_2: peer(partial(connectorx_copy, partitions=2)),
            LAKEBED: lakebed,
        }
        seconds, counts, errors = interleaved(ctx, NAME, contenders, runs)
    note = f"{rows:,} rows x 11 columns from PostgreSQL on localhost"
    return throughput_results(
        NAME, LAKEBED, PEERS, seconds, counts, errors, size=rows, unit="rows/s", note=note
    )
