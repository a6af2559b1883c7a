"""Partition columns and values from folder paths."""

from __future__ import annotations

from datetime import date

from lakebed.crawl.partitions import (
    infer_type,
    partition_columns,
    partition_values,
    sanitize_name,
    split_segment,
)


def test_split_segment() -> None:
    assert split_segment("date=2024-01-01") == ("date", "2024-01-01")
    assert split_segment("city=New%20York") == ("city", "New York")
    assert split_segment("2024") == (None, "2024")
    assert split_segment("=x") == (None, "=x")


def test_infer_type_from_values() -> None:
    assert infer_type(["2024", "2025", None]) == "int64"
    assert infer_type(["2024-01-01", "2024-02-29"]) == "date32"
    assert infer_type(["2023-02-29"]) == "string"  # not a real day
    assert infer_type(["DE", "FR"]) == "string"
    assert infer_type(["1", "x"]) == "string"
    assert infer_type([None]) == "string"


def test_hive_folders_give_named_typed_columns() -> None:
    folders = [("date=2024-01-01", "country=DE"), ("date=2024-01-02", "country=FR")]
    cols = partition_columns(folders)
    assert [(c.name, c.type) for c in cols] == [("date", "date32"), ("country", "string")]
    assert partition_values(folders[1], cols) == {"date": date(2024, 1, 2), "country": "FR"}


def test_plain_folders_give_numbered_columns() -> None:
    folders = [("2024", "01"), ("2024", "02"), ("2025", "12")]
    cols = partition_columns(folders)
    assert [(c.name, c.type) for c in cols] == [("partition_0", "int64"), ("partition_1", "int64")]
    assert partition_values(("2025", "12"), cols) == {"partition_0": 2025, "partition_1": 12}


def test_mixed_levels_shallow_files_and_hive_nulls() -> None:
    folders = [("year=2024",), ("year=__HIVE_DEFAULT_PARTITION__", "extra"), ()]
    cols = partition_columns(folders)
    assert [(c.name, c.type) for c in cols] == [("year", "int64"), ("partition_1", "string")]
    assert partition_values(("year=__HIVE_DEFAULT_PARTITION__", "extra"), cols) == {
        "year": None,
        "partition_1": "extra",
    }
    assert partition_values((), cols) == {"year": None, "partition_1": None}


def test_partition_names_avoid_data_columns() -> None:
    cols = partition_columns([("date=2024-01-01",)], reserved=["Date", "id"])
    assert cols[0].name == "date_part"


def test_sanitize_name() -> None:
    assert sanitize_name("Click Stream-2024") == "click_stream_2024"
    assert sanitize_name("2024") == "_2024"
    assert sanitize_name("***") == "table"
