"""Backend-specific types and code paths of the database source's drivers."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pyarrow as pa
import pytest
from tests.ingest.sources.conftest import Database
from tests.ingest.sources.test_database_source import read

from lakebed.ingest.sources.database import DatabaseSource
from lakebed.ingest.sources.drivers.convert import convert
from lakebed.ingest.sources.drivers.generic import GenericDriver
from lakebed.ingest.sources.drivers.mysql import MySQLDriver
from lakebed.ingest.sources.drivers.ranges import boundaries, ranges

UTC = dt.UTC
T0 = dt.datetime(2024, 3, 4, 5, 6, 7, 890123)


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_postgres_types_beyond_the_common_ones(db: Database) -> None:
    db.execute("CREATE TYPE mood AS ENUM ('happy', 'sad')")
    db.execute(
        "CREATE TABLE x (id int PRIMARY KEY, j json, jb jsonb, u uuid, m mood, b bytea, "
        "tz timestamptz, num numeric, small smallint, r real, t time, tags int[])"
    )
    key = uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    db.execute(
        f"INSERT INTO x VALUES (1, '{{\"a\": 1}}', '{{\"b\": 2}}', '{key}', 'sad', '\\x00ff', "
        "'2024-03-04 07:06:07.890123+02', 1.5, 7, 2.5, '10:11:12.5', '{1,2}'), "
        "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
    )
    source = DatabaseSource(db.url, table="x")
    plan = source.plan(None)
    assert plan.schema == pa.schema(
        [
            ("id", pa.int32()),
            ("j", pa.string()),
            ("jb", pa.string()),
            ("u", pa.string()),
            ("m", pa.string()),
            ("b", pa.binary()),
            ("tz", pa.timestamp("us", tz="UTC")),
            ("num", pa.float64()),
            ("small", pa.int16()),
            ("r", pa.float32()),
            ("t", pa.time64("us")),
            ("tags", pa.list_(pa.int32())),
        ]
    )
    table, bad = read(source, plan)
    assert bad == []
    rows = sorted(table.to_pylist(), key=lambda r: r["id"])
    assert rows[0]["u"] == str(key) and rows[0]["m"] == "sad" and rows[0]["b"] == b"\x00\xff"
    assert rows[0]["tz"] == T0.replace(tzinfo=UTC) and rows[0]["t"] == dt.time(10, 11, 12, 500000)
    assert rows[0]["tags"] == [1, 2] and rows[0]["num"] == 1.5
    assert set(rows[1].values()) == {2, None}


@pytest.mark.parametrize("db", ["mariadb"], indirect=True)
def test_mariadb_types_beyond_the_common_ones(db: Database) -> None:
    db.execute(
        "CREATE TABLE x (id int PRIMARY KEY, j json, e enum('happy','sad'), b blob, "
        "tz timestamp(6) NULL, tu tinyint unsigned, bu bigint unsigned, t time(6), y year, "
        "vb varbinary(10), big decimal(30,15), zdt datetime)"
    )
    db.execute("SET time_zone = '+00:00'")
    db.execute(
        "INSERT INTO x VALUES (1, '{\"a\": 1}', 'sad', x'00ff', '2024-03-04 05:06:07.890123', "
        "255, 18446744073709551615, '10:11:12.5', 2024, x'01', 123456789012345.123456789012345, "
        "'2024-01-01 00:00:00'), "
        "(2, NULL, NULL, NULL, NULL, NULL, NULL, '100:00:00', NULL, NULL, NULL, NULL), "
        "(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '0000-00-00 00:00:00')"
    )
    source = DatabaseSource(db.url, table="x")
    plan = source.plan(None)
    assert plan.schema == pa.schema(
        [
            ("id", pa.int32()),
            ("j", pa.string()),
            ("e", pa.string()),
            ("b", pa.binary()),
            ("tz", pa.timestamp("us", tz="UTC")),
            ("tu", pa.int16()),
            ("bu", pa.decimal128(20, 0)),
            ("t", pa.time64("us")),
            ("y", pa.int16()),
            ("vb", pa.binary()),
            ("big", pa.decimal128(30, 15)),
            ("zdt", pa.timestamp("us")),
        ]
    )
    table, bad = read(source, plan)
    row = table.to_pylist()[0]
    assert row["j"] == '{"a": 1}' and row["e"] == "sad" and row["b"] == b"\x00\xff"
    assert row["tu"] == 255 and row["bu"] == Decimal(2**64 - 1) and row["y"] == 2024
    assert row["t"] == dt.time(10, 11, 12, 500000) and row["tz"] == T0.replace(tzinfo=UTC)
    assert row["big"] == Decimal("123456789012345.123456789012345")
    assert row["zdt"] == dt.datetime(2024, 1, 1)
    assert table.num_rows == 1
    # A time past 24 hours and a zero datetime cannot be read: both rows are quarantined.
    assert sorted(b.location for b in bad) == ["id=2", "id=3"]
    reasons = " ".join(b.reason for b in bad)
    assert "100:00:00" in reasons and "0000-00-00 00:00:00" in reasons


@pytest.mark.parametrize("db", ["mariadb"], indirect=True)
def test_mariadb_pymysql_fallback_reads_what_connectorx_reads(db: Database) -> None:
    db.execute("CREATE TABLE x (id int PRIMARY KEY, d date, v varchar(10), n numeric(6,2))")
    db.insert(
        "x",
        ["id", "d", "v", "n"],
        [(i, dt.date(2024, 1, i % 28 + 1), f"v{i}", Decimal(i) / 4) for i in range(1, 301)],
    )
    source = DatabaseSource(db.url, table="x", batch_rows=128)
    columns = source.driver.describe("x")
    sql = "SELECT " + ", ".join(f"{c.expr} AS {c.name}" for c in columns) + " FROM x"
    driver = source.driver
    assert isinstance(driver, MySQLDriver)
    native = [convert(chunk, columns).batch for chunk in driver.stream(sql, columns, 128)]
    fallback = [convert(chunk, columns).batch for chunk in driver._pymysql(sql, 128)]
    assert all(isinstance(b, pa.RecordBatch) for b in native)
    assert pa.Table.from_batches(native).equals(pa.Table.from_batches(fallback))
    assert max(b.num_rows for b in fallback) == 128


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_generic_sqlalchemy_driver_reads_the_same_rows(db: Database) -> None:
    db.create("x", [("id", "INTEGER"), ("v", "TEXT"), ("f", "REAL")])
    db.insert("x", ["id", "v", "f"], [(i, f"v{i}", i / 2) for i in range(1, 501)])
    fast = DatabaseSource(db.url, table="x", part_rows=200)
    slow = DatabaseSource(db.url, table="x", part_rows=200)
    slow.driver = GenericDriver(slow.driver.url, slow.uri)
    fast_plan, slow_plan = fast.plan(None), slow.plan(None)
    assert (
        fast_plan.schema
        == slow_plan.schema
        == pa.schema([("id", pa.int64()), ("v", pa.string()), ("f", pa.float64())])
    )
    assert [p.id for p in slow_plan.parts] == [p.id for p in fast_plan.parts]
    fast_rows, slow_rows = read(fast, fast_plan)[0], read(slow, slow_plan)[0]
    assert fast_rows.sort_by("id").equals(slow_rows.sort_by("id"))


def test_boundaries_cut_into_half_open_ranges() -> None:
    cuts = boundaries(1, 100, 4, "int")
    assert cuts == [25, 50, 75]
    spans = ranges(cuts, None, 100, nulls=True)
    assert [(s.low, s.high, s.nulls) for s in spans] == [
        (None, 25, True),
        (25, 50, False),
        (50, 75, False),
        (75, 100, False),
    ]
    assert boundaries(5, 6, 10, "int") == []  # no empty ranges
    day = dt.date(2024, 1, 1)
    assert boundaries(day, day + dt.timedelta(days=10), 2, "date") == [day + dt.timedelta(days=5)]
    stamp = dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert boundaries(stamp, stamp + dt.timedelta(hours=2), 2, "timestamp") == [
        stamp + dt.timedelta(hours=1)
    ]
    assert boundaries("a", "z", 4, "string") == []
