"""Keeps the ingestion/compaction benchmark code from rotting: inputs and helpers, no timings."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from bench.common import Target

from bench import _ingest_common, _ingest_data, data


def test_csv_folder_splits_the_size_over_files_and_is_cached(tmp_path: Path) -> None:
    folder = _ingest_data.csv_folder(0.04, 4, data_dir=tmp_path)
    files = sorted(folder.glob("*.csv"))
    assert len(files) == 4
    assert sum(p.stat().st_size for p in files) >= 0.04 * 2**20
    assert pacsv.read_csv(files[0]).column_names == data.WIDE_SCHEMA.names
    mtime = files[0].stat().st_mtime_ns
    assert _ingest_data.csv_folder(0.04, 4, data_dir=tmp_path) == folder
    assert files[0].stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no temp folders left


def test_small_parquet_files_hold_consecutive_ids(tmp_path: Path) -> None:
    paths = _ingest_data.write_small_parquet(tmp_path, 7, 30)
    assert len(paths) == 7
    tables = [pq.read_table(p) for p in paths]
    assert all(t.num_rows == 30 for t in tables)
    assert tables[0].schema.equals(_ingest_data.SMALL_SCHEMA)
    ids = [i for t in tables for i in t["id"].to_pylist()]
    assert ids == list(range(210))


def test_throughput_results_report_failures_and_row_mismatches() -> None:
    seconds = {"lake": [1.0, 2.0, 3.0], "duck": [4.0, 4.0, 4.0]}
    rows = {"lake": 10, "duck": 11}
    peers: dict[str, Target | None] = {"duck": Target(">=", 0.7), "spark": Target(">=", 3)}
    duck, spark = _ingest_common.throughput_results(
        "b", "lake", peers, seconds, rows, {"spark": "boom"}, size=100, unit="MiB/s", note="n"
    )
    assert duck.value == 50 and duck.peer_value == 25 and duck.ratio == 2 and duck.passed
    assert "ROW COUNT DIFFERS" in duck.note
    assert spark.note.startswith("failed: spark: boom") and spark.passed is None


def test_missing_disk_space_names_the_folder_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"needs .* GiB free under .*--data-dir"):
        _ingest_common.require_free_disk(tmp_path, 1 << 60, "ingest_memory")
