"""Files from S3 into a lake on S3, and the ``lakebed ingest`` / ``lakebed bookmarks`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.ingest.conftest import rows, write

import lakebed
from lakebed import Lake
from lakebed.cli import main


def test_incremental_load_from_an_s3_prefix(s3_lake: Lake) -> None:
    s3_lake.init()
    s3_lake.put("landing/day=2024-01-01/a.jsonl", b'{"id": 1}\n{"id": 2}\n')
    s3_lake.put("landing/day=2024-01-02/b.csv", b"id\n3\n")
    source = s3_lake.store.uri("landing")
    assert source.startswith("s3://")
    first = s3_lake.ingest(source, into="raw.events", incremental=True)
    assert first.rows_written == 3 and first.reconciles
    s3_lake.put("landing/day=2024-01-02/c.csv", b"id\n4\n")
    second = s3_lake.ingest(source, into="raw.events", incremental=True)
    assert second.parts == 1 and second.rows_written == 1
    assert [r["id"] for r in rows(s3_lake, "raw.events")] == [1, 2, 3, 4]
    assert s3_lake.table("raw.events").location.startswith("s3://")


def test_cli_ingest_and_bookmarks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lake = str(tmp_path / "lake")
    write(tmp_path / "in", "a.csv", "id,name\n1,a\n2,b\n")
    code = main(
        [
            "--lake",
            lake,
            "--json",
            "ingest",
            str(tmp_path / "in"),
            "--into",
            "db.t",
            "--incremental",
            "true",
            "--bookmark",
            "landing",
            "--partition-by",
            "name",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows_written"] == 2 and report["reconciles"] is True
    assert main(["--lake", lake, "--json", "bookmarks", "db.t"]) == 0
    [bookmark] = json.loads(capsys.readouterr().out)
    assert bookmark["name"] == "landing" and bookmark["state"] == "1 file(s) loaded"
    assert main(["--lake", lake, "bookmarks", "db.t", "--reset", "landing"]) == 0
    assert "reset" in capsys.readouterr().out
    code = main(
        ["--lake", lake, "ingest", str(tmp_path / "in"), "--into", "db.t", "--mode", "merge"]
    )
    assert code == 1
    assert "needs keys" in capsys.readouterr().err


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_rewind_to_a_snapshot_reloads_exactly_the_files_after_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake, folder = str(tmp_path / "lake"), tmp_path / "in"
    load = ["--lake", lake, "--json", "ingest", str(folder), "--into", "db.t"]
    load += ["--incremental", "true", "--bookmark", "landing"]
    snapshots = []
    for name, text in [("a.csv", "id\n1\n2\n"), ("b.csv", "id\n3\n"), ("c.csv", "id\n4\n5\n")]:
        write(folder, name, text)
        code, out, _ = _cli(capsys, *load)
        assert code == 0
        [snapshot] = json.loads(out)["snapshot_ids"]
        snapshots.append(snapshot)

    code, out, _ = _cli(
        capsys,
        "--lake",
        lake,
        "bookmarks",
        "db.t",
        "--rewind",
        "landing",
        "--to",
        str(snapshots[0]),
    )
    assert code == 0
    assert "bookmark landing rewound: 1 file(s) loaded" in " ".join(out.split())
    code, out, _ = _cli(capsys, "--lake", lake, "--json", "bookmarks", "db.t")
    assert [b["state"] for b in json.loads(out)] == ["1 file(s) loaded"]

    code, out, _ = _cli(capsys, *load)
    again = json.loads(out)
    assert code == 0 and again["status"] == "succeeded"
    # b.csv and c.csv, loaded after the first snapshot, come again; a.csv does not
    assert (again["parts"], again["rows_read"], again["rows_written"]) == (2, 3, 3)
    got = [r["id"] for r in rows(lakebed.open(lake, env={}), "db.t")]
    assert got == [1, 2, 3, 3, 4, 4, 5, 5]
    code, out, _ = _cli(capsys, *load)
    assert json.loads(out)["status"] == "nothing-new"  # the bookmark moved on with the reload

    # a snapshot the table never had is refused, naming it; the bookmark stays where it was
    code, _, err = _cli(
        capsys, "--lake", lake, "bookmarks", "db.t", "--rewind", "landing", "--to", "12345"
    )
    assert code == 1 and "12345" in err
    code, _, err = _cli(capsys, "--lake", lake, "bookmarks", "db.t", "--rewind", "landing")
    assert code == 2 and "--to SNAPSHOT_ID" in err
    code, out, _ = _cli(capsys, *load)
    assert json.loads(out)["status"] == "nothing-new"
