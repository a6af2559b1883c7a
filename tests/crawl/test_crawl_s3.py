"""Crawling an S3-compatible store (moto server): listing, inspection, missing prefixes."""

from __future__ import annotations

import gzip

import pytest
from tests.servers.s3 import S3Endpoint

from lakebed.catalog import Catalog, ExternalTable
from lakebed.crawl import Crawler
from lakebed.errors import NotFoundError
from lakebed.storage import open_store


@pytest.mark.s3
def test_crawl_an_s3_prefix(moto_s3: S3Endpoint, catalog: Catalog) -> None:
    bucket = moto_s3.create_bucket("crawl")
    store = open_store(f"s3://{bucket}/lake", moto_s3.s3_config())
    store.put("raw/orders/day=2024-01-01/a.csv", b"id,total\n1,2.5\n2,3\n")
    store.put("raw/orders/day=2024-01-02/b.csv", b"id,total\n3,4\n")
    store.put("raw/events/e.jsonl.gz", gzip.compress(b'{"kind": "view", "n": 1}\n'))
    store.put("raw/pics/p.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)

    crawler = Crawler(catalog)
    report = crawler.crawl(store, "raw", database="s3db")
    assert sorted(r.ident for r in report.tables) == ["s3db.events", "s3db.orders"]
    orders = catalog.load_table("s3db.orders")
    assert isinstance(orders, ExternalTable)
    assert orders.partition_columns == {"day": "date32"}
    assert all(f.startswith(f"s3://{bucket}/lake/raw/orders/") for f in orders.files)
    assert dict(report.skipped) == {"raw/pics/p.png": "not tabular (image/png)"}

    again = crawler.crawl(store, "raw", database="s3db")
    assert again.files_inspected == 0
    with pytest.raises(NotFoundError, match="missing"):
        crawler.crawl(store, "missing", database="s3db")
