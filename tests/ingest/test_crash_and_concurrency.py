"""Nothing lost, nothing doubled: loads killed at random points, and writers racing each other.

The crash test SIGKILLs an incremental load process at a random moment, many times, adding a
source file before each attempt so there is always work in flight. After every kill the table
must be at a committed snapshot (it scans, and no id appears twice); at the end one more load
completes and every source row is in the table exactly once, and every bad row in the
quarantine exactly once.

The concurrency test starts several processes at once, appending and merging into one table;
every row each of them loaded must be there.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

import lakebed
from lakebed import Lake
from lakebed.catalog import Table

ROWS_PER_FILE = 3000
LOAD = """
import sys, lakebed
lake = lakebed.open(sys.argv[1], env={})
lake.ingest(sys.argv[2], into="db.t", incremental=True, target_file_size="64KB", parallelism=2)
print("done", flush=True)
"""


def _source_file(folder: Path, n: int) -> None:
    first = n * ROWS_PER_FILE
    lines = [f"{i},{i % 97},name-{i}" for i in range(first, first + ROWS_PER_FILE)]
    lines[7] = f"{first + 7},1,bad-{n},an extra field"  # one malformed row per file
    (folder / f"part-{n:03d}.csv").write_text("id,score,name\n" + "\n".join(lines) + "\n")


def _start(args: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(lakebed.__file__).parents[1])}
    return subprocess.Popen(
        [sys.executable, "-c", LOAD, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _ids(lake: Lake) -> list[int]:
    if not lake.catalog.table_exists("db.t"):
        return []
    return lake.sql("SELECT id FROM db.t").column("id").to_pylist()


@pytest.mark.timeout(420)
def test_sigkill_at_random_points_then_exactly_once(tmp_path: Path) -> None:
    rng = random.Random(20261123)
    root, src = tmp_path / "lake", tmp_path / "src"
    src.mkdir()
    _source_file(src, 0)
    # a first full run, timed, so kills land across the whole of a run
    began = time.monotonic()
    first = _start([str(root), str(src)])
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err.decode()
    duration = time.monotonic() - began
    lake = lakebed.open(root, env={})
    killed = 0
    for n in range(1, 11):
        _source_file(src, n)
        proc = _start([str(root), str(src)])
        time.sleep(rng.uniform(0.3, duration * 1.1))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate(timeout=60)
        ids = _ids(lake)
        assert len(ids) == len(set(ids)), f"duplicate rows after attempt {n}"
        assert len(ids) % (ROWS_PER_FILE - 1) == 0  # whole files only: a committed snapshot
    assert killed >= 5  # most attempts really were cut short
    done = _start([str(root), str(src)])
    _, err = done.communicate(timeout=120)
    assert done.returncode == 0, err.decode()
    expected = [i for n in range(11) for i in range(n * ROWS_PER_FILE, (n + 1) * ROWS_PER_FILE)]
    expected = [i for i in expected if i % ROWS_PER_FILE != 7]
    assert sorted(_ids(lake)) == expected
    bad = lake.sql("SELECT raw FROM db._quarantine").column("raw").to_pylist()
    assert sorted(bad) == sorted(set(bad)) and len(bad) == 11
    stuck = [r for r in lake.runs(target="db.t", limit=100) if r.status == "running"]
    assert stuck == []  # every killed run was settled by a later one
    # data files of killed runs are orphans: after a sweep, the data folder holds exactly the
    # files the table refers to, and every row still reads
    lake.remove_orphan_files("db.t", older_than=timedelta(0))
    table = lake.table("db.t")
    assert isinstance(table, Table)
    data = Path(table.location.removeprefix("file://")) / "data"
    on_disk = {f"file://{path}" for path in data.rglob("*.parquet")}
    assert on_disk == set(table.plan_files().files)
    assert sorted(_ids(lake)) == expected


WRITER = """
import sys, lakebed
lake = lakebed.open(sys.argv[1], env={})
mode = sys.argv[3]
keys = ["id"] if mode == "merge" else []
lake.ingest(sys.argv[2], into="db.t", mode=mode, keys=keys)
"""


def test_concurrent_appends_and_merges_all_land(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    lake = lakebed.open(root, env={})
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "x.csv").write_text("id,who\n" + "\n".join(f"{i},seed" for i in range(100)) + "\n")
    lake.ingest(str(seed), into="db.t")
    procs = []
    env = {**os.environ, "PYTHONPATH": str(Path(lakebed.__file__).parents[1])}
    for w in range(4):
        folder = tmp_path / f"w{w}"
        folder.mkdir()
        mode = "merge" if w % 2 else "append"
        # appenders add new ids; mergers update a slice of the seed ids and add new ones
        ids = range(1000 * (w + 1), 1000 * (w + 1) + 200)
        if mode == "merge":
            ids = [*range(w * 10, w * 10 + 10), *ids]
        lines = "\n".join(f"{i},w{w}" for i in ids)
        (folder / "x.csv").write_text("id,who\n" + lines + "\n")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(root), str(folder), mode],
                env=env,
                stderr=subprocess.PIPE,
            )
        )
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err.decode()
    got = {r["id"]: r["who"] for r in lake.sql("SELECT id, who FROM db.t").to_pylist()}
    assert len(got) == lake.sql("SELECT count(*) AS n FROM db.t").column("n")[0].as_py()
    assert len(got) == 100 + 4 * 200
    for w in range(4):
        assert all(got[i] == f"w{w}" for i in range(1000 * (w + 1), 1000 * (w + 1) + 200))
    assert all(got[i] == "w1" for i in range(10, 20))
    assert all(got[i] == "w3" for i in range(30, 40))
    assert all(got[i] == "seed" for i in range(40, 100))
