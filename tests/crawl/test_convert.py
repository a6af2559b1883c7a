"""convert=True: Iceberg tables with the right rows, partitions, and incremental appends."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakebed.catalog import Catalog, Table
from lakebed.crawl import Crawler, CrawlOptions
from lakebed.storage import ObjectStore

CONVERT = CrawlOptions(convert=True, removed_policy="delete")


def iceberg(catalog: Catalog, ident: str) -> Table:
    table = catalog.load_table(ident)
    assert isinstance(table, Table)
    return table


def test_convert_writes_iceberg_tables_with_all_rows(store: ObjectStore, catalog: Catalog) -> None:
    report = Crawler(catalog).crawl(store, "raw", database="lake", options=CONVERT)
    rows = {r.ident: r.rows for r in report.tables}
    assert rows == {
        "lake.clickstream": 7,
        "lake.exports": 2,
        "lake.logs": 3,
        "lake.metrics": 3,
        "lake.sales": 5,  # the malformed row is left out and reported
        "lake.users": 4,
    }
    assert {r.kind for r in report.tables} == {"iceberg"}
    assert any("bad record" in note for note in report.table("sales").notes)

    sales = iceberg(catalog, "lake.sales")
    assert sales.partition_by == ["date"]
    assert sales.schema.field("amount").type == pa.float64()
    data = sales.scan(filter="date = '2024-01-02'").sort_by("order_id")
    assert data.column("order_id").to_pylist() == [4, 6]
    clicks = iceberg(catalog, "lake.clickstream").scan()
    assert sorted(set(clicks.column("partition_1").to_pylist())) == [1, 2]
    assert clicks.column("referrer").null_count == 6
    assert iceberg(catalog, "lake.users").scan().num_rows == 4


def test_convert_recrawl_appends_new_files_and_rewrites_changed_ones(
    messy: Path, store: ObjectStore, catalog: Catalog
) -> None:
    crawler = Crawler(catalog)
    crawler.crawl(store, "raw", database="lake", options=CONVERT)
    unchanged = crawler.crawl(store, "raw", database="lake", options=CONVERT)
    assert unchanged.files_inspected == 0
    assert {r.action for r in unchanged.tables} == {"unchanged"}
    snapshots = len(iceberg(catalog, "lake.sales").snapshots())

    (messy / "sales/date=2024-01-03").mkdir()
    (messy / "sales/date=2024-01-03/s.csv").write_text(
        "order_id,amount,country,channel\n9,1,DE,web\n10,2,FR,shop\n"
    )
    (messy / "exports/export.txt").write_text("sku,qty,price\nA1,3,9.99\n")
    report = crawler.crawl(store, "raw", database="lake", options=CONVERT)
    assert report.table("sales").action == "updated" and report.table("sales").rows == 2
    sales = iceberg(catalog, "lake.sales")
    assert len(sales.snapshots()) == snapshots + 1  # one append
    assert sales.scan().num_rows == 7
    assert "channel" in sales.schema.names
    assert report.table("exports").rows == 1
    assert iceberg(catalog, "lake.exports").scan().num_rows == 1  # rewritten, not appended

    (messy / "users/users.avro").unlink()
    gone = crawler.crawl(store, "raw", database="lake", options=CONVERT)
    assert gone.table("users").action == "deleted"
    assert not catalog.table_exists("lake.users")


def test_a_file_that_fails_to_convert_is_reported_not_fatal(
    messy: Path, store: ObjectStore, catalog: Catalog
) -> None:
    # a Parquet file with an intact footer (so its schema reads) but a corrupt data page
    buf = io.BytesIO()
    pq.write_table(
        pa.table({"name": ["x", "y"], "value": pa.array([8, 9], pa.int64())}),
        buf,
        compression=None,
    )
    data = bytearray(buf.getvalue())
    data[4:40] = b"\xff" * 36
    (messy / "metrics/c.parquet").write_bytes(bytes(data))

    report = Crawler(catalog).crawl(store, "raw", database="lake", options=CONVERT)
    assert report.table("metrics").action == "created"
    assert report.table("metrics").rows == 3
    assert iceberg(catalog, "lake.metrics").scan().num_rows == 3
    reason = dict(report.skipped)["raw/metrics/c.parquet"]
    assert reason.startswith("not converted:")
    assert report.table("sales").rows == 5  # the other tables are written all the same


def test_a_file_corrupt_after_some_rows_leaves_none_of_its_rows(
    messy: Path, store: ObjectStore, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lakebed.catalog.streaming.CHUNK_BYTES", 1)  # write every batch at once
    # two row groups: the first reads (a whole batch is yielded), the second is corrupt
    path = messy / "metrics/c.parquet"
    first = 70_000  # more than one read batch (65,536 rows)
    names = pa.array([f"ok{i}" for i in range(first + 10)])
    table = pa.table({"name": names, "value": pa.array(range(first + 10), pa.int64())})
    pq.write_table(table, path, compression=None, row_group_size=first, use_dictionary=False)
    data = bytearray(path.read_bytes())
    second = pq.ParquetFile(path).metadata.row_group(1)
    for column in range(second.num_columns):
        start = second.column(column).data_page_offset
        data[start : start + 24] = b"\xff" * 24
    path.write_bytes(bytes(data))
    assert pq.ParquetFile(path).read_row_group(0).num_rows == first  # readable at first ...
    with pytest.raises((OSError, pa.ArrowException)):
        pq.ParquetFile(path).read_row_group(1)  # ... corrupt later

    report = Crawler(catalog).crawl(store, "raw", database="lake", options=CONVERT)
    assert dict(report.skipped)["raw/metrics/c.parquet"].startswith("not converted:")
    assert report.table("metrics").rows == 3
    metrics = iceberg(catalog, "lake.metrics")
    assert sorted(metrics.scan().column("name").to_pylist()) == ["cpu", "disk", "mem"]
    assert len(metrics.snapshots()) == 1
    files = list(Path(metrics.location.removeprefix("file://"), "data").rglob("*.parquet"))
    assert len(files) == metrics.stats().data_files  # what the bad file wrote was deleted
