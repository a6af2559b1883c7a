"""SQL over lake tables, against DuckDB reading the same Parquet data files directly.

lakebed's ``lake.sql`` resolves table names in the catalog, plans the Iceberg scan and then
runs DuckDB; the peer is DuckDB given the table's data files as ``read_parquet([...])`` on one
open connection, i.e. no catalog at all. The ratio is therefore lakebed's whole overhead:
catalog lookups, scan planning, connection setup and result conversion.

Each query is warmed up once per contender, then timed ``runs`` times interleaved; the median
is reported per query and the geometric mean of the per-query ratios overall.
Target: lakebed time ÷ DuckDB time ≤ 1.2.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import pyarrow as pa

from bench import data, lakeops
from bench.common import Context, Result, Target, geometric_mean, timed

if TYPE_CHECKING:
    import duckdb

NAME = "sql_overhead"
TARGET = Target("<=", 1.2)

#: name → SQL with ``{events}`` and ``{countries}`` standing for the two tables.
QUERIES: dict[str, str] = {
    "filter_count": (
        "SELECT count(*) AS n FROM {events} WHERE price > 50 AND country = 'DE' AND is_member"
    ),
    "group_by": (
        "SELECT country, count(*) AS n, avg(price) AS avg_price, sum(quantity) AS qty "
        "FROM {events} GROUP BY country ORDER BY country"
    ),
    "daily_revenue": (
        "SELECT date_trunc('day', event_time) AS day, sum(price * quantity) AS revenue "
        "FROM {events} GROUP BY day ORDER BY day"
    ),
    "top_users": (
        "SELECT user_id, sum(price * quantity) AS spend FROM {events} "
        "GROUP BY user_id ORDER BY spend DESC, user_id LIMIT 10"
    ),
    "join_regions": (
        "SELECT c.region, count(*) AS n, avg(e.score) AS score, sum(e.price * c.vat) AS vat "
        "FROM {events} e JOIN {countries} c ON e.country = c.code "
        "GROUP BY c.region ORDER BY c.region"
    ),
    "point_lookup": (
        "SELECT id, price, device, comment FROM {events} "
        "WHERE id BETWEEN 100000 AND 100100 ORDER BY id"
    ),
}


def _parquet_list(paths: list[str]) -> str:
    return "read_parquet([" + ", ".join(f"'{p}'" for p in paths) + "])"


def run(ctx: Context) -> list[Result]:
    import duckdb

    csv_path = data.wide_csv(ctx.scale.sql_csv_mb, data_dir=ctx.data_dir)
    lake = lakeops.open_lake(ctx.workdir / "lake-sql")
    start = time.perf_counter()
    events = lakeops.append_csv(lake, "bench.events", csv_path)
    countries = lake.create_table("bench.countries", data.countries_table())
    ctx.log(
        f"{NAME}: loaded {events.stats().rows:,} rows in {time.perf_counter() - start:.1f} s; "
        f"{ctx.scale.runs} runs per query"
    )
    lake_sources = {"events": "bench.events", "countries": "bench.countries"}
    duck_sources = {
        "events": _parquet_list(lakeops.data_file_paths(events)),
        "countries": _parquet_list(lakeops.data_file_paths(countries)),
    }

    results: list[Result] = []
    ratios: list[float] = []
    lake_total = duck_total = 0.0
    with duckdb.connect() as con:
        for name, template in QUERIES.items():
            lake_query = template.format(**lake_sources)
            duck_query = template.format(**duck_sources)
            try:
                lake_s, duck_s, note = _compare(
                    partial(lake.sql, lake_query),
                    partial(_duck, con, duck_query),
                    ctx.scale.runs,
                )
            except Exception as exc:
                ctx.log(f"{NAME}: {name} failed: {type(exc).__name__}: {exc}")
                results.append(
                    Result(NAME, name, float("nan"), "ms", "duckdb read_parquet", None,
                           target=TARGET, note=f"failed: {type(exc).__name__}: {exc}"[:300])
                )  # fmt: skip
                continue
            ratios.append(lake_s / duck_s)
            lake_total += lake_s
            duck_total += duck_s
            results.append(
                Result(NAME, name, lake_s * 1000, "ms", "duckdb read_parquet", duck_s * 1000,
                       lake_s / duck_s, TARGET, note)
            )  # fmt: skip
    if ratios:
        results.append(
            Result(NAME, "overall (geomean)", lake_total * 1000, "ms total", "duckdb read_parquet",
                   duck_total * 1000, geometric_mean(ratios), TARGET,
                   f"{len(ratios)}/{len(QUERIES)} queries; {events.stats().rows:,} rows")
        )  # fmt: skip
    return results


def _duck(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    return con.sql(query).to_arrow_table()


def _compare(
    lake_fn: Callable[[], pa.Table], duck_fn: Callable[[], pa.Table], runs: int
) -> tuple[float, float, str]:
    """Median seconds of each (warmed up, interleaved) and a note if their answers differ."""
    lake_rows, duck_rows = lake_fn(), duck_fn()
    note = ""
    if lake_rows.num_rows != duck_rows.num_rows:
        note = f"ROWS DIFFER: lakebed {lake_rows.num_rows}, duckdb {duck_rows.num_rows}"
    elif not _same_values(lake_rows, duck_rows):
        note = "VALUES DIFFER from duckdb"
    lake_times, duck_times = [], []
    for _ in range(runs):
        lake_times.append(timed(lake_fn))
        duck_times.append(timed(duck_fn))
    return statistics.median(lake_times), statistics.median(duck_times), note


def _same_values(left: pa.Table, right: pa.Table) -> bool:
    """Row by row equality, floats to 1e-9 relative (parallel sums differ in the last bits)."""
    if left.num_columns != right.num_columns:
        return False
    for a_row, b_row in zip(left.to_pylist(), right.to_pylist(), strict=True):
        for a, b in zip(a_row.values(), b_row.values(), strict=True):
            if isinstance(a, float) and isinstance(b, float):
                if not math.isclose(a, b, rel_tol=1e-9):
                    return False
            elif a != b:
                return False
    return True
