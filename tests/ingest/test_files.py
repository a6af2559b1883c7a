"""Loading files: formats, partitions, incremental bookmarks, write modes, quarantine."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.ingest.conftest import rows, write

from lakebed import ConfigError, Lake, NotFoundError, SchemaError
from lakebed.catalog import Table
from lakebed.ingest.bookmarks import PREFIX


def table(lake: Lake, ident: str) -> Table:
    found = lake.table(ident)
    assert isinstance(found, Table)
    return found


def test_folder_of_mixed_formats_with_partitions(lake: Lake, tmp_path: Path) -> None:
    src = tmp_path / "orders"
    write(src, "day=2024-01-01/a.csv", "id,amount\n1,10.5\n2,20\n")
    (src / "day=2024-01-02").mkdir()
    with gzip.open(src / "day=2024-01-02/b.jsonl.gz", "wt") as out:
        out.write('{"id": 3, "amount": 30}\n{"id": 4, "amount": 40.25}\n')
    write(src, "_SUCCESS", "")
    report = lake.ingest(str(src), into="shop.orders")
    assert report.status == "succeeded"
    assert (report.rows_read, report.rows_written, report.rows_quarantined) == (4, 4, 0)
    got = rows(lake, "shop.orders")
    assert [r["id"] for r in got] == [1, 2, 3, 4]
    assert [str(r["day"]) for r in got] == ["2024-01-01"] * 2 + ["2024-01-02"] * 2
    assert got[3]["amount"] == 40.25
    assert len(report.snapshot_ids) == 1


def test_bad_records_are_quarantined_and_counts_reconcile(lake: Lake, tmp_path: Path) -> None:
    src = tmp_path / "events"
    write(src, "a.jsonl", '{"id": 1, "n": 5}\n{"id": 2, "n": 6\n{"id": 3, "n": 7}\n')
    write(src, "b.jsonl", '{"id": 4, "n": "seven"}\n{"id": 5, "n": 8}\n')
    report = lake.ingest(str(src), into="web.events", parallelism=1)
    assert report.reconciles
    assert (report.rows_read, report.rows_written, report.rows_quarantined) == (5, 3, 2)
    assert [r["id"] for r in rows(lake, "web.events")] == [1, 3, 5]
    bad = lake.sql(
        "SELECT source, location, reason, raw, run_id FROM web._quarantine ORDER BY source"
    ).to_pylist()
    assert [b["source"].rsplit("/", 1)[-1] for b in bad] == ["a.jsonl", "b.jsonl"]
    assert bad[0]["location"] == "line 2" and '"n": 6' in bad[0]["raw"]
    assert "'seven'" in bad[1]["reason"] and bad[1]["location"] == "row 1"
    assert {b["run_id"] for b in bad} == {report.run_id}


def test_an_unreadable_file_is_quarantined_whole_and_the_rest_loads(
    lake: Lake, tmp_path: Path
) -> None:
    src = tmp_path / "in"
    write(src, "a.csv", "id\n1\n2\n")
    (src / "b.parquet").write_bytes(b"PAR1 this is not really parquet PAR1")
    report = lake.ingest(str(src), into="db.t", parallelism=1)
    assert report.rows_written == 2 and report.rows_quarantined == 1 and report.reconciles
    bad = lake.sql("SELECT source, location, reason FROM db._quarantine").to_pylist()
    assert bad[0]["source"].endswith("b.parquet") and bad[0]["location"] == "whole file"
    assert bad[0]["reason"].startswith("unreadable")


def test_incremental_loads_only_new_or_changed_files(lake: Lake, tmp_path: Path) -> None:
    src = tmp_path / "in"
    write(src, "a.csv", "id,v\n1,a\n2,b\n")
    first = lake.ingest(str(src), into="db.t", incremental=True)
    assert first.rows_written == 2 and first.bookmark and "1 file(s)" in first.bookmark
    again = lake.ingest(str(src), into="db.t", incremental=True)
    assert again.status == "nothing-new" and again.rows_written == 0
    write(src, "b.csv", "id,v\n3,c\n")
    third = lake.ingest(str(src), into="db.t", incremental=True)
    assert third.rows_written == 1
    # rewritten in place: a new size and modification time make it new again
    path = write(src, "b.csv", "id,v\n3,c\n4,d\n")
    os.utime(path, (1_900_000_000, 1_900_000_000))
    fourth = lake.ingest(str(src), into="db.t", incremental=True)
    assert fourth.rows_written == 2
    assert [r["id"] for r in rows(lake, "db.t")] == [1, 2, 3, 3, 4]
    t = table(lake, "db.t")
    snap = t.current_snapshot()
    assert snap is not None
    key = next(k for k in snap.summary if k.startswith(PREFIX))
    assert t.properties[key] == snap.summary[key]  # the bookmark moved in the same commit


def test_bookmark_of_many_files_lives_in_a_file(lake: Lake, tmp_path: Path) -> None:
    src = tmp_path / "in"
    for i in range(60):
        write(src, f"part-{i:04d}-with-a-long-name.csv", f"id\n{i}\n")
    report = lake.ingest(str(src), into="db.t", incremental=True)
    assert report.rows_written == 60
    pointer = json.loads(
        next(v for k, v in table(lake, "db.t").properties.items() if k.startswith(PREFIX))
    )
    assert pointer["file"].endswith(".json")
    write(src, "z.csv", "id\n99\n")
    assert lake.ingest(str(src), into="db.t", incremental=True).rows_written == 1


def test_bookmarks_list_reset_and_rewind(lake: Lake, tmp_path: Path) -> None:
    src = tmp_path / "in"
    write(src, "a.csv", "id\n1\n")
    lake.ingest(str(src), into="db.t", incremental=True, bookmark="landing")
    after_a = table(lake, "db.t").current_snapshot()
    assert after_a is not None
    write(src, "b.csv", "id\n2\n")
    lake.ingest(str(src), into="db.t", incremental=True, bookmark="landing")
    [info] = lake.bookmarks("db.t")
    assert info.name == "landing" and info.summary == "2 file(s) loaded"
    words = lake.rewind_bookmark("db.t", "landing", snapshot_id=after_a.snapshot_id)
    assert words == "1 file(s) loaded"
    again = lake.ingest(str(src), into="db.t", incremental=True, bookmark="landing")
    assert again.rows_written == 1  # b.csv again
    lake.reset_bookmark("db.t", "landing")
    assert lake.bookmarks("db.t") == []
    assert lake.ingest(str(src), into="db.t", incremental=True, bookmark="landing").parts == 2
    with pytest.raises(NotFoundError, match="no bookmark 'nope'"):
        lake.reset_bookmark("db.t", "nope")


def test_overwrite_replaces_the_table(lake: Lake, tmp_path: Path) -> None:
    write(tmp_path / "a", "x.csv", "id\n1\n2\n")
    write(tmp_path / "b", "x.csv", "id\n7\n")
    lake.ingest(str(tmp_path / "a"), into="db.t")
    report = lake.ingest(str(tmp_path / "b"), into="db.t", mode="overwrite")
    assert report.rows_deleted == 2
    assert [r["id"] for r in rows(lake, "db.t")] == [7]


def test_overwrite_partitions_replaces_only_the_partitions_touched(
    lake: Lake, tmp_path: Path
) -> None:
    write(tmp_path / "a", "x.csv", "id,day\n1,2024-01-01\n2,2024-01-02\n3,2024-01-03\n")
    write(tmp_path / "b", "x.csv", "id,day\n20,2024-01-02\n21,2024-01-02\n")
    lake.ingest(str(tmp_path / "a"), into="db.t", partition_by=["day"])
    report = lake.ingest(str(tmp_path / "b"), into="db.t", mode="overwrite-partitions")
    assert report.rows_deleted == 1
    assert [r["id"] for r in rows(lake, "db.t")] == [1, 3, 20, 21]


def test_merge_upserts_on_keys_last_row_wins(lake: Lake, tmp_path: Path) -> None:
    write(tmp_path / "a", "x.csv", "id,name\n1,a\n2,b\n3,c\n")
    write(tmp_path / "b", "x.csv", "id,name\n2,B\n4,d\n4,D\n")
    lake.ingest(str(tmp_path / "a"), into="db.t")
    report = lake.ingest(str(tmp_path / "b"), into="db.t", mode="merge", keys=["id"])
    assert report.status == "succeeded" and report.reconciles
    assert rows(lake, "db.t") == [
        {"id": 1, "name": "a"},
        {"id": 2, "name": "B"},
        {"id": 3, "name": "c"},
        {"id": 4, "name": "D"},
    ]
    assert len(table(lake, "db.t").snapshots()) == 2  # one snapshot per load


def test_merge_on_a_composite_key_into_a_partitioned_table(lake: Lake, tmp_path: Path) -> None:
    write(tmp_path / "a", "x.csv", "shop,id,qty\na,1,1\nb,1,2\na,2,3\n")
    write(tmp_path / "b", "x.csv", "shop,id,qty\nb,1,20\nc,1,30\n")
    lake.ingest(str(tmp_path / "a"), into="db.t", partition_by=["shop"])
    lake.ingest(str(tmp_path / "b"), into="db.t", mode="merge", keys=["shop", "id"])
    got = lake.sql("SELECT shop, id, qty FROM db.t ORDER BY shop, id").to_pylist()
    assert [(r["shop"], r["id"], r["qty"]) for r in got] == [
        ("a", 1, 1),
        ("a", 2, 3),
        ("b", 1, 20),
        ("c", 1, 30),
    ]


def test_cdc_applies_inserts_updates_and_deletes_in_order(lake: Lake, tmp_path: Path) -> None:
    write(tmp_path / "full", "LOAD001.csv", "id,name\n1,a\n2,b\n3,c\n")
    cdc = tmp_path / "cdc"
    write(cdc, "20240101-000001.csv", "Op,id,name\nI,5,e\nU,1,A\nD,3,\n")
    write(cdc, "20240101-000002.csv", "Op,id,name\nD,5,\nI,6,f\nU,6,F\n")
    lake.ingest(str(tmp_path / "full"), into="db.t")
    report = lake.ingest(str(cdc), into="db.t", mode="cdc", keys=["id"])
    assert report.rows_written == 6 and report.reconciles
    assert rows(lake, "db.t") == [
        {"id": 1, "name": "A"},
        {"id": 2, "name": "b"},
        {"id": 6, "name": "F"},
    ]
    assert "Op" not in lake.table("db.t").schema.names


def test_cdc_orders_by_a_sequence_column(lake: Lake, tmp_path: Path) -> None:
    write(tmp_path / "cdc", "x.csv", "Op,seq,id,name\nU,3,1,late\nI,1,1,first\nU,2,1,mid\n")
    lake.ingest(str(tmp_path / "cdc"), into="db.t", mode="cdc", keys=["id"], sequence_column="seq")
    assert [r["name"] for r in rows(lake, "db.t")] == ["late"]


def test_merge_rows_without_a_key_are_quarantined(lake: Lake, tmp_path: Path) -> None:
    write(tmp_path / "a", "x.csv", "id,name\n1,a\n,orphan\n")
    report = lake.ingest(str(tmp_path / "a"), into="db.t", mode="merge", keys=["id"])
    assert report.rows_quarantined == 1 and report.reconciles
    bad = lake.sql("SELECT reason FROM db._quarantine").to_pylist()
    assert "null" in bad[0]["reason"]


def test_new_columns_are_added_and_strict_policy_refuses_them(lake: Lake, tmp_path: Path) -> None:
    write(tmp_path / "a", "x.csv", "id\n1\n")
    write(tmp_path / "b", "x.csv", "id,extra\n2,x\n")
    lake.ingest(str(tmp_path / "a"), into="db.t")
    with pytest.raises(SchemaError, match=r"column 'extra'.*strict"):
        lake.ingest(str(tmp_path / "b"), into="db.t", schema_policy="strict")
    report = lake.ingest(str(tmp_path / "b"), into="db.t")
    assert report.schema_changes == ["added column extra (string)"]
    assert rows(lake, "db.t") == [{"id": 1, "extra": None}, {"id": 2, "extra": "x"}]


def test_incompatible_values_error_when_asked(lake: Lake, tmp_path: Path) -> None:
    write(tmp_path / "a", "x.csv", "id,n\n1,5\n")
    write(tmp_path / "b", "x.csv", "id,n\n2,five\n")
    lake.ingest(str(tmp_path / "a"), into="db.t")
    with pytest.raises(SchemaError, match=r"row 1: column 'n': 'five' cannot be stored as int64"):
        lake.ingest(str(tmp_path / "b"), into="db.t", on_incompatible="error")
    runs = lake.runs(target="db.t")
    assert runs[0].status == "failed" and "five" in (runs[0].error or "")
    assert [r["id"] for r in rows(lake, "db.t")] == [1]  # nothing half-written


def test_layout_partitioning_sort_and_file_size(lake: Lake, tmp_path: Path) -> None:
    lines = "\n".join(f"{i},{(i * 7919) % 1000},2024-01-0{1 + i % 3}" for i in range(3000))
    write(tmp_path / "a", "x.csv", "id,score,day\n" + lines + "\n")
    lake.ingest(
        str(tmp_path / "a"),
        into="db.t",
        partition_by=["day"],
        sort_by=["score desc"],
        target_file_size="1MB",
    )
    t = table(lake, "db.t")
    assert t.partition_by == ["day"] and t.sort_by == ["score desc"]
    assert t.properties["write.target-file-size-bytes"] == str(1 << 20)
    for path in t.plan_files().files:
        scores = pq.read_table(path.removeprefix("file://"), columns=["score"]).column(0)
        assert scores.to_pylist() == sorted(scores.to_pylist(), reverse=True)
    assert t.stats().data_files == 3  # one per day
    small = lake.ingest(str(tmp_path / "a"), into="db.t2", target_file_size=4096)
    assert small.data_files > 1


def test_bad_options_are_clear_errors(lake: Lake, tmp_path: Path) -> None:
    write(tmp_path / "a", "x.csv", "id\n1\n")
    with pytest.raises(ConfigError, match="needs keys"):
        lake.ingest(str(tmp_path / "a"), into="db.t", mode="merge")
    with pytest.raises(ConfigError, match="unknown format 'xls'"):
        lake.ingest(str(tmp_path / "a"), into="db.t", format="xls")
    with pytest.raises(ConfigError, match="database sources"):
        lake.ingest(str(tmp_path / "a"), into="db.t", table="orders")
    with pytest.raises(ConfigError, match="incremental=True"):
        lake.ingest(str(tmp_path / "a"), into="db.t", incremental="id")
    with pytest.raises(ConfigError, match="target_file_size"):
        lake.ingest(str(tmp_path / "a"), into="db.t", target_file_size="big")
    with pytest.raises(NotFoundError):
        lake.ingest(str(tmp_path / "missing"), into="db.t")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotFoundError, match="no files to load"):
        lake.ingest(str(tmp_path / "empty"), into="db.t")


def test_runs_are_recorded(lake: Lake, tmp_path: Path) -> None:
    write(tmp_path / "a", "x.csv", "id\n1\n")
    report = lake.ingest(str(tmp_path / "a"), into="db.t", job="nightly")
    [run] = lake.runs(job="nightly")
    assert run.run_id == report.run_id and run.status == "succeeded"
    assert run.rows_written == 1 and run.snapshot_ids == report.snapshot_ids
    assert run.finished_at is not None and run.finished_at >= run.started_at


def test_given_types_shape_the_new_table(lake: Lake, tmp_path: Path) -> None:
    write(tmp_path / "a", "x.csv", "id,amount,day\n1,10.50,2024-01-01\n2,oops,2024-01-02\n")
    report = lake.ingest(
        str(tmp_path / "a"),
        into="db.t",
        types={"amount": "decimal(10,2)", "day": "string"},
    )
    t = table(lake, "db.t")
    assert str(t.schema.field("amount").type) == "decimal128(10, 2)"
    assert str(t.schema.field("day").type) == "string"
    assert report.rows_written == 1 and report.rows_quarantined == 1
    with pytest.raises(ConfigError, match="unknown type 'money'"):
        lake.ingest(str(tmp_path / "a"), into="db.t2", types={"amount": "money"})


def test_incremental_overwrite_with_nothing_new_keeps_the_table(lake: Lake, tmp_path: Path) -> None:
    write(tmp_path / "a", "x.csv", "id\n1\n2\n")
    options = {"mode": "overwrite", "incremental": True}
    assert lake.ingest(str(tmp_path / "a"), into="db.t", **options).rows_written == 2
    assert lake.ingest(str(tmp_path / "a"), into="db.t", **options).status == "nothing-new"
    assert [r["id"] for r in rows(lake, "db.t")] == [1, 2]
