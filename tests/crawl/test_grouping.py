"""Grouping files into tables: partitions of one table vs separate tables, names."""

from __future__ import annotations

import pyarrow as pa

from lakebed.crawl.grouping import FileFacts, file_stem, plan_tables
from lakebed.crawl.schema_merge import fingerprint

USERS = pa.schema([("id", pa.int64()), ("name", pa.string()), ("email", pa.string())])
USERS_V2 = pa.schema([*USERS, pa.field("country", pa.string())])
ORDERS = pa.schema([("order_id", pa.int64()), ("user_id", pa.int64()), ("amount", pa.float64())])
SCHEMAS = {fingerprint(s): s for s in (USERS, USERS_V2, ORDERS)}


def facts(key: str, schema: pa.Schema, fmt: str = "csv", prefix: str = "raw") -> FileFacts:
    rel = tuple(key.removeprefix(prefix + "/").split("/")) if prefix else tuple(key.split("/"))
    return FileFacts(key=key, rel=rel, format=fmt, fingerprint=fingerprint(schema))


def test_sibling_folders_with_similar_schemas_are_partitions_of_one_table() -> None:
    files = [
        facts("raw/users/date=2024-01-01/a.csv", USERS),
        facts("raw/users/date=2024-01-02/b.csv", USERS_V2),
        facts("raw/users/date=2024-01-03/c.csv", USERS),
    ]
    [table] = plan_tables(files, SCHEMAS, prefix_name="raw")
    assert table.name == "users"
    assert table.folder == ("users",)
    assert [(c.name, c.type) for c in table.partition_columns] == [("date", "date32")]
    assert table.schema.names == ["id", "name", "email", "country"]
    assert len(table.files) == 3
    assert table.partition_folder(table.files[0]) == ("date=2024-01-01",)


def test_dissimilar_sibling_folders_become_separate_tables() -> None:
    files = [
        facts("raw/shop/users/a.csv", USERS),
        facts("raw/shop/orders/b.csv", ORDERS),
        facts("raw/shop/orders/c.csv", ORDERS),
    ]
    tables = plan_tables(files, SCHEMAS, prefix_name="raw")
    assert sorted((t.name, len(t.files), t.folder) for t in tables) == [
        ("shop_orders", 2, ("shop", "orders")),
        ("shop_users", 1, ("shop", "users")),
    ]
    assert all(t.partition_columns == [] for t in tables)


def test_different_formats_split_a_folder() -> None:
    files = [
        facts("raw/events/2024/a.jsonl", USERS, fmt="jsonl"),
        facts("raw/events/2025/b.parquet", USERS, fmt="parquet"),
    ]
    tables = plan_tables(files, SCHEMAS, prefix_name="raw")
    assert sorted(t.name for t in tables) == ["events_2024", "events_2025"]


def test_top_level_files_are_named_after_the_prefix_or_their_stem() -> None:
    one = [facts("raw/a.csv", USERS), facts("raw/b.csv", USERS)]
    [table] = plan_tables(one, SCHEMAS, prefix_name="Raw Data")
    assert table.name == "raw_data" and table.folder == ()
    two = [facts("raw/users.csv", USERS), facts("raw/Orders.2024.csv.gz", ORDERS)]
    assert sorted(t.name for t in plan_tables(two, SCHEMAS, prefix_name="raw")) == [
        "orders_2024",
        "users",
    ]


def test_names_are_unique() -> None:
    files = [
        facts("raw/users.csv", USERS),
        facts("raw/sub/x.csv", ORDERS),
        facts("raw/users/y.csv", ORDERS),
    ]
    names = sorted(t.name for t in plan_tables(files, SCHEMAS, prefix_name="raw"))
    assert names == ["sub", "users", "users_2"]


def test_format_options_must_match() -> None:
    comma = FileFacts("raw/t/a/1.csv", ("t", "a", "1.csv"), "csv", fingerprint(USERS))
    semi = FileFacts(
        "raw/t/b/2.csv", ("t", "b", "2.csv"), "csv", fingerprint(USERS), (("delimiter", ";"),)
    )
    tables = plan_tables([comma, semi], SCHEMAS)
    assert sorted(t.name for t in tables) == ["t_a", "t_b"]
    assert next(t for t in tables if t.name == "t_b").options == {"delimiter": ";"}


def test_file_stem() -> None:
    assert file_stem("events.jsonl.gz") == "events"
    assert file_stem("data") == "data"
    assert file_stem(".hidden") == ".hidden"
