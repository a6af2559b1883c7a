"""One behaviour suite for DatabaseSource, run against SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from tests.ingest.sources.conftest import Database
from tests.servers.postgres import free_port

from lakebed.errors import ConfigError, NotFoundError, QueryError, StorageError
from lakebed.formats.base import BadRecord
from lakebed.ingest.sources.base import Part, Plan
from lakebed.ingest.sources.database import DatabaseSource

TYPED = [
    ("id", "INT"),
    ("n", "BIGINT"),
    ("price", "NUMERIC(10,2)"),
    ("name", "VARCHAR(50)"),
    ("body", "TEXT"),
    ("flag", "BOOLEAN"),
    ("day", "DATE"),
    ("at", "TIMESTAMP"),
]
TYPED_SCHEMA = pa.schema(
    [
        ("id", pa.int32()),
        ("n", pa.int64()),
        ("price", pa.decimal128(10, 2)),
        ("name", pa.string()),
        ("body", pa.string()),
        ("flag", pa.bool_()),
        ("day", pa.date32()),
        ("at", pa.timestamp("us")),
    ]
)
T0 = dt.datetime(2024, 1, 2, 3, 4, 5, 123456)


def typed_row(i: int) -> tuple[Any, ...]:
    """Row ``i`` of the typed table; every fifth row has NULLs in all nullable columns."""
    if i % 5 == 0:
        return (i, None, None, None, None, None, None, None)
    return (
        i,
        i * 10_000_000_000,
        Decimal(f"{i}.{i % 100:02d}"),
        f"name {i}",
        f"body 'quoted' \\ {i}",
        i % 2 == 0,
        dt.date(2024, 1, 1) + dt.timedelta(days=i % 400),
        T0 + dt.timedelta(seconds=i),
    )


def make_typed(db: Database, table: str = "events", rows: range = range(1, 2501)) -> None:
    db.create(table, TYPED)
    db.insert(table, [n for n, _ in TYPED], [typed_row(i) for i in rows])


def read(
    source: DatabaseSource, plan: Plan, parallel: bool = False
) -> tuple[pa.Table, list[BadRecord]]:
    """Every part of ``plan`` read (in threads when ``parallel``), and the bad records met."""
    bad: list[BadRecord] = []

    def one(part: Part) -> list[pa.RecordBatch]:
        return list(source.read(part, bad.append))

    if parallel:
        with ThreadPoolExecutor(4) as pool:
            chunks = list(pool.map(one, plan.parts))
    else:
        chunks = [one(p) for p in plan.parts]
    batches = [b for chunk in chunks for b in chunk]
    assert plan.schema is not None
    for batch in batches:
        assert batch.schema == plan.schema
    return pa.Table.from_batches(batches, schema=plan.schema), bad


def ids(table: pa.Table, column: str = "id") -> list[int]:
    return sorted(table.column(column).to_pylist())


# -- reading --------------------------------------------------------------------------------------
def test_full_table_read(db: Database) -> None:
    make_typed(db)
    source = DatabaseSource(db.url, table="events", part_rows=1000, batch_rows=300)
    plan = source.plan(None)
    assert plan.state is None
    assert source.key_columns == ("id",)
    assert len(plan.parts) == 3
    table, bad = read(source, plan)
    assert bad == []
    assert ids(table) == list(range(1, 2501))
    for part in plan.parts:
        assert max((b.num_rows for b in source.read(part, bad.append)), default=0) <= 300
    source.close()


def test_types_are_the_same_on_every_backend(db: Database) -> None:
    make_typed(db, rows=range(1, 21))
    source = DatabaseSource(db.url, table="events")
    plan = source.plan(None)
    assert plan.schema == TYPED_SCHEMA
    table, bad = read(source, plan)
    assert bad == []
    by_id = {row["id"]: row for row in table.to_pylist()}
    names = [n for n, _ in TYPED]
    for i in range(1, 21):
        assert by_id[i] == dict(zip(names, typed_row(i), strict=True)), f"row {i}"
    source.close()


def test_query_read(db: Database) -> None:
    make_typed(db, rows=range(1, 1001))
    query = "SELECT id, name, price * 2 AS doubled FROM events WHERE id % 2 = 0;"
    source = DatabaseSource(db.url, query=query)
    plan = source.plan(None)
    assert source.key_columns == ()
    assert [p.id for p in plan.parts] == ["all rows"]
    table, _ = read(source, plan)
    assert ids(table) == list(range(2, 1001, 2))
    assert table.schema.names == ["id", "name", "doubled"]
    row = next(r for r in table.to_pylist() if r["id"] == 2)
    assert row["name"] == "name 2" and Decimal(str(row["doubled"])) == Decimal("4.04")

    split = DatabaseSource(db.url, query=query, partition_column="id", part_rows=100)
    split_plan = split.plan(None)
    assert len(split_plan.parts) == 5
    assert ids(read(split, split_plan, parallel=True)[0]) == list(range(2, 1001, 2))


_URL_FORMS = {
    "sqlite": [("sqlite:///", "sqlite:///")],
    "postgresql": [
        ("postgresql://", "postgresql+psycopg://"),
        ("postgresql://", "postgresql+psycopg2://"),
        ("postgresql://", "postgres://"),
    ],
    "mariadb": [("mysql+pymysql://", "mysql://"), ("mysql+pymysql://", "mariadb://")],
}
_SCHEMAS = {"sqlite": "main", "postgresql": "public"}


def test_url_forms_and_schema_qualified_tables(db: Database) -> None:
    make_typed(db, rows=range(1, 11))
    schema = _SCHEMAS.get(db.backend) or db.url.rsplit("/", 1)[-1]
    for old, new in _URL_FORMS[db.backend]:
        source = DatabaseSource(db.url.replace(old, new), table=f"{schema}.events")
        plan = source.plan(None)
        assert source.key_columns == ("id",)
        assert plan.parts[0].size == 10
        assert ids(read(source, plan)[0]) == list(range(1, 11))
        source.close()
    with pytest.raises(NotFoundError) as err:
        DatabaseSource(db.url, table=f"{schema}.event").plan(None)
    assert f"{schema}.events" in str(err.value.fix)


def test_password_is_hidden(db: Database) -> None:
    make_typed(db, rows=range(1, 3))
    source = DatabaseSource(db.url, table="events")
    assert "lakebed-secret" not in source.uri
    assert "lakebed-secret" not in source.bookmark_key
    assert source.bookmark_key != DatabaseSource(db.url, query="SELECT id FROM events").bookmark_key
    assert source.bookmark_key == DatabaseSource(db.url, table="events").bookmark_key
    assert source.kind == "database"


# -- incremental ----------------------------------------------------------------------------------
def test_incremental_integer_column(db: Database) -> None:
    make_typed(db, rows=range(1, 101))
    source = DatabaseSource(db.url, table="events", incremental="id", part_rows=40)
    first = source.plan(None)
    assert first.state == {"kind": "column", "column": "id", "value": 100, "type": "int"}
    assert ids(read(source, first)[0]) == list(range(1, 101))
    assert "id <= 100" in source.describe_state(first.state)

    db.insert("events", [n for n, _ in TYPED], [typed_row(i) for i in range(101, 151)])
    second = source.plan(first.state)
    assert all(re.fullmatch(r"id > \d+ AND id <= \d+", p.id) for p in second.parts)
    assert ids(read(source, second)[0]) == list(range(101, 151))
    assert second.state is not None and second.state["value"] == 150

    nothing = source.plan(second.state)
    assert nothing.parts == [] and nothing.state == second.state
    source.close()


def test_incremental_timestamp_column(db: Database) -> None:
    db.create("log", [("id", "INT"), ("at", "TIMESTAMP"), ("msg", "VARCHAR(20)")])
    names = ["id", "at", "msg"]
    db.insert("log", names, [(i, T0 + dt.timedelta(minutes=i), f"m{i}") for i in range(1, 31)])
    db.insert("log", names, [(31, None, "no time")])
    source = DatabaseSource(db.url, table="log", incremental="at", part_rows=10)
    first = source.plan(None)
    assert first.state == {
        "kind": "column",
        "column": "at",
        "value": (T0 + dt.timedelta(minutes=30)).isoformat(),
        "type": "timestamp",
    }
    assert any("1 rows with NULL at" in note for note in first.notes)
    assert len(first.parts) == 3
    assert ids(read(source, first)[0]) == list(range(1, 31))

    db.insert("log", names, [(i, T0 + dt.timedelta(minutes=i), f"m{i}") for i in range(32, 36)])
    second = source.plan(first.state)
    assert ids(read(source, second)[0]) == list(range(32, 36))
    assert source.plan(second.state).parts == []


# -- key ranges -----------------------------------------------------------------------------------
def test_key_ranges_cover_every_row_once(db: Database) -> None:
    db.create("r", [("id", "INT"), ("grp", "INT"), ("v", "VARCHAR(10)")])
    keys = [*range(1, 1500), 5000, 5001, 100_000]  # a gap and a far outlier
    rows = [(k, None if k % 7 == 0 else k // 3, "x") for k in keys]
    db.insert("r", ["id", "grp", "v"], rows)

    by_key = DatabaseSource(db.url, table="r", part_rows=250)
    plan = by_key.plan(None)
    assert len(plan.parts) > 3
    assert re.fullmatch(r"id <= \d+", plan.parts[0].id)
    assert re.fullmatch(r"id > \d+", plan.parts[-1].id)
    assert sum(p.size or 0 for p in plan.parts) == pytest.approx(len(keys), abs=len(plan.parts))
    table, _ = read(by_key, plan, parallel=True)
    assert ids(table) == sorted(keys)

    # NULL partition keys are read with the first range.
    by_grp = DatabaseSource(db.url, table="r", partition_column="grp", part_rows=250)
    plan = by_grp.plan(None)
    assert plan.parts[0].id.endswith("OR grp IS NULL)")
    table, _ = read(by_grp, plan, parallel=True)
    assert ids(table) == sorted(keys)
    first = pa.Table.from_batches(list(by_grp.read(plan.parts[0], lambda r: None)))
    assert first.column("grp").null_count == sum(1 for k in keys if k % 7 == 0)


def test_incremental_partitioned_on_another_column(db: Database) -> None:
    db.create("r", [("id", "INT"), ("day", "DATE")])
    db.insert(
        "r", ["id", "day"], [(i, dt.date(2024, 1, 1) + dt.timedelta(days=i)) for i in range(1, 301)]
    )
    source = DatabaseSource(
        db.url, table="r", incremental="day", partition_column="id", part_rows=100
    )
    plan = source.plan({"kind": "column", "column": "day", "value": "2024-02-19", "type": "date"})
    assert plan.state is not None and plan.state["value"] == "2024-10-27"
    assert all(p.id.startswith("day > '2024-02-19' AND day <= '2024-10-27'") for p in plan.parts)
    assert ids(read(source, plan)[0]) == list(range(50, 301))


# -- bad input ------------------------------------------------------------------------------------
def test_unknown_table_names_close_matches(db: Database) -> None:
    make_typed(db, rows=range(1, 3))
    with pytest.raises(NotFoundError) as err:
        DatabaseSource(db.url, table="evnets").plan(None)
    assert "evnets" in err.value.message and "events" in str(err.value.fix)


def test_unknown_or_unfit_columns(db: Database) -> None:
    make_typed(db, rows=range(1, 3))
    with pytest.raises(ConfigError) as err:
        DatabaseSource(db.url, table="events", incremental="updated").plan(None)
    assert "updated" in err.value.message and err.value.fix
    with pytest.raises(ConfigError, match="partition column 'dya'") as err:
        DatabaseSource(db.url, table="events", partition_column="dya").plan(None)
    assert "day" in str(err.value.fix)
    with pytest.raises(ConfigError, match="incremental column 'price'"):
        DatabaseSource(db.url, table="events", incremental="price").plan(None)
    with pytest.raises(ConfigError, match="bookmark"):
        DatabaseSource(db.url, table="events", incremental="id").plan(
            {"kind": "column", "column": "at", "value": "2024-01-01T00:00:00"}
        )


def test_unreachable_server(db: Database) -> None:
    if db.backend == "sqlite":
        with pytest.raises(NotFoundError, match="does not exist"):
            DatabaseSource(db.url + ".missing", table="events").plan(None)
        return
    port = free_port()
    url = re.sub(r":\d+/", f":{port}/", db.url)
    with pytest.raises(StorageError) as err:
        DatabaseSource(url, table="events").plan(None)
    assert err.value.transient
    assert f"127.0.0.1:{port}" in err.value.message and err.value.fix
    assert "lakebed-secret" not in str(err.value)


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM events",
        "",
        "SELECT 1; DROP TABLE events",
        "UPDATE events SET n = 1",
        "CREATE TABLE x (a INT)",
    ],
)
def test_query_must_be_one_select(query: str) -> None:
    with pytest.raises(QueryError, match="single SELECT"):
        DatabaseSource("sqlite:///nowhere.db", query=query)


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="scheme 'nosuchdb'") as err:
        DatabaseSource("nosuchdb://u:secret@h/db", table="t")
    assert "postgresql://" in str(err.value.fix) and "secret" not in str(err.value)
    with pytest.raises(ConfigError, match="not a database URL"):
        DatabaseSource("just some words", table="t")
    with pytest.raises(ConfigError, match="exactly one of table and query"):
        DatabaseSource("sqlite:///x.db")
    with pytest.raises(ConfigError, match="exactly one of table and query"):
        DatabaseSource("sqlite:///x.db", table="t", query="SELECT 1")


# -- bad records ----------------------------------------------------------------------------------
@pytest.mark.parametrize("db", ["sqlite", "mariadb"], indirect=True)
def test_a_value_that_cannot_be_read_is_a_bad_record(db: Database) -> None:
    # PostgreSQL enforces its types on write, so it never holds such a value.
    db.create("d", [("id", "INT"), ("day", "DATE"), ("v", "VARCHAR(5)")])
    db.insert("d", ["id", "day", "v"], [(1, dt.date(2024, 5, 1), "a"), (3, None, "c")])
    db.execute("INSERT INTO d (id, day, v) VALUES (2, '0000-00-00', 'b')")
    source = DatabaseSource(db.url, table="d")
    table, bad = read(source, source.plan(None))
    assert ids(table) == [1, 3]
    assert [(b.location, b.source) for b in bad] == [("id=2", source.uri)]
    assert "day" in bad[0].reason and "0000-00-00" in bad[0].reason
    assert b'"id": 2' in bad[0].raw and b"0000-00-00" in bad[0].raw
