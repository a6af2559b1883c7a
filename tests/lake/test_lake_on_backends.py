"""The lake's main job works the same on every storage backend: put, crawl, convert, SQL.

The backends are the embedded default (a local folder with a SQLite catalog), moto's S3 server
(fast path) and a real Ceph RADOS Gateway with a real PostgreSQL catalog (the team setup).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from tests.servers.postgres import PostgresServer
from tests.servers.s3 import S3Endpoint

import lakebed
from lakebed import Lake

BACKENDS = [
    pytest.param("local"),
    pytest.param("moto", marks=pytest.mark.s3),
    pytest.param("ceph", marks=[pytest.mark.ceph, pytest.mark.postgres]),
]


@pytest.fixture(params=BACKENDS)
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Lake:
    if request.param == "local":
        return lakebed.open(tmp_path / "lake", env={})
    endpoint: S3Endpoint = request.getfixturevalue(f"{request.param}_s3")
    bucket = endpoint.create_bucket("lake")
    settings: dict[str, object] = {"s3": endpoint.s3_config().model_dump()}
    if request.param == "ceph":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        settings["catalog"] = server.url(server.create_database("lake"))
    else:
        settings["catalog"] = f"sqlite:///{tmp_path / 'catalog.db'}"
    return lakebed.open(f"s3://{bucket}/{uuid.uuid4().hex[:8]}", env={}, **settings)


def _events(day: int) -> bytes:
    rows = [
        {"user": i % 7, "event": "buy" if i % 5 == 0 else "view", "amount": i * 1.5 + day}
        for i in range(50)
    ]
    return ("\n".join(json.dumps(r) for r in rows) + "\n").encode()


def test_put_crawl_convert_and_query(lake: Lake) -> None:
    lake.init()
    for day in (1, 2):
        lake.put(f"raw/events/day={day}/part-0.jsonl", _events(day))
    lake.put("raw/events/day=2/notes.txt", b"\x89PNG\r\n\x1a\n not a table")

    external = lake.crawl("lake://raw", database="raw")
    assert [t.ident for t in external.tables] == ["raw.events"]
    assert external.tables[0].partition_columns == ["day"]
    assert [key for key, _ in external.skipped] == ["raw/events/day=2/notes.txt"]

    converted = lake.crawl("lake://raw", database="curated", convert=True)
    assert converted.tables[0].rows == 100

    by_event = lake.sql(
        "SELECT event, count(*) AS n FROM curated.events GROUP BY event ORDER BY event"
    ).to_pylist()
    assert by_event == [{"event": "buy", "n": 20}, {"event": "view", "n": 80}]
    same = lake.sql("SELECT count(*) AS n FROM raw.events WHERE day = 2").to_pylist()
    assert same == [{"n": 50}]

    lake.sql(
        "CREATE TABLE curated.buyers AS "
        "SELECT DISTINCT user FROM curated.events WHERE event = 'buy'"
    )
    assert lake.table("curated.buyers").stats().rows == 7  # users 0..6 all buy
    assert sorted(lake.tables("curated")) == ["curated.buyers", "curated.events"]
    described = lake.describe("curated.events")
    assert described["kind"] == "iceberg"
    assert {c["name"] for c in described["columns"]} >= {"user", "event", "amount", "day"}


def test_raw_zone_round_trip_and_select_in_place(lake: Lake, tmp_path: Path) -> None:
    source = tmp_path / "prices.csv"
    source.write_text("sku,price\nA,1.5\nB,2.5\nC,10\n")
    info = lake.put("raw/prices.csv", source)
    assert info.size == source.stat().st_size
    assert [i.key for i in lake.ls("raw/")] == ["raw/prices.csv"]
    assert lake.get("raw/prices.csv") == source.read_bytes()

    cheap = lake.select("raw/prices.csv", "SELECT sku FROM s3object WHERE price < 5 ORDER BY sku")
    assert cheap.column("sku").to_pylist() == ["A", "B"]

    lake.rm("raw/prices.csv")
    with pytest.raises(lakebed.NotFoundError, match=r"raw/prices\.csv"):
        lake.get("raw/prices.csv")
