"""Crawl state: the listing diff and the SQL store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa
from tests.servers.postgres import PostgresServer

from lakebed.crawl.state import CrawlState, FileState, Scope, diff_listing, to_micros
from lakebed.storage.base import ObjectInfo

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def info(key: str, size: int = 10, modified: datetime = T0, checksum: str | None = None):
    return ObjectInfo(key=key, size=size, modified=modified, checksum=checksum)


def test_diff_listing_sorts_objects_into_new_changed_unchanged_removed() -> None:
    known = {
        "same": FileState("same", 10, to_micros(T0)),
        "resized": FileState("resized", 10, to_micros(T0)),
        "touched": FileState("touched", 10, to_micros(T0)),
        "rehashed": FileState("rehashed", 10, to_micros(T0), checksum="sha256:aa"),
        "removed": FileState("removed", 10, to_micros(T0)),
        "was_gone": FileState("was_gone", 10, to_micros(T0), gone=True),
        "still_gone": FileState("still_gone", 10, to_micros(T0), gone=True),
    }
    listing = [
        info("same"),
        info("resized", size=11),
        info("touched", modified=T0 + timedelta(seconds=1)),
        info("rehashed", checksum="sha256:bb"),
        info("fresh"),
        info("was_gone"),
    ]
    diff = diff_listing(listing, known)
    assert [i.key for i in diff.new] == ["fresh", "was_gone"]
    assert [i.key for i in diff.changed] == ["resized", "touched", "rehashed"]
    assert [s.key for s in diff.unchanged] == ["same"]
    assert [s.key for s in diff.removed] == ["removed"]
    assert [s.key for s in diff.gone] == ["still_gone"]
    assert not diff.is_empty
    assert diff_listing([info("same")], {"same": known["same"]}).is_empty


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty SQL database on each backend the catalog supports."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'c.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.url(server.create_database("crawl")).replace(
            "postgresql://", "postgresql+psycopg2://"
        )
    made = sa.create_engine(url)
    yield made
    made.dispose()


def test_state_round_trips_through_the_database(engine: sa.Engine) -> None:
    state = CrawlState(engine)
    scope = Scope("file:///data", "db", "raw")
    other = Scope("file:///data", "db2", "raw")
    schema = pa.schema([("a", pa.int64()), ("b", pa.list_(pa.string()))])
    rows = [
        FileState("raw/a.csv", 5, 1, None, "csv", "fp1", {"delimiter": ";"}, "t"),
        FileState("raw/b.jpg", 7, 2, skip_reason="not tabular (image/jpeg)"),
    ]
    state.save(scope, rows, schemas={"fp1": schema})
    state.save(other, rows[:1], schemas={"fp1": schema})  # schema stored once, no clash
    assert state.load(scope) == {r.key: r for r in rows}
    assert state.load_schemas(["fp1", "nope"]) == {"fp1": schema}

    changed = rows[0].with_(size=6, table="t2")
    state.save(scope, [changed], delete=["raw/b.jpg"])
    assert state.load(scope) == {"raw/a.csv": changed}
    assert state.load(other) == {"raw/a.csv": rows[0]}

    # a second CrawlState over the same database sees the same rows (tables already exist)
    assert CrawlState(engine).load(scope) == {"raw/a.csv": changed}
    state.forget(scope)
    assert state.load(scope) == {}
