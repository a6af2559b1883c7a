"""``lake.ingest`` from a database, on SQLite, PostgreSQL and MariaDB: whole tables in parallel
key ranges, queries, incremental loads past a bookmark, merges, and the run summary."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tests.ingest.sources.conftest import Database

import lakebed
from lakebed import ConfigError, Lake, NotFoundError
from lakebed.formats.base import OnBadRecord
from lakebed.ingest.options import IngestOptions
from lakebed.ingest.runner import Load
from lakebed.ingest.sources.base import Part
from lakebed.ingest.sources.database import DatabaseSource

COLUMNS = [("id", "INT"), ("name", "VARCHAR(50)"), ("price", "NUMERIC(10,2)"), ("at", "TIMESTAMP")]
T0 = dt.datetime(2024, 3, 1, 12, 0, 0)


def _rows(first: int, count: int, tag: str = "v1") -> list[tuple[object, ...]]:
    return [
        (i, f"{tag}-{i}", Decimal(f"{i % 1000}.25"), T0 + dt.timedelta(minutes=i))
        for i in range(first, first + count)
    ]


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return lakebed.open(tmp_path / "lake", env={})


def _ids(lake: Lake, table: str) -> list[int]:
    return lake.sql(f"SELECT id FROM {table} ORDER BY id").column("id").to_pylist()


class RecordingSource(DatabaseSource):
    """A real database source that notes the parts the load reads. The first two reads meet
    at a barrier, so a load that does not read two parts at once fails (the barrier breaks)."""

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, **options)
        self.wheres: list[str | None] = []
        self._lock = threading.Lock()
        self._meet = threading.Barrier(2, timeout=10)

    def read(self, part: Part, on_bad_record: OnBadRecord) -> Iterator[pa.RecordBatch]:
        with self._lock:
            self.wheres.append(part.info.get("where"))
            first_two = len(self.wheres) <= 2
        if first_two:
            self._meet.wait()
        yield from super().read(part, on_bad_record)


def _digest(rows: Iterable[tuple[object, ...]]) -> str:
    """A checksum of rows (id, name, price, at), whatever order they come in."""
    lines = sorted(f"{i}|{n}|{Decimal(str(p)):.2f}|{a}" for i, n, p, a in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _source_ids(db: Database, where: str | None = None) -> list[int]:
    cur = db.conn.cursor()
    cur.execute("SELECT id FROM orders" + (f" WHERE {where}" if where else ""))
    found = [int(r[0]) for r in cur.fetchall()]
    cur.close()
    return found


def test_whole_table_in_parallel_key_ranges(db: Database, lake: Lake) -> None:
    db.create("orders", COLUMNS)
    source_rows = [r for i, r in enumerate(_rows(1, 2500), start=1) if i % 97]  # key gaps
    db.insert("orders", [c for c, _ in COLUMNS], source_rows)
    # The load lake.ingest runs, with parts of ~400 rows (part_rows is a source setting that
    # lake.ingest leaves at 1 M rows, too many to insert in a test).
    source = RecordingSource(db.url, table="orders", part_rows=400, parallelism=2)
    options = IngestOptions.build(table="orders", parallelism=2)
    totals: set[int] = set()

    def progress(done: int, total: int, rows: int) -> None:
        totals.add(total)

    report = Load(lake.catalog, source, "shop.orders", options, job="t", progress=progress).run()
    assert report.status == "succeeded" and report.reconciles
    # 2,475 rows in ranges of about 400 rows: several parts, each read once
    assert report.parts >= 6 and totals == {report.parts}
    assert len(source.wheres) == report.parts == len(set(source.wheres))
    # the parts cover the key range with no overlap: every source row is in exactly one
    by_part = [_source_ids(db, where) for where in source.wheres]
    assert all(by_part), "a part read no rows"
    assert sorted(i for ids in by_part for i in ids) == sorted(_source_ids(db))
    # every source row lands exactly once, with its values
    assert report.rows_written == len(source_rows) == 2475
    assert _ids(lake, "shop.orders") == sorted(_source_ids(db))
    landed = lake.sql("SELECT id, name, price, at FROM shop.orders").to_pylist()
    assert _digest(tuple(r.values()) for r in landed) == _digest(source_rows)
    row = lake.sql("SELECT * FROM shop.orders WHERE id = 42").to_pylist()[0]
    assert row["name"] == "v1-42" and row["price"] == Decimal("42.25")
    assert row["at"] == T0 + dt.timedelta(minutes=42)


def test_incremental_loads_rows_past_the_bookmark(db: Database, lake: Lake) -> None:
    db.create("events", COLUMNS)
    db.insert("events", [c for c, _ in COLUMNS], _rows(1, 300))
    first = lake.ingest(db.url, into="app.events", table="events", incremental="id")
    assert first.rows_written == 300 and first.bookmark and "300" in first.bookmark
    assert lake.ingest(db.url, into="app.events", table="events", incremental="id").status == (
        "nothing-new"
    )
    db.insert("events", [c for c, _ in COLUMNS], _rows(301, 25))
    again = lake.ingest(db.url, into="app.events", table="events", incremental="id")
    assert again.rows_written == 25
    assert _ids(lake, "app.events") == list(range(1, 326))
    [bookmark] = lake.bookmarks("app.events")
    assert bookmark.kind == "column" and "325" in bookmark.summary
    # rewound to a value, the next load reads the rows past it again
    words = lake.rewind_bookmark("app.events", bookmark.name, value=320)
    assert words == "rows with id <= 320 loaded"
    again = lake.ingest(db.url, into="app.events", table="events", incremental="id")
    assert again.rows_written == 5
    with pytest.raises(ConfigError, match="not a valid int"):
        lake.rewind_bookmark("app.events", bookmark.name, value="soon")


def test_incremental_merge_on_an_updated_at_column(db: Database, lake: Lake) -> None:
    db.create("users", COLUMNS)
    db.insert("users", [c for c, _ in COLUMNS], _rows(1, 50))
    options = {"table": "users", "incremental": "at", "mode": "merge", "keys": ["id"]}
    lake.ingest(db.url, into="app.users", **options)
    db.execute(
        "UPDATE users SET name = 'changed', at = "
        + ("'2030-01-01 00:00:00'" if db.backend != "postgresql" else "TIMESTAMP '2030-01-01'")
        + " WHERE id = 7"
    )
    report = lake.ingest(db.url, into="app.users", **options)
    assert report.rows_read == 1 and report.rows_deleted == 1
    got = lake.sql("SELECT name FROM app.users WHERE id = 7").to_pylist()
    assert got == [{"name": "changed"}]
    assert len(_ids(lake, "app.users")) == 50


def test_a_query_as_the_source(db: Database, lake: Lake) -> None:
    db.create("orders", COLUMNS)
    db.insert("orders", [c for c, _ in COLUMNS], _rows(1, 100))
    report = lake.ingest(db.url, into="shop.big", query="SELECT id, name FROM orders WHERE id > 90")
    assert report.rows_written == 10
    assert lake.table("shop.big").schema.names == ["id", "name"]


def test_an_unknown_table_names_the_close_ones(db: Database, lake: Lake) -> None:
    db.create("orders", COLUMNS)
    with pytest.raises(NotFoundError, match="orders"):
        lake.ingest(db.url, into="shop.x", table="order")
    [run] = lake.runs(target="shop.x")
    assert run.status == "failed"
