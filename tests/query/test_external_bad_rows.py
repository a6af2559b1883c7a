"""External CSV/TSV tables with malformed rows: the good rows are returned, the bad ones are
skipped, and the query says how many it skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from lakebed.catalog import Catalog
from lakebed.crawl import Crawler
from lakebed.query import SKIPPED_ROWS_KEY, QueryEngine, SkippedRowsWarning
from lakebed.storage import open_store

SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("name", pa.string())])
# Row 2 lacks a field, row 3 has an extra one; row 5's id is not a number (a NULL, kept).
BAD = "id,name\n1,ann\n2\n3,bob,extra\n4,cy\nfive,dee\n"
GOOD_ROWS = [
    {"id": 1, "name": "ann"},
    {"id": 4, "name": "cy"},
    {"id": None, "name": "dee"},
]


def _skipped(result: pa.Table) -> dict[str, int]:
    return json.loads((result.schema.metadata or {})[SKIPPED_ROWS_KEY])


@pytest.fixture()
def raw(catalog: Catalog) -> Catalog:
    catalog.create_database("raw")
    return catalog


def _register(catalog: Catalog, name: str, files: list[Path], **kw: object) -> None:
    catalog.register_external_table(
        f"raw.{name}",
        location=files[0].parent.as_uri(),
        format=str(kw.pop("format", "csv")),
        schema=SCHEMA,
        files=[f.as_uri() for f in files],
        **kw,
    )


@pytest.mark.parametrize("options", [{}, {"encoding": "latin-1"}], ids=["duckdb", "formats"])
def test_malformed_rows_are_skipped_and_counted(
    raw: Catalog, engine: QueryEngine, tmp_path: Path, options: dict[str, str]
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(BAD)
    _register(raw, "people", [path], options=options)
    with pytest.warns(SkippedRowsWarning, match=r"2 of raw\.people"):
        result = engine.sql("SELECT id, name FROM raw.people ORDER BY name")
    assert result.to_pylist() == GOOD_ROWS
    assert _skipped(result) == {"raw.people": 2}
    expected = "read_csv" if not options else "formats"
    assert engine.explain("SELECT * FROM raw.people")[0].method == expected


def test_tsv_without_header_skips_short_rows(
    raw: Catalog, engine: QueryEngine, tmp_path: Path
) -> None:
    path = tmp_path / "people.tsv"
    path.write_text("1\tann\n2\n3\tbob\n")
    _register(raw, "tsv", [path], format="tsv", options={"header": False})
    with pytest.warns(SkippedRowsWarning, match=r"1 of raw\.tsv"):
        result = engine.sql("SELECT id, name FROM raw.tsv ORDER BY id")
    assert result.to_pylist() == [{"id": 1, "name": "ann"}, {"id": 3, "name": "bob"}]


def test_files_with_different_headers_and_a_bad_row(
    raw: Catalog, engine: QueryEngine, tmp_path: Path
) -> None:
    old, new = tmp_path / "a.csv", tmp_path / "b.csv"
    old.write_text("id,name\n1,ann\n2,bob,x\n")
    new.write_text("name,id,extra\ncy,3,z\ndee,4\n")  # other column order, one short row
    _register(raw, "mixed", [old, new])
    with pytest.warns(SkippedRowsWarning) as caught:
        result = engine.sql("SELECT id, name FROM raw.mixed ORDER BY id")
    assert result.to_pylist() == [{"id": 1, "name": "ann"}, {"id": 3, "name": "cy"}]
    assert _skipped(result) == {"raw.mixed": 2}
    assert len(caught) == 1


def test_a_table_read_twice_reports_its_bad_rows_once(
    raw: Catalog, engine: QueryEngine, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(BAD)
    _register(raw, "people", [path])
    with pytest.warns(SkippedRowsWarning, match=r"2 of raw\.people"):
        result = engine.sql(
            "SELECT count(*) AS n FROM raw.people a JOIN raw.people b ON a.name = b.name"
        )
    assert result.to_pylist() == [{"n": 3}]


def test_clean_table_has_no_warning_and_no_metadata(
    raw: Catalog, engine: QueryEngine, tmp_path: Path
) -> None:
    path = tmp_path / "clean.csv"
    path.write_text("id,name\n1,ann\n")
    _register(raw, "clean", [path])
    result = engine.sql("SELECT * FROM raw.clean")  # a warning would fail the test
    assert result.to_pylist() == [{"id": 1, "name": "ann"}]
    assert SKIPPED_ROWS_KEY not in (result.schema.metadata or {})


def test_crawled_csv_with_a_malformed_row_is_queryable(
    catalog: Catalog, engine: QueryEngine, tmp_path: Path
) -> None:
    folder = tmp_path / "lake" / "raw" / "sales"
    folder.mkdir(parents=True)
    (folder / "jan.csv").write_text("order_id,amount,country\n1,10,DE\n2,20,FR\n")
    (folder / "feb.csv").write_text("order_id,amount,country\n3,12.5,US\n4,7,DE,oops\n5,8,FR\n")
    report = Crawler(catalog).crawl(open_store(tmp_path / "lake"), "raw", database="web")
    assert [t.ident for t in report.tables] == ["web.sales"]
    with pytest.warns(SkippedRowsWarning, match=r"1 of web\.sales"):
        result = engine.sql("SELECT order_id, amount FROM web.sales ORDER BY order_id")
    assert result.column("order_id").to_pylist() == [1, 2, 3, 5]
    assert result.column("amount").to_pylist() == [10, 20, 12.5, 8]
