"""A converting crawl quarantines every bad record with its reason: read = written + quarantined."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.crawl.conftest import write_text

from lakebed.catalog import Catalog, ExternalTable, Table
from lakebed.crawl import Crawler, CrawlOptions
from lakebed.quarantine import Quarantine
from lakebed.storage import ObjectStore, open_store

CONVERT = CrawlOptions(convert=True)

# 5 data rows: 3 good, one with an extra cell, one with a missing cell.
ORDERS = "id,name,score\n1,a,1.5\n2,b,2.5,extra\n3,c\n4,d,4.0\n5,e,5\n"
# 6 records (the blank line is none): 3 good, a cut-off object, a list, a bare string.
EVENTS = (
    b'{"id": 1, "kind": "view"}\n'
    b'{"id": 2, "kind":\n'
    b"[1, 2]\n"
    b"\n"
    b'{"id": 3, "kind": "buy"}\n'
    b'"id 9, kind view"\n'
    b'{"id": 4, "kind": "view"}\n'
)


@pytest.fixture
def messy_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_text(root / "orders/day=1/orders.csv", ORDERS)
    write_text(root / "orders/day=2/orders.csv", "id,name,score\n6,f,6\n7,g\n")
    (root / "events").mkdir(parents=True)
    (root / "events/events.jsonl").write_bytes(EVENTS)
    return root


@pytest.fixture
def store(messy_root: Path) -> ObjectStore:
    return open_store(messy_root)


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    cat = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}", (tmp_path / "warehouse").as_uri())
    yield cat
    cat.close()


def rows_of(catalog: Catalog, ident: str) -> int:
    table = catalog.load_table(ident)
    assert isinstance(table, Table)
    return table.scan().num_rows


def test_bad_records_go_to_the_quarantine_and_counts_reconcile(
    store: ObjectStore, catalog: Catalog
) -> None:
    report = Crawler(catalog).crawl(store, "", database="lake", options=CONVERT)

    orders, events = report.table("orders"), report.table("events")
    read = {"lake.orders": 5 + 2, "lake.events": 6}
    assert (orders.rows, orders.bad_records) == (4, 3)
    assert (events.rows, events.bad_records) == (3, 3)
    assert report.bad_records == 6
    quarantine = Quarantine(catalog, "lake")
    for ident, total in read.items():
        assert rows_of(catalog, ident) + quarantine.read(ident).num_rows == total

    bad_orders = {
        (r["source"], r["location"], r["reason"], r["raw"])
        for r in quarantine.read("lake.orders").to_pylist()
    }
    day1 = store.uri("orders/day=1/orders.csv")
    assert day1.startswith("file://")
    assert bad_orders == {
        (day1, "row 3", "expected 3 cells, found 4", "2,b,2.5,extra"),
        (day1, "row 4", "expected 3 cells, found 2", "3,c"),
        (store.uri("orders/day=2/orders.csv"), "row 3", "expected 3 cells, found 2", "7,g"),
    }
    bad_events = {r["location"]: r for r in quarantine.read("lake.events").to_pylist()}
    assert set(bad_events) == {"line 2", "line 3", "line 6"}
    assert bad_events["line 2"]["reason"].startswith("invalid JSON")
    assert "not a JSON object" in bad_events["line 6"]["reason"]
    assert bad_events["line 6"]["raw"] == '"id 9, kind view"\n'
    assert {r["job"] for r in bad_events.values()} == {"crawl"}

    # the report shows the counts, and never lists the quarantine as a crawled table
    by_table = {row["table"]: row for row in report.summary_rows()}
    assert by_table["lake.orders"]["bad records"] == 3
    data = report.to_dict()
    assert data["bad_records"] == 6
    assert {t["ident"]: t["bad_records"] for t in data["tables"]} == {
        "lake.events": 3,
        "lake.orders": 3,
    }
    assert any("quarantined in lake._quarantine" in line for line in report.notes())
    assert "lake._quarantine" in catalog.list_tables("lake")


def test_recrawls_do_not_quarantine_a_record_twice(
    messy_root: Path, store: ObjectStore, catalog: Catalog
) -> None:
    crawler = Crawler(catalog)
    crawler.crawl(store, "", database="lake", options=CONVERT)
    quarantine = Quarantine(catalog, "lake")

    again = crawler.crawl(store, "", database="lake", options=CONVERT)
    assert again.bad_records == 0 and again.by_action("unchanged") == [
        "lake.events",
        "lake.orders",
    ]
    assert quarantine.read().num_rows == 6

    # a new file is appended: only its own bad record joins
    write_text(messy_root / "orders/day=3/orders.csv", "id,name,score\n8,h,8\n9,i,9,x\n")
    appended = crawler.crawl(store, "", database="lake", options=CONVERT)
    assert (appended.table("orders").rows, appended.bad_records) == (1, 1)
    assert quarantine.read("lake.orders").num_rows == 4
    assert rows_of(catalog, "lake.orders") + 4 == 7 + 2

    # a changed file rewrites the table: the records it re-met replace the earlier ones
    write_text(messy_root / "orders/day=2/orders.csv", "id,name,score\n6,f,6\n7,g\n10,j\n")
    rewritten = crawler.crawl(store, "", database="lake", options=CONVERT)
    assert rewritten.table("orders").bad_records == 5
    assert quarantine.read("lake.orders").num_rows == 5
    assert rows_of(catalog, "lake.orders") + 5 == 5 + 3 + 2
    assert quarantine.read("lake.events").num_rows == 3  # other tables keep theirs


def test_external_crawls_count_unreadable_sampled_rows_without_a_quarantine(
    store: ObjectStore, catalog: Catalog
) -> None:
    report = Crawler(catalog).crawl(store, "", database="raw")
    assert isinstance(catalog.load_table("raw.orders"), ExternalTable)
    assert report.bad_records == 0
    notes = report.table("orders").notes
    assert any(note.startswith("3 unreadable record(s)") for note in notes), notes
    assert not catalog.table_exists("raw._quarantine")


def test_derived_table_names_never_start_with_an_underscore(
    tmp_path: Path, catalog: Catalog
) -> None:
    root = tmp_path / "numbers"
    write_text(root / "2024/a.csv", "x\n1\n")
    write_text(root / "3d-models/b.csv", "y\n2\n")
    report = Crawler(catalog).crawl(open_store(root), "", database="lake", options=CONVERT)
    assert sorted(r.ident for r in report.tables) == ["lake.t_2024", "lake.t_3d_models"]
