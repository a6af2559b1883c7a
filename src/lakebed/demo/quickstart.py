"""The main job: build a demo lake from messy raw files and show what lakebed does with them.

Steps: generate the raw dataset, store it in the raw zone as it came, crawl it into external
tables, convert it into partitioned Iceberg tables, run SQL (joins, Athena dialect, time travel,
a raw object queried in place), load the shop's application database incrementally (merge on a
key, bookmark on ``updated_at``), turn transactions into ML features with a published recipe,
split them by customer for training, and print a report of every step.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from lakebed.catalog import Table
from lakebed.demo import appdb
from lakebed.demo.dataset import generate
from lakebed.lake import Lake

#: (title, SQL, dialect) shown by the quickstart.
QUERIES: list[tuple[str, str, str]] = [
    (
        "Revenue by product category (transactions x products)",
        """SELECT p.category, count(*) AS orders,
                  round(sum(t.quantity * t.unit_price), 2) AS revenue
           FROM shop.transactions t JOIN shop.products p ON t.sku = p.sku
           GROUP BY p.category ORDER BY revenue DESC""",
        "duckdb",
    ),
    (
        "Conversion funnel per device (clickstream, Athena dialect)",
        """SELECT device.type AS device,
                  count_if(event = 'view') AS views,
                  count_if(event = 'purchase') AS purchases,
                  approx_distinct(customer_id) AS customers
           FROM shop.clickstream GROUP BY 1 ORDER BY views DESC""",
        "athena",
    ),
    (
        "Customers by country who bought on 2026-11-03 (partition-pruned)",
        """SELECT c.country, count(DISTINCT t.customer_id) AS buyers
           FROM shop.transactions t JOIN shop.customers c USING (customer_id)
           WHERE t.date = DATE '2026-11-03'
           GROUP BY c.country ORDER BY buyers DESC LIMIT 5""",
        "duckdb",
    ),
]


#: The feature recipe the quickstart publishes (DataBrew operation names and parameters).
FEATURES: list[dict[str, Any]] = [
    {"operation": "REMOVE_MISSING", "parameters": {"sourceColumn": "quantity"}},
    {"operation": "FILL_WITH_MEDIAN", "parameters": {"sourceColumn": "unit_price"}},
    {
        "operation": "MULTIPLY",
        "parameters": {
            "sourceColumn1": "quantity",
            "sourceColumn2": "unit_price",
            "targetColumn": "amount",
        },
    },
    {
        "operation": "NORMALIZATION",
        "parameters": {"sourceColumn": "amount", "strategy": "Z_SCORE", "targetColumn": "amount_z"},
    },
    {
        "operation": "FEATURIZE_DATETIME",
        "parameters": {
            "sourceColumn": "ts",
            "features": '["hour", "day_of_week"]',
            "cyclic": "true",
        },
    },
    {"operation": "ONE_HOT_ENCODING", "parameters": {"sourceColumn": "country"}},
    {"operation": "DELETE", "parameters": {"sourceColumns": '["currency", "date"]'}},
]


@dataclass
class QuickstartReport:
    """What the quickstart did, step by step."""

    lake_root: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    results: dict[str, pa.Table] = field(default_factory=dict)


@contextmanager
def _step(report: QuickstartReport, name: str) -> Iterator[dict[str, Any]]:
    started = time.perf_counter()
    entry: dict[str, Any] = {"step": name}
    yield entry
    entry["seconds"] = round(time.perf_counter() - started, 2)
    report.steps.append(entry)


def run_quickstart(
    lake: Lake,
    *,
    say: Callable[[str], None] = print,
    show: Callable[[str, pa.Table], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> QuickstartReport:
    """Run the demo end to end on ``lake``; ``say`` narrates, ``show`` renders result tables."""
    report = QuickstartReport(lake_root=lake.config.root)
    lake.init()
    with tempfile.TemporaryDirectory(prefix="lakebed-demo-") as tmp:
        with _step(report, "generate raw dataset") as entry:
            dataset = generate(Path(tmp))
            entry["files"] = len(dataset.files)
            entry["bytes"] = sum(p.stat().st_size for p in dataset.files)
        say(
            f"Generated {len(dataset.files)} raw files (JSON Lines, gzip, CSV, Avro, Parquet, PNG)."
        )

        with _step(report, "store in the raw zone") as entry:
            for path in dataset.files:
                lake.put(
                    f"raw/{path.relative_to(dataset.root).as_posix()}", path, progress=progress
                )
            entry["objects"] = len(dataset.files)
        say(f"Stored them as they came under {lake.store.uri('raw')}/.")

    with _step(report, "crawl raw zone -> external tables") as entry:
        crawled = lake.crawl("lake://raw", database="raw")
        entry.update(_crawl_counts(crawled))
    say(
        f"Crawled raw/: {len(crawled.tables)} tables in database 'raw', "
        f"{len(crawled.skipped)} files skipped (not tabular or unreadable)."
    )

    with _step(report, "convert -> Iceberg tables") as entry:
        converted = lake.crawl("lake://raw", database="shop", convert=True)
        entry.update(_crawl_counts(converted))
        entry["quarantined_records"] = converted.bad_records
    say(
        f"Converted into {len(converted.tables)} Iceberg tables in database 'shop'; "
        f"{converted.bad_records} malformed records quarantined with their reasons."
    )

    for title, query, dialect in QUERIES:
        with _step(report, f"sql: {title}") as entry:
            result = lake.sql(query, dialect=dialect)
            entry["rows"] = result.num_rows
        report.results[title] = result
        if show:
            show(title, result)

    with _step(report, "time travel") as entry:
        first_snapshot = _iceberg(lake, "shop.products").current_snapshot()
        assert first_snapshot is not None, "a converted table has a snapshot"
        lake.sql(
            "INSERT INTO shop.products SELECT 'SKU-NEW01' AS sku, 'Limited sneaker' AS title, "
            "'shoes' AS category, 199.0 AS list_price, true AS in_stock, "
            "'images/products/SKU-NEW01.png' AS image_key"
        )
        now = lake.sql("SELECT count(*) AS products FROM shop.products")
        then = lake.sql(
            "SELECT count(*) AS products FROM shop.products "
            f"FOR VERSION AS OF {first_snapshot.snapshot_id}",
            dialect="trino",
        )
        entry["now"] = now.column(0)[0].as_py()
        entry["then"] = then.column(0)[0].as_py()
    say(
        f"Time travel: shop.products has {entry['now']} rows now, "
        f"{entry['then']} at its first snapshot."
    )

    with tempfile.TemporaryDirectory(prefix="lakebed-appdb-") as tmp:
        database = Path(tmp) / "app.db"
        skus = lake.sql("SELECT sku FROM shop.products ORDER BY sku").column(0).to_pylist()
        appdb.create(database, skus)
        options: dict[str, Any] = {
            "table": "inventory",
            "mode": "merge",
            "keys": ["sku"],
            "incremental": "updated_at",
            "job": "inventory",
        }
        with _step(report, "ingest app database (incremental merge)") as entry:
            first = lake.ingest(f"sqlite:///{database}", into="shop.inventory", **options)
            appdb.change(database, updates=5, inserts=3)
            second = lake.ingest(f"sqlite:///{database}", into="shop.inventory", **options)
            entry["first_rows"] = first.rows_written
            entry["second_rows"] = second.rows_written
            entry["table_rows"] = _iceberg(lake, "shop.inventory").stats().rows
    say(
        f"Loaded the app database's inventory ({first.rows_written} rows), then only the "
        f"{second.rows_written} rows changed since (bookmark on updated_at), merged on sku."
    )

    with _step(report, "recipe: features -> train/validation/test by customer") as entry:
        version = lake.recipes.publish("purchase-features", FEATURES, fit_on="shop.transactions")
        run = lake.recipes.apply("purchase-features", source="shop.transactions",
                                 into="ml.purchases")  # fmt: skip
        ratios = {"train": 0.8, "validation": 0.1, "test": 0.1}
        split = lake.recipes.split("ml.purchases", ratios, method="grouped", by="customer_id",
                                   seed=42, into="ml.purchases")  # fmt: skip
        entry["version"] = version.version
        entry["columns"] = len(lake.table("ml.purchases").schema)
        entry["rows"] = getattr(run, "rows_out", 0)
        entry["splits"] = dict(getattr(split, "rows", {}))
    say(
        f"Published recipe purchase-features v{version.version} ({len(FEATURES)} steps, fitted "
        f"on shop.transactions): ml.purchases has {entry['rows']} rows and {entry['columns']} "
        f"columns; split by customer into {entry['splits']} (seed 42, no customer in two)."
    )

    with _step(report, "query a raw object in place") as entry:
        key = next(i.key for i in lake.ls("raw/transactions/") if i.key.endswith(".csv"))
        selected = lake.select(
            key,
            "SELECT country, count(*) AS n FROM s3object GROUP BY country ORDER BY n DESC LIMIT 3",
        )
        entry["rows"] = selected.num_rows
    if show:
        show(f"S3 Select-style query of {key}", selected)
    return report


def _iceberg(lake: Lake, ident: str) -> Table:
    table = lake.table(ident)
    if not isinstance(table, Table):
        raise TypeError(f"{ident} is an external table; the quickstart converts it to Iceberg")
    return table


def _crawl_counts(report: Any) -> dict[str, Any]:
    return {
        "tables": len(report.tables),
        "files_scanned": report.files_scanned,
        "skipped": len(report.skipped),
    }
