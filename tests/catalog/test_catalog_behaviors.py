"""Catalog behaviour, run on every catalog backend (SQLite file and a real PostgreSQL server)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pyarrow as pa
import pytest

from lakebed.catalog import Catalog, ExternalTable, Table, describe_table
from lakebed.errors import AlreadyExistsError, ConfigError, NotFoundError

EVENTS = pa.schema(
    [
        ("id", pa.int64()),
        ("ts", pa.timestamp("us")),
        ("day", pa.date32()),
        ("name", pa.string()),
        ("country", pa.string()),
    ]
)


def test_databases_create_list_drop(open_catalog: Callable[[], Catalog]) -> None:
    catalog = open_catalog()
    assert catalog.list_databases() == []
    catalog.create_database("sales", description="orders and refunds")
    catalog.create_database("web")
    assert catalog.list_databases() == ["sales", "web"]
    assert catalog.database_exists("sales")
    assert catalog.database_description("sales") == "orders and refunds"

    with pytest.raises(AlreadyExistsError, match="sales"):
        catalog.create_database("sales")
    catalog.create_database("sales", exist_ok=True)

    catalog.drop_database("web")
    assert catalog.list_databases() == ["sales"]
    assert not catalog.database_exists("web")


def test_drop_non_empty_database_needs_cascade(catalog: Catalog) -> None:
    catalog.create_table("db.events", EVENTS)
    catalog.register_external_table(
        "db.raw", location="file:///raw", format="csv", schema=pa.schema([("a", pa.int64())])
    )
    with pytest.raises(ConfigError, match=r"'db' is not empty.*db\.events") as err:
        catalog.drop_database("db")
    assert "cascade=True" in str(err.value)
    assert catalog.table_exists("db.events")

    catalog.drop_database("db", cascade=True)
    assert catalog.list_databases() == []
    catalog.create_database("db")
    assert catalog.list_tables("db") == []  # the external entry went with the database


PARTITIONS = [
    (["country"], ["country"]),
    (["identity(country)"], ["country"]),
    (["year(ts)"], ["year(ts)"]),
    (["month(ts)"], ["month(ts)"]),
    (["day(ts)"], ["day(ts)"]),
    (["hour(ts)"], ["hour(ts)"]),
    (["days(day)"], ["day(day)"]),
    (["bucket(16, id)"], ["bucket(16, id)"]),
    (["truncate(4, name)"], ["truncate(4, name)"]),
    (["day(ts)", "bucket(8, id)", "country"], ["day(ts)", "bucket(8, id)", "country"]),
]


@pytest.mark.parametrize(("spec", "expected"), PARTITIONS, ids=lambda v: ",".join(v))
def test_create_table_with_partition_transform(
    catalog: Catalog, spec: list[str], expected: list[str]
) -> None:
    catalog.create_table("db.events", EVENTS, partition_by=spec)
    table = catalog.load_table("db.events")
    assert isinstance(table, Table)
    assert table.partition_by == expected
    assert table.schema == EVENTS
    fields = table.iceberg.spec().fields
    assert [f.source_id for f in fields] == [
        table.iceberg.schema().find_field(e.split("(")[-1].rstrip(")").split(", ")[-1]).field_id
        for e in expected
    ]


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("day(nope)", "nope"),
        ("day(name)", "cannot apply"),
        ("bucket(id)", "bucket(id)"),
        ("frobnicate(3, id)", "frobnicate"),
        ("bucket(0, id)", "bucket(0, id)"),
    ],
)
def test_bad_partition_spec_is_config_error(catalog: Catalog, spec: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        catalog.create_table("db.events", EVENTS, partition_by=[spec])
    assert not catalog.table_exists("db.events")


def test_properties_and_description_round_trip(open_catalog: Callable[[], Catalog]) -> None:
    catalog = open_catalog()
    catalog.create_database("db")
    catalog.create_table(
        "db.events",
        EVENTS,
        sort_by=["ts desc"],
        properties={"owner": "ml-team"},
        description="click events",
    )
    catalog.set_database_properties("db", comment="the web team's data", owner="web")

    again = open_catalog().load_table("db.events")
    assert isinstance(again, Table)
    assert again.description == "click events"
    assert again.properties["owner"] == "ml-team"
    assert again.sort_by == ["ts desc"]
    again.set_properties(owner="data-team", tier="gold")
    reloaded = open_catalog().load_table("db.events")
    assert isinstance(reloaded, Table)
    assert reloaded.properties["owner"] == "data-team"
    assert reloaded.properties["tier"] == "gold"
    assert open_catalog().database_description("db") == "the web team's data"
    assert catalog.database_properties("db")["owner"] == "web"


def test_create_existing_table(catalog: Catalog) -> None:
    first = catalog.create_table("db.events", EVENTS)
    with pytest.raises(AlreadyExistsError, match=r"db\.events"):
        catalog.create_table("db.events", EVENTS)
    same = catalog.create_table("db.events", EVENTS, exist_ok=True)
    assert same.location == first.location


def test_external_table_round_trip(open_catalog: Callable[[], Catalog]) -> None:
    catalog = open_catalog()
    catalog.create_database("raw")
    schema = pa.schema([("user", pa.string()), ("amount", pa.float64())])
    created = catalog.register_external_table(
        "raw.payments",
        location="file:///data/raw/payments",
        format="CSV",
        schema=schema,
        files=["region=eu/dt=2024-01-01/a.csv", "region=us/dt=2024-01-02/b.csv"],
        partition_columns={"region": "string", "dt": "date32"},
        options={"delimiter": ";", "header": True},
        description="payments as exported",
    )
    assert created.format == "csv"

    loaded = open_catalog().load_table("raw.payments")
    assert isinstance(loaded, ExternalTable)
    assert loaded.kind == "external"
    assert loaded.location == "file:///data/raw/payments"
    assert loaded.schema == schema
    assert loaded.files == ["region=eu/dt=2024-01-01/a.csv", "region=us/dt=2024-01-02/b.csv"]
    # Partition columns keep their order, outermost folder first (not sorted by name).
    assert list(loaded.partition_columns.items()) == [("region", "string"), ("dt", "date32")]
    assert loaded.options == {"delimiter": ";", "header": True}
    assert loaded.description == "payments as exported"
    assert loaded.full_schema.names == ["user", "amount", "region", "dt"]
    assert loaded.full_schema.field("dt").type == pa.date32()
    assert isinstance(loaded.created_at, datetime)

    catalog.create_table("raw.orders", EVENTS)
    assert catalog.list_tables("raw") == ["raw.orders", "raw.payments"]

    with pytest.raises(AlreadyExistsError, match="replace=True"):
        catalog.register_external_table(
            "raw.payments", location="file:///x", format="csv", schema=schema
        )
    with pytest.raises(AlreadyExistsError, match="Iceberg"):
        catalog.register_external_table(
            "raw.orders", location="file:///x", format="csv", schema=schema
        )
    with pytest.raises(AlreadyExistsError, match="external"):
        catalog.create_table("raw.payments", EVENTS)

    catalog.register_external_table(
        "raw.payments", location="file:///x", format="jsonl", schema=schema, replace=True
    )
    replaced = catalog.load_table("raw.payments")
    assert isinstance(replaced, ExternalTable)
    assert (replaced.format, replaced.files, replaced.location) == ("jsonl", [], "file:///x")

    catalog.drop_table("raw.payments")
    assert catalog.list_tables("raw") == ["raw.orders"]


def test_external_table_bad_input(catalog: Catalog) -> None:
    schema = pa.schema([("a", pa.int64())])
    with pytest.raises(ConfigError, match="decimal9000"):
        catalog.register_external_table(
            "db.x",
            location="file:///x",
            format="csv",
            schema=schema,
            partition_columns={"dt": "decimal9000"},
        )
    with pytest.raises(ConfigError, match="options"):
        catalog.register_external_table(
            "db.x", location="file:///x", format="csv", schema=schema, options={"f": object()}
        )
    with pytest.raises(ConfigError, match="format"):
        catalog.register_external_table("db.x", location="file:///x", format="", schema=schema)
    assert not catalog.table_exists("db.x")


def test_two_catalogs_share_one_database(open_catalog: Callable[[], Catalog]) -> None:
    first, second = open_catalog(), open_catalog()
    first.create_database("shared")
    table = first.create_table("shared.events", EVENTS)
    second.register_external_table(
        "shared.files", location="file:///f", format="parquet", schema=EVENTS
    )
    assert second.list_databases() == ["shared"]
    assert first.list_tables("shared") == second.list_tables("shared")
    assert first.list_tables("shared") == ["shared.events", "shared.files"]

    row = {"id": [1], "ts": [datetime(2024, 1, 1)], "day": [None], "name": ["a"], "country": ["DE"]}
    other = second.load_table("shared.events")
    assert isinstance(other, Table)
    other.append(pa.table(row, schema=EVENTS))
    assert table.refresh().scan().column("id").to_pylist() == [1]


def test_not_found_errors_name_the_input(catalog: Catalog) -> None:
    catalog.create_table("db.events", EVENTS)
    with pytest.raises(NotFoundError, match=r"db\.event\b.*did you mean 'db\.events'") as err:
        catalog.load_table("db.event")
    assert "lakebed tables db" in str(err.value)
    with pytest.raises(NotFoundError, match=r"database 'dbx'.*did you mean 'db'"):
        catalog.load_table("dbx.events")
    with pytest.raises(NotFoundError, match="nowhere"):
        catalog.list_tables("nowhere")
    with pytest.raises(NotFoundError, match="nowhere"):
        catalog.drop_database("nowhere")
    with pytest.raises(NotFoundError, match=r"db\.gone"):
        catalog.drop_table("db.gone")
    with pytest.raises(NotFoundError, match="nowhere"):
        catalog.create_table("nowhere.t", EVENTS)
    assert not catalog.table_exists("db.gone")
    with pytest.raises(ConfigError, match=r"database\.table"):
        catalog.load_table("events")
    with pytest.raises(ConfigError, match="'my_table'"):
        catalog.create_table("db.my-table", EVENTS)


def test_drop_table_purge_removes_files(catalog: Catalog, tmp_path: object) -> None:
    table = catalog.create_table("db.events", EVENTS)
    row = {"id": [1], "ts": [datetime(2024, 1, 1)], "day": [None], "name": ["a"], "country": ["DE"]}
    table.append(pa.table(row, schema=EVENTS))
    files = table.plan_files().files
    assert len(files) == 1
    from pathlib import Path
    from urllib.parse import urlparse

    data_file = Path(urlparse(files[0]).path)
    assert data_file.exists()
    catalog.drop_table("db.events", purge=True)
    assert not catalog.table_exists("db.events")
    assert not data_file.exists()


def test_describe_tables(catalog: Catalog) -> None:
    table = catalog.create_table("db.events", EVENTS, partition_by=["day(ts)"], description="ev")
    row = {"id": [1], "ts": [datetime(2024, 1, 1)], "day": [None], "name": ["a"], "country": ["DE"]}
    snap = table.append(pa.table(row, schema=EVENTS))
    catalog.register_external_table(
        "db.raw",
        location="file:///raw",
        format="csv",
        schema=pa.schema([("a", pa.int64())]),
        files=["dt=1/x.csv"],
        partition_columns={"dt": "int32"},
    )
    brief = [describe_table(catalog.load_table(i), brief=True) for i in catalog.list_tables("db")]
    assert brief == [
        {
            "table": "db.events",
            "kind": "iceberg",
            "format": "iceberg",
            "rows": 1,
            "files": 1,
            "description": "ev",
        },
        {
            "table": "db.raw",
            "kind": "external",
            "format": "csv",
            "rows": None,
            "files": 1,
            "description": None,
        },
    ]
    full = describe_table(catalog.load_table("db.events"))
    assert full["partitioning"] == ["day(ts)"]
    assert [c["name"] for c in full["columns"]] == EVENTS.names
    assert full["snapshots"][0]["snapshot_id"] == snap.snapshot_id
    assert full["snapshots"][0]["added_rows"] == 1
    json.dumps(full)  # plain data, ready for the CLI and the HTTP API
    raw = describe_table(catalog.load_table("db.raw"))
    assert raw["columns"][-1] == {
        "name": "dt",
        "type": "int32",
        "nullable": True,
        "partition": True,
    }
