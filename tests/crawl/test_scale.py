"""Crawl cost does not grow with per-file catalog work: batched state, one diff query."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lakebed.catalog import Catalog, ExternalTable
from lakebed.crawl import Crawler
from lakebed.storage import open_store

FILES = 400


def count_statements(engine: sa.Engine) -> list[str]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", record)
    return seen


def test_many_files_cost_a_handful_of_sql_statements(tmp_path: Path, catalog: Catalog) -> None:
    root = tmp_path / "lake"
    for day in range(4):
        folder = root / "events" / f"day={day}"
        folder.mkdir(parents=True)
        for i in range(FILES // 4):
            (folder / f"f{i}.csv").write_text(f"id,value\n{i},{day}.5\n")
    store = open_store(root)
    statements = count_statements(catalog.engine)

    first = Crawler(catalog).crawl(store, "", database="big")
    assert first.files_inspected == FILES
    events = catalog.load_table("big.events")
    assert isinstance(events, ExternalTable) and len(events.files) == FILES
    first_count = len(statements)
    assert first_count < 60, statements  # not one statement (or commit) per file

    statements.clear()
    again = Crawler(catalog).crawl(store, "", database="big")
    assert again.files_inspected == 0 and again.files_unchanged == FILES
    state_reads = [s for s in statements if s.startswith("SELECT") and "lakebed_crawl_files" in s]
    assert len(state_reads) == 1, state_reads  # the whole diff in one query
    # a fixed cost per crawl (the commit log adds its table check and one query), not per file
    assert len(statements) < 16, statements
