"""Crawling the messy folder into external tables: tables, formats, partitions, schemas, skips."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from lakebed.catalog import Catalog, ExternalTable
from lakebed.crawl import Crawler, CrawlOptions
from lakebed.errors import NotFoundError
from lakebed.query import QueryEngine
from lakebed.storage import ObjectStore, open_store


def test_first_crawl_finds_tables_formats_partitions_and_merged_schemas(
    store: ObjectStore, catalog: Catalog
) -> None:
    seen: list[tuple[int, int]] = []
    report = Crawler(catalog).crawl(
        store, "raw", database="web", progress=lambda d, t: seen.append((d, t))
    )

    assert sorted(r.ident for r in report.tables) == [
        "web.clickstream",
        "web.exports",
        "web.logs",
        "web.metrics",
        "web.sales",
        "web.users",
    ]
    assert {r.action for r in report.tables} == {"created"}
    formats = {r.ident: r.format for r in report.tables}
    assert formats == {
        "web.clickstream": "jsonl",
        "web.exports": "csv",  # a .txt file, told by content
        "web.logs": "jsonl",  # gzip, crawled as its inner format
        "web.metrics": "parquet",
        "web.sales": "csv",
        "web.users": "avro",
    }
    assert report.files_scanned == report.files_new == report.files_inspected == 12
    assert seen[0] == (0, 12) and seen[-1] == (12, 12)

    clicks = catalog.load_table("web.clickstream")
    assert isinstance(clicks, ExternalTable)
    assert clicks.partition_columns == {"partition_0": "int64", "partition_1": "int64"}
    assert clicks.schema.field("duration").type == pa.float64()  # int + float widened
    assert "referrer" in clicks.schema.names  # column only in the later month
    assert len(clicks.files) == 2 and all(f.startswith("file://") for f in clicks.files)
    assert report.table("clickstream").partitions == 2

    sales = catalog.load_table("web.sales")
    assert isinstance(sales, ExternalTable)
    assert sales.partition_columns == {"date": "date32"}
    assert sales.schema.field("amount").type == pa.float64()
    assert catalog.load_table("web.metrics").schema.field("value").type == pa.int64()
    assert catalog.load_table("web.users").schema.names == ["id", "name", "age"]

    skipped = dict(report.skipped)
    assert set(skipped) == {"raw/broken/bad.parquet", "raw/garbage/noise.csv", "raw/images/cat.jpg"}
    assert skipped["raw/images/cat.jpg"] == "not tabular (image/jpeg)"
    assert "parquet" in skipped["raw/broken/bad.parquet"]
    assert "not a supported tabular format" in skipped["raw/garbage/noise.csv"]
    assert any("cat.jpg" in line for line in report.notes())
    rows = report.summary_rows()
    assert {"table", "action", "format", "files", "partitions"} <= set(rows[0])
    assert report.to_dict()["skipped"][0]["key"] == "raw/broken/bad.parquet"


def test_crawled_external_tables_are_queryable(store: ObjectStore, catalog: Catalog) -> None:
    Crawler(catalog).crawl(store, "raw", database="web")
    engine = QueryEngine(catalog)
    metrics = engine.sql("SELECT sum(value) AS v, count(*) AS n FROM web.metrics")
    assert metrics.column("v").to_pylist() == [6] and metrics.column("n").to_pylist() == [3]
    logs = engine.sql("SELECT count(*) AS n FROM web.logs")
    assert logs.column("n").to_pylist() == [3]
    users = engine.sql("SELECT max(age) AS a FROM web.users")
    assert users.column("a").to_pylist() == [23]
    exports = engine.sql("SELECT sum(qty) AS q FROM web.exports")
    assert exports.column("q").to_pylist() == [4]


def test_recrawl_with_nothing_new_inspects_nothing(store: ObjectStore, catalog: Catalog) -> None:
    crawler = Crawler(catalog)
    crawler.crawl(store, "raw", database="web")
    seen: list[tuple[int, int]] = []
    again = Crawler(catalog).crawl(
        store, "raw", database="web", progress=lambda d, t: seen.append((d, t))
    )
    assert again.files_inspected == 0
    assert again.files_unchanged == 12 and again.files_new == again.files_changed == 0
    assert {r.action for r in again.tables} == {"unchanged"}
    assert len(again.tables) == 6
    assert len(again.skipped) == 3  # still reported, from the state
    assert seen == [(0, 0)]


def test_added_changed_and_removed_files(messy: Path, store: ObjectStore, catalog: Catalog) -> None:
    crawler = Crawler(catalog)
    crawler.crawl(store, "raw", database="web", options=CrawlOptions(removed_policy="delete"))
    (messy / "sales/date=2024-01-03").mkdir()
    (messy / "sales/date=2024-01-03/sales.csv").write_text("order_id,amount,country\n9,1,DE\n")
    (messy / "users/users.avro").unlink()
    (messy / "exports/export.txt").write_text("sku,qty,price\nA1,3,9.99\nB2,1,19.5\nC3,2,1.0\n")
    (messy / "metrics/b.parquet").unlink()

    report = crawler.crawl(
        store, "raw", database="web", options=CrawlOptions(removed_policy="delete")
    )
    assert (report.files_new, report.files_changed, report.files_removed) == (1, 1, 2)
    assert report.files_inspected == 2
    actions = {r.ident: r.action for r in report.tables}
    assert actions == {
        "web.clickstream": "unchanged",
        "web.exports": "updated",
        "web.logs": "unchanged",
        "web.metrics": "updated",
        "web.sales": "updated",
        "web.users": "deleted",
    }
    assert not catalog.table_exists("web.users")
    sales = catalog.load_table("web.sales")
    assert isinstance(sales, ExternalTable) and len(sales.files) == 3
    metrics = catalog.load_table("web.metrics")
    assert isinstance(metrics, ExternalTable) and len(metrics.files) == 1
    counts = QueryEngine(catalog).sql("SELECT count(*) AS n FROM web.exports")
    assert counts.column("n").to_pylist() == [3]


def test_removed_policies_deprecate_and_log(
    messy: Path, store: ObjectStore, catalog: Catalog
) -> None:
    crawler = Crawler(catalog)
    crawler.crawl(store, "raw", database="web")
    (messy / "users/users.avro").unlink()
    (messy / "metrics/b.parquet").unlink()

    report = crawler.crawl(store, "raw", database="web", options=CrawlOptions())
    assert report.table("users").action == "deprecated"
    users = catalog.load_table("web.users")
    assert isinstance(users, ExternalTable)
    assert users.properties["lakebed.deprecated"] == "true"
    assert not (users.description or "").startswith("[deprecated]")
    # a partly removed table loses the references it can no longer read
    metrics = catalog.load_table("web.metrics")
    assert isinstance(metrics, ExternalTable) and len(metrics.files) == 1

    (messy / "logs/app.jsonl.gz").unlink()
    logged = crawler.crawl(store, "raw", database="web", options=CrawlOptions(removed_policy="log"))
    assert logged.files_removed == 1
    assert logged.table("logs").action == "unchanged"
    logs = catalog.load_table("web.logs")
    assert isinstance(logs, ExternalTable) and len(logs.files) == 1  # kept, as logged
    assert any("logs" in line and "removed" in line for line in logged.notes())
    # the removal is reported once, not on every crawl
    quiet = crawler.crawl(store, "raw", database="web", options=CrawlOptions(removed_policy="log"))
    assert quiet.files_removed == 0


NEW_SALES = "order_id,amount,country,channel\n10,5,DE,web\n"


@pytest.mark.parametrize(
    ("policy", "expected_columns", "applied"),
    [
        ("update", ["order_id", "amount", "country", "channel"], True),
        ("add_columns", ["order_id", "amount", "country", "channel"], True),
        ("log", ["order_id", "amount", "country"], False),
    ],
)
def test_new_column_follows_schema_policy(
    messy: Path,
    store: ObjectStore,
    catalog: Catalog,
    policy: str,
    expected_columns: list[str],
    applied: bool,
) -> None:
    crawler = Crawler(catalog)
    crawler.crawl(store, "raw", database="web")
    (messy / "sales/date=2024-01-05").mkdir()
    (messy / "sales/date=2024-01-05/sales.csv").write_text(NEW_SALES)
    report = crawler.crawl(
        store,
        "raw",
        database="web",
        options=CrawlOptions(schema_policy=policy),  # type: ignore[arg-type]
    )
    result = report.table("sales")
    assert result.action == "updated"
    assert result.schema_changes == ["added column channel: string"]
    assert result.schema_applied is applied
    assert catalog.load_table("web.sales").schema.names == expected_columns
    if not applied:
        assert any("schema change not applied" in line for line in report.notes())


def test_add_columns_keeps_existing_types(
    messy: Path, store: ObjectStore, catalog: Catalog
) -> None:
    crawler = Crawler(catalog)
    crawler.crawl(store, "raw", database="web")
    (messy / "exports/more.txt").write_text("sku,qty,price,note\nZ9,1.5,2,x\n")
    report = crawler.crawl(
        store, "raw", database="web", options=CrawlOptions(schema_policy="add_columns")
    )
    schema = catalog.load_table("web.exports").schema
    assert schema.field("qty").type == pa.int64()  # widening not applied
    assert "note" in schema.names
    assert not report.table("exports").schema_applied
    assert "widened column qty: int64 -> double" in report.table("exports").schema_changes


def test_new_folders_only_leaves_known_folders_alone(
    messy: Path, store: ObjectStore, catalog: Catalog
) -> None:
    crawler = Crawler(catalog)
    crawler.crawl(store, "raw", database="web")
    (messy / "sales/date=2024-01-01/late.csv").write_text("order_id,amount,country\n99,1,DE\n")
    (messy / "sales/date=2024-02-01").mkdir()
    (messy / "sales/date=2024-02-01/sales.csv").write_text("order_id,amount,country\n77,1,DE\n")
    report = crawler.crawl(
        store, "raw", database="web", options=CrawlOptions(new_folders_only=True)
    )
    assert report.files_inspected == 1
    sales = catalog.load_table("web.sales")
    assert isinstance(sales, ExternalTable)
    assert len(sales.files) == 3 and any("2024-02-01" in f for f in sales.files)
    assert any("new_folders_only" in line for line in report.notes())


def test_empty_and_missing_folders(tmp_path: Path, catalog: Catalog) -> None:
    (tmp_path / "lake/empty").mkdir(parents=True)
    store = open_store(tmp_path / "lake")
    report = Crawler(catalog).crawl(store, "empty", database="web")
    assert report.tables == [] and report.files_scanned == 0
    assert any("no files" in m for m in report.notes())
    with pytest.raises(NotFoundError, match="nope"):
        Crawler(catalog).crawl(store, "nope", database="web")
    with pytest.raises(NotFoundError):
        Crawler(catalog).crawl(open_store(tmp_path / "missing"), "", database="web")


def test_single_file_and_top_level_files_with_table_prefix(
    tmp_path: Path, catalog: Catalog
) -> None:
    root = tmp_path / "lake"
    (root / "drop").mkdir(parents=True)
    (root / "drop/Users 2024.csv").write_text("id,name\n1,a\n2,b\n")
    (root / "drop/orders.jsonl").write_text('{"order": 1, "total": 2.5}\n')
    (root / "drop/_SUCCESS").write_text("")
    store = open_store(root)
    report = Crawler(catalog).crawl(
        store, "drop", database="land", options=CrawlOptions(table_prefix="raw_")
    )
    assert sorted(r.ident for r in report.tables) == ["land.raw_orders", "land.raw_users_2024"]
    assert report.files_scanned == 2  # the marker file is not data
    single = Crawler(catalog).crawl(store, "drop/orders.jsonl", database="one")
    assert [r.ident for r in single.tables] == ["one.orders"]


def test_a_name_taken_by_another_crawl_is_not_overwritten(tmp_path: Path, catalog: Catalog) -> None:
    root = tmp_path / "lake"
    for source in ("a", "b"):
        (root / source / "users").mkdir(parents=True)
        (root / source / "users/u.csv").write_text(f"id,src\n1,{source}\n")
    store = open_store(root)
    crawler = Crawler(catalog)
    crawler.crawl(store, "a", database="web")
    for _ in range(2):  # the clash is reported on every crawl, and never resolved by force
        clash = crawler.crawl(store, "b", database="web")
        assert clash.table("users").action == "unchanged"
        assert any("table_prefix" in note for note in clash.table("users").notes)
        users = catalog.load_table("web.users")
        assert isinstance(users, ExternalTable) and users.location.endswith("/a/users")
    assert clash.files_inspected == 0
    prefixed = crawler.crawl(store, "b", database="web", options=CrawlOptions(table_prefix="b_"))
    assert [r.ident for r in prefixed.tables] == ["web.b_users"]


def test_the_catalogs_own_warehouse_is_not_crawled(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    (root / "raw").mkdir(parents=True)
    (root / "raw/t.csv").write_text("a,b\n1,2\n")
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.db'}", (root / "warehouse").as_uri())
    try:
        store = open_store(root)
        Crawler(catalog).crawl(store, "raw", database="web", options=CrawlOptions(convert=True))
        report = Crawler(catalog).crawl(store, "", database="all")
        assert [r.ident for r in report.tables] == ["all.raw"]
        assert any("warehouse" in m for m in report.notes())
    finally:
        catalog.close()


def test_a_deprecated_table_is_marked_by_property_and_revived_when_files_return(
    messy: Path, store: ObjectStore, catalog: Catalog
) -> None:
    crawler = Crawler(catalog)
    crawler.crawl(store, "raw", database="web")
    catalog.set_table_properties("web.users", owner="ml-team")
    avro = (messy / "users/users.avro").read_bytes()
    (messy / "users/users.avro").unlink()
    crawler.crawl(store, "raw", database="web")
    assert catalog.load_table("web.users").properties == {
        "owner": "ml-team",
        "lakebed.deprecated": "true",
    }

    (messy / "users/users.avro").write_bytes(avro)
    back = crawler.crawl(store, "raw", database="web")
    assert back.table("users").action in {"created", "updated"}
    users = catalog.load_table("web.users")
    assert users.properties == {"owner": "ml-team", "lakebed.deprecated": "false"}
