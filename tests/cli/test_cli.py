"""The CLI end to end, in process: what a user types and what they see."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lakebed.cli import main

Run = tuple[int, str, str]


@pytest.fixture
def lakebed_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LAKEBED_LAKE", raising=False)
    monkeypatch.delenv("LAKEBED_CONFIG", raising=False)
    lake = str(tmp_path / "lake")

    def run(*args: str) -> Run:
        code = main(["--lake", lake, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def sales_csv(tmp_path: Path) -> Path:
    folder = tmp_path / "incoming" / "sales"
    for day, rows in (("2026-11-01", 3), ("2026-11-02", 2)):
        part = folder / f"date={day}"
        part.mkdir(parents=True)
        lines = ["order_id,sku,amount"] + [
            f"{day[-1]}{i},SKU-{i},{10 * (i + 1)}.5" for i in range(rows)
        ]
        (part / "part-0.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_put_ls_get_rm(lakebed_cli, tmp_path: Path) -> None:
    source = tmp_path / "note.txt"
    source.write_text("hello lake")
    code, out, _ = lakebed_cli("--json", "put", str(source), "raw/docs/note.txt")
    assert code == 0
    assert json.loads(out)[0]["size"] == 10

    code, out, _ = lakebed_cli("--json", "ls", "raw/")
    assert [o["key"] for o in json.loads(out)] == ["raw/docs/note.txt"]

    dest = tmp_path / "copy.txt"
    assert lakebed_cli("get", "raw/docs/note.txt", str(dest))[0] == 0
    assert dest.read_text() == "hello lake"

    assert lakebed_cli("rm", "raw/docs/note.txt")[0] == 0
    code, _, err = lakebed_cli("get", "raw/docs/note.txt")
    assert code == 1
    assert "raw/docs/note.txt" in err


def test_crawl_tables_describe_and_sql(lakebed_cli, sales_csv: Path, tmp_path: Path) -> None:
    assert lakebed_cli("put", str(sales_csv), "raw/sales")[0] == 0
    code, out, _ = lakebed_cli("--json", "crawl", "lake://raw", "--database", "shop", "--convert")
    assert code == 0, out
    report = json.loads(out)
    assert [t["ident"] for t in report["tables"]] == ["shop.sales"]

    code, out, _ = lakebed_cli("--json", "tables", "shop")
    assert [t["table"] for t in json.loads(out)] == ["shop.sales"]

    code, out, _ = lakebed_cli("--json", "describe", "shop.sales")
    described = json.loads(out)
    assert described["rows"] == 5
    assert "date" in [c["name"] for c in described["columns"]]
    assert len(described["snapshots"]) == 1

    code, out, _ = lakebed_cli(
        "sql",
        "SELECT date, sum(amount) AS total FROM shop.sales GROUP BY date ORDER BY date",
        "--format",
        "csv",
    )
    assert code == 0
    assert out.splitlines() == ['"date","total"', "2026-11-01,61.5", "2026-11-02,31"]

    target = tmp_path / "out.parquet"
    code, _, _ = lakebed_cli(
        "sql", "SELECT * FROM shop.sales", "--format", "parquet", "--output", str(target)
    )
    assert code == 0
    assert pq.read_table(target).num_rows == 5

    code, out, _ = lakebed_cli(
        "--json",
        "sql",
        "SELECT count(*) AS n FROM shop.sales WHERE date = DATE '2026-11-02'",
        "--dialect",
        "athena",
    )
    assert json.loads(out) == [{"n": 2}]


def test_convert_between_formats(lakebed_cli, sales_csv: Path, tmp_path: Path) -> None:
    source = sales_csv / "date=2026-11-01" / "part-0.csv"
    dest = tmp_path / "part.avro"
    code, out, _ = lakebed_cli("--json", "convert", str(source), str(dest), "--to", "avro")
    assert code == 0, out
    assert json.loads(out)["rows"] == 3
    assert dest.read_bytes()[:4] == b"Obj\x01"


def test_errors_are_clear_and_exit_non_zero(lakebed_cli) -> None:
    code, _, err = lakebed_cli("sql", "SELEC 1")
    assert code == 1
    assert "error:" in err

    code, _, err = lakebed_cli("describe", "nowhere.nothing")
    assert code == 1
    assert "nowhere" in err

    code, _, err = lakebed_cli("crawl", "/definitely/not/here", "--database", "x")
    assert code == 1
    assert "/definitely/not/here" in err
    assert "fix:" in err

    code, _, err = lakebed_cli("convert", "missing.csv", "out.parquet", "--to", "parquet")
    assert code == 1
    assert "missing.csv" in err
