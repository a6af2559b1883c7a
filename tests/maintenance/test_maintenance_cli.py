"""The maintenance commands, as a user types them."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest

import lakebed
import lakebed.cli.maintenance
from lakebed.cli import main
from lakebed.maintenance.durations import parse_duration

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])


@pytest.fixture
def lake_root(tmp_path: Path) -> str:
    root = tmp_path / "lake"
    lake = lakebed.open(root, env={})
    table = lake.create_table("db.items", schema=SCHEMA)
    for i in range(5):
        table.append(pa.table({"id": [5 - i], "name": [f"n{i}"]}, schema=SCHEMA))
    return str(root)


def _run(root: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--lake", root, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_optimize_expire_and_remove_orphans(
    lake_root: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        lake_root, capsys, "--json", "optimize", "db.items", "--target-file-size", "64MB",
        "--sort-by", "id",
    )  # fmt: skip
    assert code == 0
    report = json.loads(out)
    assert (report["files_before"], report["files_after"]) == (5, 1)
    assert report["target_file_size"] == 64 << 20

    code, out, _ = _run(
        lake_root,
        capsys,
        "expire-snapshots",
        "db.items",
        "--retain-last",
        "2",
        "--older-than",
        "0s",
    )
    assert code == 0 and "snapshots expired" in out
    table = lakebed.open(lake_root, env={}).table("db.items")
    assert len(table.snapshots()) == 2
    assert table.scan().column("id").to_pylist() == [1, 2, 3, 4, 5]

    stray = Path(table.location.removeprefix("file://")) / "data" / "stray.parquet"
    stray.write_bytes(b"x")
    code, out, _ = _run(
        lake_root, capsys, "--json", "remove-orphans", "db.items", "--older-than", "0s",
        "--dry-run",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["orphans"] == [stray.as_uri()]
    assert stray.exists()
    code, out, _ = _run(lake_root, capsys, "remove-orphans", "db.items", "--older-than", "0s")
    assert code == 0 and "deleted" in out and not stray.exists()


def test_nothing_to_do_is_not_an_error(lake_root: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(lake_root, capsys, "expire-snapshots", "db.items", "--older-than", "7d")
    assert code == 0 and len(lakebed.open(lake_root, env={}).table("db.items").snapshots()) == 5
    code, out, _ = _run(lake_root, capsys, "optimize", "db.items", "--min-input-files", "9")
    assert code == 0 and "nothing to compact" in out


def test_bad_input_exits_1_with_the_fix(lake_root: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(lake_root, capsys, "remove-orphans", "db.items", "--older-than", "3x")
    assert code == 1 and "30m, 12h, 7d" in err
    code, _, err = _run(lake_root, capsys, "optimize", "db.items", "--target-file-size", "big")
    assert code == 1 and "128MB" in err
    code, _, err = _run(lake_root, capsys, "optimize", "db.nope")
    assert code == 1 and "does not exist" in err


def test_external_tables_are_refused(lake_root: str, capsys: pytest.CaptureFixture[str]) -> None:
    lake = lakebed.open(lake_root, env={})
    lake.put("raw/events/part-0.jsonl", b'{"a": 1}\n{"a": 2}\n')
    lake.crawl("lake://raw", database="raw")
    code, _, err = _run(lake_root, capsys, "optimize", "raw.events")
    assert code == 1 and "external table" in err and "--convert" in err


def test_durations() -> None:
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("1.5 w") == timedelta(days=10.5)
