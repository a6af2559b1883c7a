"""The quarantine table: one snapshot per add, readable by target, reserved name, take-backs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from lakebed.catalog import Catalog, Table
from lakebed.errors import ConfigError
from lakebed.formats.base import BadRecord
from lakebed.quarantine import QUARANTINE_TABLE, RAW_LIMIT, Quarantine


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    cat = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}", (tmp_path / "warehouse").as_uri())
    yield cat
    cat.close()


def records(n: int, source: str = "raw/a.csv") -> list[BadRecord]:
    return [
        BadRecord(source, f"row {i + 2}", "expected 3 cells, found 4", b"1,2,3,4") for i in range(n)
    ]


def snapshots(catalog: Catalog, database: str) -> int:
    table = catalog.load_table(f"{database}.{QUARANTINE_TABLE}")
    assert isinstance(table, Table)
    return len(table.snapshots())


def test_add_writes_one_snapshot_per_call_and_reads_back_by_target(catalog: Catalog) -> None:
    quarantine = Quarantine(catalog, "web")
    assert quarantine.read().num_rows == 0  # nothing yet, and no table made for nothing
    assert quarantine.add([], target="web.clicks", job="crawl") == 0
    assert not catalog.table_exists("web._quarantine")

    before = datetime.now(UTC)
    assert quarantine.add(records(25_000), target="web.clicks", job="crawl") == 25_000
    assert quarantine.add(records(2, "raw/b.jsonl"), target="web.users", job="ingest") == 2
    assert snapshots(catalog, "web") == 2  # one per call, however many records

    clicks = quarantine.read("web.clicks")
    assert clicks.num_rows == 25_000
    first = clicks.sort_by("location").slice(0, 1).to_pylist()[0]
    assert first["target"] == "web.clicks" and first["job"] == "crawl"
    assert first["source"] == "raw/a.csv" and first["reason"] == "expected 3 cells, found 4"
    assert first["raw"] == "1,2,3,4"
    assert first["quarantined_at"] >= before
    users = quarantine.read("web.users").to_pylist()
    assert {(r["source"], r["job"]) for r in users} == {("raw/b.jsonl", "ingest")}
    assert quarantine.read().num_rows == 25_002
    assert "web._quarantine" in catalog.list_tables("web")


def test_raw_bytes_are_kept_as_utf8_text_with_replacement_and_cut_when_huge(
    catalog: Catalog,
) -> None:
    quarantine = Quarantine(catalog, "web")
    quarantine.add(
        [
            BadRecord("f", "line 1", "not UTF-8", b"caf\xc3\xa9 \xff\xfe"),
            BadRecord("f", "line 2", "too long", b"x" * (RAW_LIMIT + 10)),
        ],
        target="web.t",
        job="crawl",
        source="file:///data/f.jsonl",
    )
    rows = {r["location"]: r for r in quarantine.read().to_pylist()}
    assert rows["line 1"]["raw"] == "café \ufffd\ufffd"
    assert rows["line 2"]["raw"].startswith("x" * RAW_LIMIT)
    assert rows["line 2"]["raw"].endswith("[cut: 10 more bytes]")
    assert {r["source"] for r in rows.values()} == {"file:///data/f.jsonl"}


def test_discard_and_supersede_take_records_back(catalog: Catalog) -> None:
    quarantine = Quarantine(catalog, "web")
    quarantine.add(records(3), target="web.t", job="crawl", run_id="run1")
    quarantine.add(records(2), target="web.t", job="crawl", run_id="run2")
    quarantine.add(records(4), target="web.u", job="crawl", run_id="run3")
    quarantine.discard("run2")
    assert quarantine.read("web.t").column("run_id").to_pylist() == ["run1"] * 3

    quarantine.add(records(1), target="web.t", job="crawl", run_id="run4")
    quarantine.supersede(target="web.t", job="crawl", keep=["run4"])
    assert quarantine.read("web.t").column("run_id").to_pylist() == ["run4"]
    assert quarantine.read("web.u").num_rows == 4  # other targets untouched
    count = snapshots(catalog, "web")
    quarantine.discard("no-such-run")
    assert snapshots(catalog, "web") == count  # nothing to remove, no empty snapshot


def test_bad_arguments_name_the_input_and_the_fix(catalog: Catalog) -> None:
    quarantine = Quarantine(catalog, "web")
    with pytest.raises(ConfigError, match="not in database 'web'") as err:
        quarantine.add(records(1), target="shop.orders", job="crawl")
    assert "Quarantine(catalog, 'shop')" in str(err.value)
    with pytest.raises(ConfigError, match="invalid table identifier"):
        quarantine.add(records(1), target="orders", job="crawl")
    with pytest.raises(ConfigError, match="job"):
        quarantine.add(records(1), target="web.orders", job="")
    with pytest.raises(ConfigError, match="invalid database name"):
        Quarantine(catalog, "bad-name")


def test_an_external_table_squatting_the_name_is_refused(catalog: Catalog) -> None:
    catalog.create_database("web")
    catalog.register_external_table(
        "web._quarantine", location="file:///x", format="csv", schema=pa.schema([("a", pa.int64())])
    )
    with pytest.raises(ConfigError, match="reserved for the quarantine"):
        Quarantine(catalog, "web").add(records(1), target="web.t", job="crawl")
