"""CDC rows with an operation lakebed does not know, and the layout of a table that exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.ingest.conftest import rows, write

from lakebed import ConfigError, Lake, SchemaError
from lakebed.catalog import Table


def test_cdc_quarantines_rows_with_an_unknown_or_missing_operation(
    lake: Lake, tmp_path: Path
) -> None:
    write(tmp_path / "full", "LOAD001.csv", "id,name\n1,a\n2,b\n3,c\n")
    lake.ingest(str(tmp_path / "full"), into="db.t")
    write(tmp_path / "cdc", "1.csv", "Op,id,name\nX,7,g\nd,1,\n,2,B\nu,3,C\nI,4,d\n")

    report = lake.ingest(str(tmp_path / "cdc"), into="db.t", mode="cdc", keys=["id"])

    assert report.reconciles and (report.rows_read, report.rows_quarantined) == (5, 2)
    assert rows(lake, "db.t") == [
        {"id": 2, "name": "b"},  # the row without an operation changed nothing
        {"id": 3, "name": "C"},
        {"id": 4, "name": "d"},
    ]
    bad = lake.sql("SELECT location, reason FROM db._quarantine ORDER BY location").to_pylist()
    assert [b["location"] for b in bad] == ["row 1", "row 3"]
    assert "'Op' is 'X', not one of I, U, D" in bad[0]["reason"]
    assert "'Op' is null" in bad[1]["reason"]


def test_cdc_without_the_operation_column_points_to_op_column_or_merge(
    lake: Lake, tmp_path: Path
) -> None:
    write(tmp_path / "full", "LOAD001.csv", "id,name\n1,a\n")
    with pytest.raises(SchemaError, match="no operation column 'Op'") as error:
        lake.ingest(str(tmp_path / "full"), into="db.t", mode="cdc", keys=["id"])
    assert error.value.fix is not None
    assert "--op-column" in error.value.fix and "--mode merge" in error.value.fix


def _table(lake: Lake) -> Table:
    found = lake.table("db.t")
    assert isinstance(found, Table)
    return found


def test_later_loads_write_files_of_the_tables_target_size(lake: Lake, tmp_path: Path) -> None:
    lines = "\n".join(f"{i},name-{i},{i * 31 % 1000}" for i in range(3000))
    write(tmp_path / "a", "x.csv", "id,name,score\n" + lines + "\n")
    first = lake.ingest(str(tmp_path / "a"), into="db.t", target_file_size=4096)
    assert first.data_files > 1

    again = lake.ingest(str(tmp_path / "a"), into="db.t")

    assert _table(lake).properties["write.target-file-size-bytes"] == "4096"
    assert again.data_files == first.data_files  # not one 256 MB file


def test_a_layout_other_than_the_tables_is_refused(lake: Lake, tmp_path: Path) -> None:
    write(tmp_path / "a", "x.csv", "id,day,score\n1,2024-01-01,5\n2,2024-01-02,7\n")
    lake.ingest(str(tmp_path / "a"), into="db.t", partition_by=["day"], sort_by=["score desc"])

    with pytest.raises(ConfigError, match=r"partitioned by \['day'\]") as error:
        lake.ingest(str(tmp_path / "a"), into="db.t", partition_by=["bucket(4, id)"])
    assert error.value.fix is not None and "optimize" in error.value.fix
    assert "recreate" in error.value.fix
    with pytest.raises(ConfigError, match=r"sorted by \['score desc'\]"):
        lake.ingest(str(tmp_path / "a"), into="db.t", sort_by=["score"])
    with pytest.raises(ConfigError, match="partitioned by nothing"):
        write(tmp_path / "b", "x.csv", "id\n1\n")
        lake.ingest(str(tmp_path / "b"), into="db.plain")
        lake.ingest(str(tmp_path / "b"), into="db.plain", partition_by=["id"])
    assert len(_table(lake).snapshots()) == 1  # nothing was loaded by the refused loads

    same = lake.ingest(
        str(tmp_path / "a"), into="db.t", partition_by=["identity(day)"], sort_by=["score DESC"]
    )
    assert same.status == "succeeded" and same.rows_written == 2
    assert _table(lake).partition_by == ["day"] and _table(lake).sort_by == ["score desc"]
