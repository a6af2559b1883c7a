"""Deciding table work from the plan and the last crawl's state (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from lakebed.crawl.grouping import FileFacts, PlannedTable
from lakebed.crawl.reconcile import plan_work
from lakebed.crawl.state import FileState, diff_listing, to_micros
from lakebed.storage.base import ObjectInfo

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SCHEMA = pa.schema([("a", pa.int64())])


def planned(name: str, *keys: str) -> PlannedTable:
    files = [FileFacts(k, tuple(k.split("/")), "csv", "fp") for k in keys]
    return PlannedTable(name, (name,), "csv", {}, files, [], SCHEMA)


def listed(*keys: str, size: int = 1) -> list[ObjectInfo]:
    return [ObjectInfo(k, size, T0) for k in keys]


def state(key: str, table: str, gone: bool = False) -> FileState:
    return FileState(key, 1, to_micros(T0), format="csv", fingerprint="fp", table=table, gone=gone)


def ident(table: PlannedTable) -> str:
    return f"db.{table.name}"


def test_new_tables_are_created_and_same_files_are_unchanged() -> None:
    known = {"t/1.csv": state("t/1.csv", "db.t")}
    diff = diff_listing(listed("t/1.csv", "u/1.csv"), known)
    works, retired = plan_work(
        [planned("t", "t/1.csv"), planned("u", "u/1.csv")], ident, known, diff, {"db.t"}, "delete"
    )
    assert [(w.ident, w.action, w.rebuild) for w in works] == [
        ("db.t", "unchanged", False),
        ("db.u", "created", False),
    ]
    assert works[1].new_keys == ["u/1.csv"]
    assert retired == []


def test_added_files_append_and_changed_files_rebuild() -> None:
    known = {"t/1.csv": state("t/1.csv", "db.t"), "v/1.csv": state("v/1.csv", "db.v")}
    diff = diff_listing(listed("t/1.csv", "t/2.csv") + listed("v/1.csv", size=9), known)
    works, _ = plan_work(
        [planned("t", "t/1.csv", "t/2.csv"), planned("v", "v/1.csv")],
        ident,
        known,
        diff,
        {"db.t", "db.v"},
        "delete",
    )
    t, v = works
    assert (t.action, t.rebuild, t.new_keys) == ("updated", False, ["t/2.csv"])
    assert (v.action, v.rebuild) == ("updated", True)


def test_removed_files_follow_the_policy() -> None:
    known = {"t/1.csv": state("t/1.csv", "db.t"), "t/2.csv": state("t/2.csv", "db.t")}
    diff = diff_listing(listed("t/1.csv"), known)
    table = planned("t", "t/1.csv")
    [deleted], _ = plan_work([table], ident, known, diff, {"db.t"}, "delete")
    assert (deleted.action, deleted.rebuild, deleted.retained, deleted.removed) == (
        "updated",
        True,
        [],
        1,
    )
    [logged], _ = plan_work([table], ident, known, diff, {"db.t"}, "log")
    assert (logged.action, logged.retained) == ("unchanged", ["t/2.csv"])


def test_tables_without_files_are_retired_once() -> None:
    known = {"t/1.csv": state("t/1.csv", "db.t")}
    diff = diff_listing([], known)
    for policy, action in (
        ("delete", "deleted"),
        ("deprecate", "deprecated"),
        ("log", "unchanged"),
    ):
        _, [retired] = plan_work([], ident, known, diff, {"db.t"}, policy)
        assert (retired.ident, retired.action, retired.removed) == ("db.t", action, 1)
    # under "log" the state keeps the file as gone; the next crawl stays quiet
    gone = {"t/1.csv": state("t/1.csv", "db.t", gone=True)}
    assert plan_work([], ident, gone, diff_listing([], gone), {"db.t"}, "log") == ([], [])
    # a table the user dropped meanwhile is left alone
    assert plan_work([], ident, known, diff, set(), "delete") == ([], [])


def test_an_existing_table_unknown_to_the_state_is_adopted_and_rebuilt() -> None:
    diff = diff_listing(listed("t/1.csv"), {})
    [work], _ = plan_work([planned("t", "t/1.csv")], ident, {}, diff, {"db.t"}, "delete")
    assert (work.action, work.adopted, work.rebuild) == ("updated", True, True)
