"""A converting crawl that dies around its Iceberg commits never converts a file twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.crawl.conftest import write_text

from lakebed.catalog import Catalog, PendingWrite, Table
from lakebed.crawl import Crawler, CrawlOptions
from lakebed.crawl.state import CrawlState
from lakebed.quarantine import Quarantine
from lakebed.storage import ObjectStore, open_store

CONVERT = CrawlOptions(convert=True)


class Crash(Exception):
    """The process dying at the injected point."""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_text(root / "orders/day=1/a.csv", "id,amount\n1,10\n2,20\n3,30,oops\n")
    write_text(root / "users/u.csv", "id,name\n1,ann\n")
    return root


@pytest.fixture
def store(root: Path) -> ObjectStore:
    return open_store(root)


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    cat = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}", (tmp_path / "warehouse").as_uri())
    yield cat
    cat.close()


def orders(catalog: Catalog) -> list[int]:
    table = catalog.load_table("lake.orders")
    assert isinstance(table, Table)
    return sorted(table.scan().column("id").to_pylist())


def crash_once(monkeypatch: pytest.MonkeyPatch, owner: Any, method: str, call: int = 1) -> None:
    """Make ``owner.method`` raise :class:`Crash` on its ``call``-th call; the others work."""
    original = getattr(owner, method)
    calls = {"n": 0}

    def failing(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == call:
            raise Crash(f"killed in {method}")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(owner, method, failing)


def test_a_crash_after_the_commit_before_the_state_save_does_not_append_twice(
    root: Path, store: ObjectStore, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    crawler = Crawler(catalog)
    crawler.crawl(store, "", database="lake", options=CONVERT)
    assert orders(catalog) == [1, 2]
    write_text(root / "orders/day=2/b.csv", "id,amount\n4,40\n5,50,oops\n")

    crash_once(monkeypatch, CrawlState, "save")
    with pytest.raises(Crash):
        crawler.crawl(store, "", database="lake", options=CONVERT)
    assert orders(catalog) == [1, 2, 4]  # the append was committed

    report = Crawler(catalog).crawl(store, "", database="lake", options=CONVERT)
    assert orders(catalog) == [1, 2, 4]  # ... and not appended again
    assert report.table("orders").action == "unchanged"
    assert any("recovered the commit of 1 file(s)" in m for m in report.messages)
    assert Quarantine(catalog, "lake").read("lake.orders").num_rows == 2  # once per bad row
    # and the crawl after that is an ordinary no-op
    quiet = Crawler(catalog).crawl(store, "", database="lake", options=CONVERT)
    assert quiet.messages == [] and quiet.files_inspected == 0


def test_a_crash_after_a_rewrite_keeps_every_file_exactly_once(
    root: Path, store: ObjectStore, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    crawler = Crawler(catalog)
    write_text(root / "orders/day=2/b.csv", "id,amount\n4,40\n")
    crawler.crawl(store, "", database="lake", options=CONVERT)
    monkeypatch.setattr("lakebed.crawl.convert.CHUNK_BYTES", 1)  # one commit per file
    write_text(root / "orders/day=1/a.csv", "id,amount\n1,11\n2,21\n3,31,oops\n9,90\n")
    write_text(root / "orders/day=3/c.csv", "id,amount\n6,60\n")

    crash_once(monkeypatch, CrawlState, "save")
    with pytest.raises(Crash):
        crawler.crawl(store, "", database="lake", options=CONVERT)

    report = Crawler(catalog).crawl(store, "", database="lake", options=CONVERT)
    assert orders(catalog) == [1, 2, 4, 6, 9]
    assert report.table("orders").action == "unchanged"
    bad = Quarantine(catalog, "lake").read("lake.orders")
    assert bad.column("raw").to_pylist() == ["3,31,oops"]  # the rewrite's, not the first crawl's


def test_a_crash_before_the_commit_quarantines_nothing_twice(
    root: Path, store: ObjectStore, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    crawler = Crawler(catalog)
    crawler.crawl(store, "", database="lake", options=CONVERT)
    write_text(root / "orders/day=2/b.csv", "id,amount\n4,40\n5,50,oops\n")

    # the quarantine's append is done; the data commit crashes
    crash_once(monkeypatch, PendingWrite, "commit")
    with pytest.raises(Crash):
        crawler.crawl(store, "", database="lake", options=CONVERT)
    quarantine = Quarantine(catalog, "lake")
    assert quarantine.read("lake.orders").num_rows == 2
    assert orders(catalog) == [1, 2]

    report = Crawler(catalog).crawl(store, "", database="lake", options=CONVERT)
    assert any("stopped before committing 1 file(s)" in m for m in report.messages)
    assert report.table("orders").rows == 1
    assert orders(catalog) == [1, 2, 4]
    assert sorted(quarantine.read("lake.orders").column("raw").to_pylist()) == [
        "3,30,oops",
        "5,50,oops",
    ]
