"""`lakebed ingest` and `lakebed bookmarks` as a user types them: usage errors, reader options,
CDC ordering and database key ranges from the command line."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

Run = Callable[..., tuple[int, str, str]]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_an_unknown_option_is_a_usage_error(cli: Run, tmp_path: Path) -> None:
    code, _, err = cli("ingest", str(tmp_path), "--into", "db.x", "--bogus")
    assert code == 2
    assert "Usage: lakebed ingest" in err and "Error: No such option: --bogus" in err
    assert "Traceback" not in err


def test_a_bad_option_value_is_a_usage_error(cli: Run, tmp_path: Path) -> None:
    code, _, err = cli("ingest", str(tmp_path), "--into", "db.x", "--mode", "upsert")
    assert code == 2
    assert "Invalid value for '--mode'" in err and "'upsert'" in err
    assert "Traceback" not in err
    code, _, err = cli("bookmarks", "db.x", "--rewind", "landing")
    assert code == 2 and "--rewind needs --to SNAPSHOT_ID" in err and "Traceback" not in err
    code, _, err = cli("ingest", str(tmp_path), "--into", "db.x", "--format-option", "oops")
    assert code == 2 and "'oops' is not KEY=VALUE" in err


def test_ingest_help_shows_how_to_sort(cli: Run) -> None:
    code, out, _ = cli("ingest", "--help")
    assert code == 0
    words = " ".join(out.replace("│", " ").split())
    assert "A column, optionally followed by desc, e.g. 'score desc'." in words


def test_a_semicolon_csv_loads_with_a_format_option(cli: Run, tmp_path: Path) -> None:
    _write(tmp_path / "semi" / "x.csv", "id;name;amt\n1;a;1.5\n2;b;2.5\n")
    code, out, err = cli(
        "--json",
        "ingest",
        str(tmp_path / "semi"),
        "--into",
        "db.semi",
        "--format-option",
        "delimiter=;",
        "--format-option",
        "header=true",
    )
    assert code == 0, err
    report = json.loads(out)
    assert (report["rows_written"], report["rows_quarantined"]) == (2, 0)
    code, out, _ = cli("--json", "sql", "SELECT id, name, amt FROM db.semi ORDER BY id")
    assert code == 0
    assert json.loads(out) == [
        {"id": 1, "name": "a", "amt": 1.5},
        {"id": 2, "name": "b", "amt": 2.5},
    ]


def test_cdc_orders_by_a_sequence_column_from_the_cli(cli: Run, tmp_path: Path) -> None:
    _write(tmp_path / "cdc" / "x.csv", "Op,seq,id,name\nU,3,1,late\nI,1,1,first\nU,2,1,mid\n")
    code, _, err = cli(
        "ingest",
        str(tmp_path / "cdc"),
        "--into",
        "db.t",
        "--mode",
        "cdc",
        "--key",
        "id",
        "--sequence-column",
        "seq",
    )
    assert code == 0, err
    code, out, _ = cli("--json", "sql", "SELECT name FROM db.t")
    assert json.loads(out) == [{"name": "late"}]


def test_a_database_read_split_on_a_partition_column(cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL)")
        con.executemany("INSERT INTO orders VALUES (?, ?)", [(i, i / 2) for i in range(1, 501)])
    con.close()
    code, out, err = cli(
        "--json",
        "ingest",
        f"sqlite:///{path}",
        "--table",
        "orders",
        "--into",
        "db.orders",
        "--partition-column",
        "id",
    )
    assert code == 0, err
    assert json.loads(out)["rows_written"] == 500
    code, out, _ = cli("--json", "sql", "SELECT count(DISTINCT id) AS n FROM db.orders")
    assert json.loads(out) == [{"n": 500}]
