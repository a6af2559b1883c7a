"""Type widening through ``lake.ingest``: int32 → int64 and float32 → float64.

A first load creates narrow columns; a later load brings wide values. Under the default
``evolve`` policy the table widens in place and old and new rows read back with their values
(append and merge). Under ``strict`` the load is refused with a ``SchemaError`` and nothing
changes, whatever ``on_incompatible`` says (docs/ingest.md, "Schema").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.ingest.conftest import rows

from lakebed import Lake, SchemaError
from lakebed.catalog import Table

BIG = 2**40  # does not fit an int32
TENTH_AS_FLOAT32 = float(np.float32(0.1))  # 0.10000000149011612: what a float32 holds

NARROW = pa.schema([("id", pa.int32()), ("n", pa.int32()), ("x", pa.float32())])
WIDE = pa.schema([("id", pa.int64()), ("n", pa.int64()), ("x", pa.float64())])


def _parquet(folder: Path, schema: pa.Schema, data: dict[str, list[Any]]) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(data, schema=schema), folder / "part.parquet")
    return str(folder)


@pytest.fixture
def narrow(tmp_path: Path) -> str:
    """Two rows with int32 and float32 columns; the second holds int32's smallest value."""
    return _parquet(
        tmp_path / "narrow", NARROW, {"id": [1, 2], "n": [7, -(2**31)], "x": [1.5, 0.1]}
    )


@pytest.fixture
def wide(tmp_path: Path) -> str:
    """Rows with int64 and float64 values: id 2 again (a change for merges) and a new id 3."""
    return _parquet(tmp_path / "wide", WIDE, {"id": [2, 3], "n": [BIG, -BIG], "x": [0.1, 1e300]})


def _table(lake: Lake, ident: str) -> Table:
    table = lake.table(ident)
    assert isinstance(table, Table)
    return table


def _types(lake: Lake, ident: str) -> dict[str, pa.DataType]:
    return {f.name: f.type for f in _table(lake, ident).schema}


def test_evolve_widens_on_append_and_keeps_old_values(lake: Lake, narrow: str, wide: str) -> None:
    lake.ingest(narrow, into="db.t")
    assert _types(lake, "db.t") == {"id": pa.int32(), "n": pa.int32(), "x": pa.float32()}

    report = lake.ingest(wide, into="db.t")
    assert report.status == "succeeded" and report.reconciles
    assert (report.rows_written, report.rows_quarantined) == (2, 0)
    assert sorted(report.schema_changes) == [
        "widened column id to int64",
        "widened column n to int64",
        "widened column x to double",
    ]
    assert _types(lake, "db.t") == {"id": pa.int64(), "n": pa.int64(), "x": pa.float64()}
    assert rows(lake, "db.t", order="id, n") == [
        {"id": 1, "n": 7, "x": 1.5},
        {"id": 2, "n": -(2**31), "x": TENTH_AS_FLOAT32},  # written as int32/float32
        {"id": 2, "n": BIG, "x": 0.1},  # written wide: full precision
        {"id": 3, "n": -BIG, "x": 1e300},
    ]
    # the query engine sees the wide types too, and filters on values only they can hold
    result = lake.sql("SELECT n, x FROM db.t WHERE n > 4294967296")
    assert result.schema.field("n").type == pa.int64()
    assert result.to_pylist() == [{"n": BIG, "x": 0.1}]
    # narrow rows still fit the widened table
    assert lake.ingest(narrow, into="db.t").rows_written == 2
    assert lake.sql("SELECT COUNT(*) AS c FROM db.t").to_pylist() == [{"c": 6}]


def test_evolve_widens_on_merge_including_the_key(lake: Lake, narrow: str, wide: str) -> None:
    lake.ingest(narrow, into="db.t", mode="merge", keys=["id"])
    report = lake.ingest(wide, into="db.t", mode="merge", keys=["id"])
    assert report.status == "succeeded" and report.reconciles
    assert report.rows_deleted == 1  # id 2's old row, replaced
    assert {c.split(" (")[0] for c in report.schema_changes} == {
        "added or widened column id",
        "added or widened column n",
        "added or widened column x",
    }
    assert _types(lake, "db.t") == {"id": pa.int64(), "n": pa.int64(), "x": pa.float64()}
    assert rows(lake, "db.t") == [
        {"id": 1, "n": 7, "x": 1.5},  # untouched, read from the narrow file
        {"id": 2, "n": BIG, "x": 0.1},
        {"id": 3, "n": -BIG, "x": 1e300},
    ]
    # merging narrow rows back into the wide table matches the same keys
    again = lake.ingest(narrow, into="db.t", mode="merge", keys=["id"])
    assert again.rows_deleted == 2
    assert rows(lake, "db.t") == [
        {"id": 1, "n": 7, "x": 1.5},
        {"id": 2, "n": -(2**31), "x": TENTH_AS_FLOAT32},
        {"id": 3, "n": -BIG, "x": 1e300},
    ]


@pytest.mark.parametrize("on_incompatible", ["quarantine", "error"])
@pytest.mark.parametrize("mode", ["append", "merge"])
def test_strict_refuses_widening_and_changes_nothing(
    lake: Lake, narrow: str, wide: str, mode: str, on_incompatible: str
) -> None:
    lake.ingest(narrow, into="db.t", mode=mode, keys=["id"] if mode == "merge" else [])
    before = _table(lake, "db.t").current_snapshot()
    with pytest.raises(SchemaError) as err:
        lake.ingest(
            wide,
            into="db.t",
            mode=mode,
            keys=["id"] if mode == "merge" else [],
            schema_policy="strict",
            on_incompatible=on_incompatible,
        )
    assert "is int32 but" in err.value.message and "has int64" in err.value.message
    assert "strict" in err.value.message and "schema_policy='evolve'" in str(err.value.fix)
    # refused, not quarantined: the table, its schema and the quarantine are as they were
    assert _table(lake, "db.t").current_snapshot() == before
    assert _types(lake, "db.t") == {"id": pa.int32(), "n": pa.int32(), "x": pa.float32()}
    assert rows(lake, "db.t") == [
        {"id": 1, "n": 7, "x": 1.5},
        {"id": 2, "n": -(2**31), "x": TENTH_AS_FLOAT32},
    ]
    [run, _first] = lake.runs(target="db.t")
    assert run.status == "failed" and run.rows_quarantined == 0 and run.snapshot_ids == []
    assert "strict" in (run.error or "")
    assert lake.tables("db") == ["db.t"]  # no quarantine table either
