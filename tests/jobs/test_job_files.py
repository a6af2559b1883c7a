"""Job files: what a good one becomes, and the message each kind of mistake gets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lakebed.errors import ConfigError, NotFoundError
from lakebed.jobs import Job, load_job

GOOD = """\
name: orders
source: postgresql://app:${DB_PASSWORD}@db/shop
into: shop.orders
mode: merge
keys: [id]
incremental: updated_at
target_file_size: 128MB
schedule: "*/15 * * * *"
trigger:
  new_files: s3://bucket/incoming/
  poll: 2m
after: [optimize, expire-snapshots]
"""


def write(tmp_path: Path, text: str, name: str = "job.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def minimal(extra: str = "") -> str:
    return "name: orders\nsource: data/orders\ninto: shop.orders\n" + extra


def test_a_full_job_file(tmp_path: Path) -> None:
    job = load_job(write(tmp_path, GOOD), env={"DB_PASSWORD": "s3cret"})
    assert job.name == "orders"
    assert job.source == "postgresql://app:s3cret@db/shop"
    assert job.into == "shop.orders"
    assert job.options.mode == "merge"
    assert job.options.keys == ("id",)
    assert job.options.target_file_size == 128 << 20
    assert str(job.schedule) == "*/15 * * * *"
    assert job.trigger is not None
    assert job.trigger.new_files == "s3://bucket/incoming/"
    assert job.trigger.poll == 120.0
    assert job.after == ("optimize", "expire-snapshots")
    # only what the file says goes to lake.ingest
    assert job.ingest_kwargs() == {
        "mode": "merge",
        "keys": ("id",),
        "incremental": "updated_at",
        "target_file_size": 128 << 20,
    }


def test_the_plan_hides_the_password(tmp_path: Path) -> None:
    job = load_job(write(tmp_path, GOOD), env={"DB_PASSWORD": "s3cret"})
    plan = job.plan()
    assert plan["source"] == "postgresql://app:***@db/shop"
    assert "s3cret" not in json.dumps(plan, default=str)
    assert plan["options"]["keys"] == ("id",)


def test_json_job_file(tmp_path: Path) -> None:
    data = {"name": "clicks", "source": "lake://raw/clicks", "into": "web.clicks", "after": []}
    job = load_job(write(tmp_path, json.dumps(data), "clicks.json"))
    assert (job.name, job.source, job.into) == ("clicks", "lake://raw/clicks", "web.clicks")
    assert job.options.mode == "append"
    assert job.schedule is None and job.trigger is None


def test_defaults_and_single_values(tmp_path: Path) -> None:
    job = load_job(write(tmp_path, minimal("keys: id\nmode: merge\nafter: optimize\n")))
    assert job.options.keys == ("id",)
    assert job.after == ("optimize",)
    assert job.path == tmp_path / "job.yaml"


def test_env_defaults_and_literal_dollar(tmp_path: Path) -> None:
    text = minimal('format_options: {delimiter: "${SEP:-;}", note: "$${NOT_A_VAR}"}\n')
    job = load_job(write(tmp_path, text), env={})
    assert job.options.format_options == {"delimiter": ";", "note": "${NOT_A_VAR}"}


def test_missing_env_var_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    with pytest.raises(ConfigError) as caught:
        load_job(path, env={})
    message = str(caught.value)
    assert "DB_PASSWORD" in message and "job.yaml" in message and "source" in message
    assert "export DB_PASSWORD" in (caught.value.fix or "")


def test_env_comes_from_the_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEBED_TEST_TABLE", "orders_v2")
    job = load_job(write(tmp_path, "name: o\nsource: x\ninto: shop.${LAKEBED_TEST_TABLE}\n"))
    assert job.into == "shop.orders_v2"


@pytest.mark.parametrize(
    ("text", "expected", "fix"),
    [
        ("name: o\nsource: x\n", "has no 'into'", "add 'into: ...'"),
        ("source: x\ninto: a.b\n", "has no 'name'", "add 'name: ...'"),
        (minimal("modee: append\n"), "unknown key 'modee'", "did you mean 'mode'?"),
        (minimal("schedul: '@daily'\n"), "unknown key 'schedul'", "did you mean 'schedule'?"),
        (minimal("mode: upsert\n"), "mode: Input should be", "ingest options"),
        (minimal("mode: merge\n"), "mode 'merge' needs keys", "ingest options"),
        (minimal("target_file_size: huge\n"), "target_file_size 'huge' is not a size", "128MB"),
        (minimal("parallelism: 0\n"), "parallelism: Input should be greater", "ingest"),
        (minimal("table: t\nquery: select 1\n"), "give a table or a query, not both", "ingest"),
        ("name: Orders!\nsource: x\ninto: a.b\n", "name: String should match", "lower-case"),
        ("name: o\nsource: ''\ninto: a.b\n", "source: String should have at least 1", "docs"),
        ("name: o\nsource: x\ninto: nodot\n", "expected 'database.table'", "<database>.<table>"),
        ("name: o\nsource: x\ninto: 1db.t\n", "invalid database name '1db'", "_1db"),
        (minimal("schedule: '61 * * * *'\n"), "schedule: cron expression", "minute takes"),
        (minimal("schedule: 15\n"), "schedule: a schedule is a cron expression", "cron"),
        (minimal("after: [vacuum]\n"), "after.0: Input should be 'optimize'", "after takes"),
        (minimal("trigger: {new_files: x, pol: 3}\n"), "trigger.pol: Extra inputs", "poll"),
        (minimal("trigger: {new_files: x, poll: soon}\n"), "trigger.poll: 'soon'", "poll"),
        (minimal("trigger: {new_files: x, poll: 0}\n"), "trigger.poll: a duration must", "poll"),
        (minimal("trigger: {poll: 5s}\n"), "trigger.new_files: Field required", "new_files"),
        (minimal("trigger: s3://b/in/\n"), "trigger: Input should be", "new_files"),
        (minimal("source2: x\n"), "unknown key 'source2'", "did you mean 'source'?"),
        (minimal("note: '${bad-name}'\n"), "is not a variable name", "letters"),
        ("- name: o\n", "must be a mapping", "name: ..."),
        ("", "is empty", "name: ..."),
        ("name: o\n  bad: [\n", "is not valid YAML at line", "indentation"),
        (minimal("schedule: */5 * * * *\n"), "not valid YAML at line 4", "quote values"),
    ],
)
def test_bad_job_files_name_file_key_and_fix(
    tmp_path: Path, text: str, expected: str, fix: str
) -> None:
    path = write(tmp_path, text, "bad-job.yaml")
    with pytest.raises(ConfigError) as caught:
        load_job(path, env={})
    assert "bad-job.yaml" in caught.value.message
    assert expected in caught.value.message
    assert fix in (caught.value.fix or "")


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '{"name": "o",\n "source": }', "job.json")
    with pytest.raises(ConfigError, match=r"job.json' is not valid JSON: .* at line 2"):
        load_job(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"nope\.yaml' does not exist"):
        load_job(tmp_path / "nope.yaml")


def test_job_is_immutable(tmp_path: Path) -> None:
    job = load_job(write(tmp_path, minimal()))
    assert isinstance(job, Job)
    with pytest.raises(ValueError, match="frozen"):
        job.name = "other"
