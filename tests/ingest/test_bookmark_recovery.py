"""Bookmarks that survive maintenance and dead runs: rewinding after snapshot expiry, and locks
left behind by a load that died on another host (or in a container that is gone)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.ingest.conftest import write

import lakebed
from lakebed import Lake, NotFoundError
from lakebed.catalog import Table
from lakebed.cli import main
from lakebed.errors import ConflictError
from lakebed.ingest import unlock_bookmark
from lakebed.ingest.runs import Heartbeat, RunLog


def _table(lake: Lake, ident: str) -> Table:
    found = lake.table(ident)
    assert isinstance(found, Table)
    return found


def _count(lake: Lake, ident: str) -> tuple[int, int]:
    row = lake.sql(f"SELECT count(*) AS n, count(DISTINCT id) AS d FROM {ident}").to_pylist()[0]
    return row["n"], row["d"]


def test_rewind_to_the_current_snapshot_after_expiry_keeps_the_bookmark(
    lake: Lake, tmp_path: Path
) -> None:
    src = tmp_path / "in"
    for i in range(3):
        write(src, f"f{i}.csv", f"id,v\n{i},{i}\n")
        lake.ingest(str(src), into="db.t", incremental=True, bookmark="landing")
    lake.optimize("db.t")
    expired = lake.expire_snapshots("db.t", older_than=timedelta(0), retain_last=1)
    [current] = expired.retained_snapshot_ids  # the optimize: it carries no bookmark

    words = lake.rewind_bookmark("db.t", "landing", snapshot_id=current)

    assert words == "3 file(s) loaded"
    assert [b.summary for b in lake.bookmarks("db.t")] == ["3 file(s) loaded"]
    again = lake.ingest(str(src), into="db.t", incremental=True, bookmark="landing")
    assert again.status == "nothing-new"
    assert _count(lake, "db.t") == (3, 3)  # nothing loaded twice


def test_rewind_to_a_snapshot_whose_bookmark_was_expired_is_refused(
    lake: Lake, tmp_path: Path
) -> None:
    src, other = tmp_path / "in", tmp_path / "other"
    write(src, "a.csv", "id\n1\n")
    lake.ingest(str(src), into="db.t", incremental=True, bookmark="landing")
    write(other, "x.csv", "id\n50\n")
    plain = lake.ingest(str(other), into="db.t")  # moves no bookmark
    write(src, "b.csv", "id\n2\n")
    lake.ingest(str(src), into="db.t", incremental=True, bookmark="landing")
    lake.expire_snapshots("db.t", older_than=timedelta(0), retain_last=2)
    [plain_snapshot] = plain.snapshot_ids

    with pytest.raises(NotFoundError, match=rf"bookmark 'landing' at snapshot {plain_snapshot}"):
        lake.rewind_bookmark("db.t", "landing", snapshot_id=plain_snapshot)
    try:
        lake.rewind_bookmark("db.t", "landing", snapshot_id=plain_snapshot)
    except NotFoundError as exc:
        assert exc.fix is not None and "--reset landing" in exc.fix

    assert [b.summary for b in lake.bookmarks("db.t")] == ["2 file(s) loaded"]  # untouched
    assert lake.ingest(str(src), into="db.t", incremental=True, bookmark="landing").parts == 0


# -- locks of dead runs ---------------------------------------------------------------------

#: A load that dies (like an OOM-killed pod) after quarantining its bad record, just before its
#: commit, on a host whose name is gone for good.
DIE = """
import os, socket, sys
socket.gethostname = lambda: "pod-7f9c-old"
import lakebed
from lakebed.catalog import PendingWrite
PendingWrite.commit = lambda *a, **k: os._exit(137)
lake = lakebed.open(sys.argv[1], env={})
lake.ingest(sys.argv[2], into="db.t", incremental=True, bookmark="landing", lock_ttl=sys.argv[3])
"""


def _die_on_another_host(lake_root: Path, src: Path, ttl: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(lakebed.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", DIE, str(lake_root), str(src), ttl],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 137, done.stderr.decode()


def _source(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    write(src, "a.jsonl", '{"id": 1}\n{"id": 2\n{"id": 3}\n')  # line 2 is bad
    return src


def _quarantined(lake: Lake) -> list[str]:
    return lake.sql("SELECT run_id FROM db._quarantine").column("run_id").to_pylist()


def test_a_lock_of_a_run_dead_on_another_host_is_released_by_unlock(
    lake: Lake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _source(tmp_path)
    _die_on_another_host(tmp_path / "lake", src, "10m")
    [dead] = lake.runs(target="db.t")
    assert dead.status == "running" and dead.host == "pod-7f9c-old"
    assert _quarantined(lake) == [dead.run_id]

    with pytest.raises(ConflictError) as blocked:
        lake.ingest(str(src), into="db.t", incremental=True, bookmark="landing")
    assert blocked.value.fix is not None
    assert "lakebed bookmarks db.t --unlock landing" in blocked.value.fix

    code = main(["--lake", str(tmp_path / "lake"), "bookmarks", "db.t", "--unlock", "landing"])
    out = capsys.readouterr().out
    assert code == 0 and "unlocked" in out and "marked failed" in out
    runs = {r.run_id: r for r in lake.runs(target="db.t")}
    assert runs[dead.run_id].status == "failed"
    assert _quarantined(lake) == []  # the dead run's records were taken back

    report = lake.ingest(str(src), into="db.t", incremental=True, bookmark="landing")
    assert (report.rows_written, report.rows_quarantined) == (2, 1)
    assert _count(lake, "db.t") == (2, 2) and _quarantined(lake) == [report.run_id]
    with pytest.raises(NotFoundError, match="is not locked"):
        unlock_bookmark(lake, "db.t", "landing")


def test_a_lock_whose_heartbeat_expired_is_taken_over(lake: Lake, tmp_path: Path) -> None:
    src = _source(tmp_path)
    _die_on_another_host(tmp_path / "lake", src, "1s")
    [dead] = lake.runs(target="db.t")
    assert dead.expires_at is not None
    time.sleep(max(0.0, (dead.expires_at - datetime.now(UTC)).total_seconds()) + 0.2)

    report = lake.ingest(str(src), into="db.t", incremental=True, bookmark="landing")

    assert report.status == "succeeded" and report.rows_written == 2
    assert any(dead.run_id in note for note in report.notes)
    runs = {r.run_id: r for r in lake.runs(target="db.t")}
    assert runs[dead.run_id].status == "failed"
    assert _quarantined(lake) == [report.run_id]  # counted once


def test_a_running_load_renews_its_heartbeat(lake: Lake, tmp_path: Path) -> None:
    write(tmp_path / "in", "a.csv", "id\n1\n")
    report = lake.ingest(str(tmp_path / "in"), into="db.t")
    runs = RunLog(lake.catalog)
    report.run_id = "live-run"
    runs.start(report, job="test", ttl=0.4)
    with Heartbeat(runs, "live-run", ttl=0.4):
        time.sleep(1.0)  # more than twice the ttl
        live = runs.get("live-run")
        assert live is not None and live.alive
    time.sleep(0.5)
    gone = runs.get("live-run")
    assert gone is not None and not gone.alive
    assert [r.run_id for r in runs.abandoned("db.t")] == ["live-run"]
