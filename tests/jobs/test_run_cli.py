"""`lakebed run`, `lakebed schedule` and `lakebed runs` end to end on a local lake."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lakebed.cli import main
from lakebed.cli import run as _run_commands  # noqa: F401 - registers run, schedule, runs
from lakebed.errors import StorageError
from lakebed.jobs import Scheduler, load_job, run_job
from lakebed.lake import Lake, open_lake

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def lakebed_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LAKEBED_LAKE", raising=False)
    monkeypatch.delenv("LAKEBED_CONFIG", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--lake", str(tmp_path / "lake"), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def write_csv(folder: Path, name: str, first_id: int, rows: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["order_id,sku,amount"]
    lines += [f"{first_id + i},SKU-{i},{10 * (i + 1)}.5" for i in range(rows)]
    (folder / name).write_text("\n".join(lines) + "\n")


@pytest.fixture
def orders_job(tmp_path: Path) -> Path:
    incoming = tmp_path / "incoming" / "orders"
    write_csv(incoming, "day-1.csv", 1, 3)
    write_csv(incoming, "day-2.csv", 10, 2)
    job = tmp_path / "orders.yaml"
    job.write_text(
        "name: orders\n"
        f"source: {incoming}\n"
        "into: shop.${ORDERS_TABLE:-orders}\n"
        "incremental: true\n"
        "schedule: '@hourly'\n"
    )
    return job


def count(cli: Cli, table: str) -> int:
    code, out, err = cli("--json", "sql", f"select count(*) as n from {table}")
    assert code == 0, err
    return int(json.loads(out)[0]["n"])


def test_dry_run_shows_the_plan_and_loads_nothing(lakebed_cli: Cli, orders_job: Path) -> None:
    code, out, _ = lakebed_cli("--json", "run", str(orders_job), "--dry-run")
    assert code == 0
    plan = json.loads(out)
    assert plan["job"] == "orders"
    assert plan["into"] == "shop.orders"
    assert plan["options"] == {"incremental": True}
    assert len(plan["next_runs"]) == 3
    code, out, _ = lakebed_cli("run", str(orders_job), "--dry-run")
    assert code == 0 and "dry run" in out and "shop.orders" in out
    code, out, _ = lakebed_cli("--json", "runs")
    assert code == 0 and json.loads(out) == []


def test_run_loads_a_csv_folder_then_only_new_files(
    lakebed_cli: Cli, orders_job: Path, tmp_path: Path
) -> None:
    code, out, err = lakebed_cli("run", str(orders_job))
    assert code == 0, err
    assert "written" in out and "quarantined" in out and "succeeded" in out
    assert count(lakebed_cli, "shop.orders") == 5

    code, out, _ = lakebed_cli("--json", "run", str(orders_job))
    assert code == 0
    second = json.loads(out)
    assert second["ok"] is True
    assert second["ingest"]["status"] == "nothing-new"
    assert second["ingest"]["rows_written"] == 0

    write_csv(tmp_path / "incoming" / "orders", "day-3.csv", 20, 4)
    code, out, _ = lakebed_cli("--json", "run", str(orders_job))
    third = json.loads(out)["ingest"]
    assert (third["rows_read"], third["rows_written"], third["rows_quarantined"]) == (4, 4, 0)
    assert len(third["snapshot_ids"]) >= 1
    assert count(lakebed_cli, "shop.orders") == 9

    code, out, _ = lakebed_cli("--json", "runs", "--job", "orders")
    runs = json.loads(out)
    assert [r["status"] for r in runs] == ["succeeded", "nothing-new", "succeeded"]
    assert {r["job"] for r in runs} == {"orders"}
    assert [r["rows_written"] for r in runs] == [4, 0, 5]
    code, out, _ = lakebed_cli("--json", "runs", "--limit", "1")
    assert len(json.loads(out)) == 1
    code, out, _ = lakebed_cli("runs")
    assert code == 0 and "ingestion runs" in out
    code, out, _ = lakebed_cli("--json", "runs", "--job", "other")
    assert json.loads(out) == []


def test_a_failing_load_exits_non_zero_with_the_reason(lakebed_cli: Cli, tmp_path: Path) -> None:
    job = tmp_path / "broken.yaml"
    job.write_text(f"name: broken\nsource: {tmp_path / 'nowhere'}\ninto: shop.broken\n")
    code, _, err = lakebed_cli("run", str(job))
    assert code == 1
    assert "job broken failed" in err and "nowhere" in err


def test_a_bad_job_file_exits_non_zero_naming_the_key(lakebed_cli: Cli, tmp_path: Path) -> None:
    job = tmp_path / "typo.yaml"
    job.write_text("name: t\nsource: x\ninto: a.b\nincremantal: true\n")
    code, _, err = lakebed_cli("run", str(job))
    assert code == 1
    assert "typo.yaml" in err and "incremantal" in err and "incremental" in err


def test_schedule_once_runs_every_job(
    lakebed_cli: Cli, orders_job: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "returns.yaml"
    returns = tmp_path / "incoming" / "returns"
    write_csv(returns, "r.csv", 100, 2)
    other.write_text(f"name: returns\nsource: {returns}\ninto: shop.returns\n")
    code, out, err = lakebed_cli("--json", "schedule", str(orders_job), str(other), "--once")
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert [(e["job"], e["event"]) for e in events] == [
        ("orders", "started"),
        ("orders", "succeeded"),
        ("returns", "started"),
        ("returns", "succeeded"),
    ]
    assert events[1]["result"]["ingest"]["rows_written"] == 5
    assert count(lakebed_cli, "shop.orders") == 5
    assert count(lakebed_cli, "shop.returns") == 2


def test_schedule_once_exits_non_zero_when_a_run_fails(lakebed_cli: Cli, tmp_path: Path) -> None:
    job = tmp_path / "broken.yaml"
    job.write_text(f"name: broken\nsource: {tmp_path / 'nowhere'}\ninto: shop.broken\n")
    code, _, err = lakebed_cli("schedule", str(job), "--once")
    assert code == 1
    assert "broken" in err and "1 job run(s) failed" in err


def test_run_job_reports_progress(tmp_path: Path) -> None:
    incoming = tmp_path / "in"
    write_csv(incoming, "a.csv", 1, 3)
    write_csv(incoming, "b.csv", 4, 3)
    (tmp_path / "job.yaml").write_text(f"name: p\nsource: {incoming}\ninto: shop.p\n")
    calls: list[tuple[int, int, int]] = []
    lake = open_lake(tmp_path / "lake")
    result = run_job(lake, load_job(tmp_path / "job.yaml"), progress=lambda *a: calls.append(a))
    assert result.ok and result.exit_code == 0
    assert calls and calls[-1] == (2, 2, 6)


def test_a_trigger_loads_files_as_they_land(tmp_path: Path) -> None:
    """The real scheduler and loads on a fake clock: each new file lands in the table."""
    incoming = tmp_path / "landing"
    incoming.mkdir()
    (tmp_path / "job.yaml").write_text(
        f"name: landing\nsource: {incoming}\ninto: shop.landing\nincremental: true\n"
        f"trigger: {{new_files: {incoming}, poll: 1m}}\n"
    )
    lake = open_lake(tmp_path / "lake")
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    class Clock:
        time = start

        def now(self) -> datetime:
            return self.time

        def sleep(self, seconds: float, stop: threading.Event) -> None:
            scheduler.wait_idle()
            self.time += timedelta(seconds=seconds)
            if self.time == start + timedelta(minutes=1):
                write_csv(incoming, "first.csv", 1, 2)
            if self.time == start + timedelta(minutes=3):
                write_csv(incoming, "second.csv", 10, 3)
            if self.time > start + timedelta(minutes=4):
                stop.set()

    scheduler = Scheduler(lake, [load_job(tmp_path / "job.yaml")], clock=Clock())
    scheduler.run()
    finished = [e for e in scheduler.history if e.kind == "succeeded"]
    assert [e.at.strftime("%H:%M") for e in finished] == ["09:01", "09:03"]
    written = [e.result.report.rows_written for e in finished if e.result and e.result.report]
    assert written == [2, 3]
    assert lake.sql("select count(*) as n from shop.landing").column("n")[0].as_py() == 5
    assert [r.job for r in lake.runs()] == ["landing", "landing"]


def test_a_trigger_job_that_ran_before_waits_for_new_files(tmp_path: Path) -> None:
    incoming = tmp_path / "landing"
    write_csv(incoming, "old.csv", 1, 2)
    (tmp_path / "job.yaml").write_text(
        f"name: landing\nsource: {incoming}\ninto: shop.landing\nincremental: true\n"
        f"trigger: {{new_files: {incoming}, poll: 1m}}\n"
    )
    job = load_job(tmp_path / "job.yaml")
    lake = open_lake(tmp_path / "lake")
    assert run_job(lake, job).ok  # recorded in the run log under "landing"
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    class Clock:
        time = start

        def now(self) -> datetime:
            return self.time

        def sleep(self, seconds: float, stop: threading.Event) -> None:
            scheduler.wait_idle()
            self.time += timedelta(seconds=seconds)
            if self.time == start + timedelta(minutes=2):
                write_csv(incoming, "new.csv", 10, 1)
            if self.time > start + timedelta(minutes=3):
                stop.set()

    scheduler = Scheduler(lake, [job], clock=Clock())
    scheduler.run()
    started = [(e.at.strftime("%H:%M"), e.detail) for e in scheduler.history if e.kind == "started"]
    assert started == [("09:02", "1 new file(s)")]
    assert lake.sql("select count(*) as n from shop.landing").column("n")[0].as_py() == 3


def test_after_steps_run_in_order_after_the_load(lakebed_cli: Cli, tmp_path: Path) -> None:
    incoming = tmp_path / "small"
    job = tmp_path / "small.yaml"
    job.write_text(
        f"name: small\nsource: {incoming}\ninto: shop.small\nincremental: true\n"
        "after: [optimize, expire-snapshots, remove-orphans]\n"
    )
    for day in range(3):  # three loads; each run compacts what the previous ones left
        write_csv(incoming, f"day-{day}.csv", 10 * day, 2)
        code, out, err = lakebed_cli("--json", "run", str(job))
        assert code == 0, err
    result = json.loads(out)
    assert [(s["step"], s["ok"]) for s in result["steps"]] == [
        ("optimize", True),
        ("expire-snapshots", True),
        ("remove-orphans", True),
    ]
    optimized = result["steps"][0]["report"]
    assert optimized["files_before"] == 2 and optimized["files_after"] == 1
    assert count(lakebed_cli, "shop.small") == 6


class DiskFullLake(Lake):
    """A lake whose compaction fails, as it would on a full disk."""

    def optimize(self, ident: str, **options: Any) -> Any:
        raise StorageError(f"no space left writing {ident}", fix="free some space")


def test_a_failing_step_is_recorded_and_the_next_still_runs(tmp_path: Path) -> None:
    incoming = tmp_path / "in"
    write_csv(incoming, "a.csv", 1, 3)
    (tmp_path / "job.yaml").write_text(
        f"name: d\nsource: {incoming}\ninto: shop.d\nafter: [optimize, expire-snapshots]\n"
    )
    lake = DiskFullLake(open_lake(tmp_path / "lake").config)
    result = run_job(lake, load_job(tmp_path / "job.yaml"))
    assert result.report is not None and result.report.rows_written == 3
    assert [(s.step, s.ok) for s in result.steps] == [
        ("optimize", False),
        ("expire-snapshots", True),
    ]
    assert "no space left writing shop.d" in (result.steps[0].error or "")
    assert not result.ok and result.exit_code == 1
    assert result.to_dict()["steps"][0]["error"] == result.steps[0].error
