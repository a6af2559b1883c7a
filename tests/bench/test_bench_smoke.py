"""Keeps the benchmark code from rotting: generators and helpers at a tiny size, no timings."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import bench.__main__ as runner
import pyarrow.csv as pacsv
import pytest
from bench.common import SCALES, Result, Target

from bench import (
    compaction,
    crawl,
    csv_to_iceberg,
    data,
    ingest_db,
    ingest_files,
    ingest_memory,
    memory,
    recipe,
    sql_overhead,
    stream_http,
    stream_kafka,
)


def test_wide_csv_has_the_requested_size_and_schema(tmp_path: Path) -> None:
    path = data.wide_csv(0.01, data_dir=tmp_path)  # ~10 KiB
    size = path.stat().st_size
    assert 0.01 * 2**20 <= size < 0.01 * 2**20 + 2_000  # never short, overshoot under ~10 rows
    table = pacsv.read_csv(path)
    assert table.column_names == data.WIDE_SCHEMA.names
    assert table.num_rows > 30
    assert table["id"].to_pylist() == list(range(table.num_rows))
    assert table["rating"].null_count > 0  # realistic: some missing values


def test_wide_csv_is_deterministic_and_cached(tmp_path: Path) -> None:
    first = data.wide_csv(0.005, seed=3, data_dir=tmp_path / "a")
    second = data.wide_csv(0.005, seed=3, data_dir=tmp_path / "b")
    other_seed = data.wide_csv(0.005, seed=4, data_dir=tmp_path / "a")
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other_seed.read_bytes()
    mtime = first.stat().st_mtime_ns
    assert data.wide_csv(0.005, seed=3, data_dir=tmp_path / "a") == first
    assert first.stat().st_mtime_ns == mtime  # served from the cache, not rewritten
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".")]  # no temp files


def test_small_files_are_partitioned_csv_and_jsonl(tmp_path: Path) -> None:
    root = data.small_files(41, data_dir=tmp_path)
    files, size = data.tree_size(root)
    assert files == 41
    assert size > 41 * 100
    csvs = sorted(root.glob("sales/year=*/month=*/*.csv"))
    jsonls = sorted(root.glob("clicks/date=*/region=*/*.jsonl"))
    assert (len(csvs), len(jsonls)) == (21, 20)
    with csvs[0].open() as handle:
        rows = list(csv.DictReader(handle))
    assert 5 <= len(rows) <= 30
    assert set(rows[0]) == {"order_id", "customer", "amount", "ordered_at", "status"}
    record = json.loads(jsonls[0].read_text().splitlines()[0])
    assert set(record) == {"click_id", "user", "url", "ts", "ms_on_page", "referrer"}


def test_targets_and_results_judge_ratios() -> None:
    assert Target(">=", 0.7).check(0.7) and not Target(">=", 0.7).check(0.69)
    assert Target("<", 1.0).check(0.99) and not Target("<", 1.0).check(1.0)
    passed = Result("b", "m", 2.0, "s", "peer", 1.0, 2.0, Target("<=", 1.2))
    assert passed.passed is False
    assert runner.verdict(passed) == "FAIL"
    assert Result("b", "m", 1.0, "s").passed is None


def test_markdown_section_lists_every_result() -> None:
    results = [
        Result("crawl", "first crawl", 0.5, "s", "target", 0.9, 0.55, Target("<=", 1.0), "a|b"),
        Result("memory", "baseline", 120.0, "MiB", "budget", 25.0, 4.8),
    ]
    section = runner.markdown(results, "small")
    table_rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert len(table_rows) == 3  # header + two results
    assert "| pass |" in table_rows[1] and "a/b" in table_rows[1]


def test_every_benchmark_is_registered_with_a_run_function() -> None:
    modules = {
        "csv_to_iceberg": csv_to_iceberg,
        "sql_overhead": sql_overhead,
        "crawl": crawl,
        "memory": memory,
        "ingest_files": ingest_files,
        "ingest_db": ingest_db,
        "ingest_memory": ingest_memory,
        "compaction": compaction,
        "recipe": recipe,
        "stream_kafka": stream_kafka,
        "stream_http": stream_http,
    }
    assert set(runner.BENCHMARKS) == set(modules)
    for name, module in modules.items():
        assert runner.BENCHMARKS[name] == module.__name__
        assert callable(module.run)
    assert SCALES["full"].memory_csv_mb == 4 * SCALES["full"].memory_budget_mb
    assert SCALES["full"].crawl_files == 10_000


def test_unknown_benchmark_name_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        runner.parse_args(["no_such_bench"])
    assert "unknown benchmark no_such_bench" in capsys.readouterr().err
