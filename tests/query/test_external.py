"""External tables: raw CSV, TSV, JSON Lines, Parquet and Avro files queried in place."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakebed import formats
from lakebed.catalog import Catalog, Table
from lakebed.errors import QueryError
from lakebed.query import QueryEngine

SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("name", pa.string())])


def _register(catalog: Catalog, name: str, folder: Path, fmt: str, files: list[Path], **kw):
    return catalog.register_external_table(
        f"raw.{name}",
        location=folder.as_uri(),
        format=fmt,
        schema=kw.pop("schema", SCHEMA),
        files=[f.as_uri() for f in files],
        **kw,
    )


@pytest.fixture()
def raw(catalog: Catalog) -> Catalog:
    catalog.create_database("raw")
    return catalog


def test_external_csv_with_partition_folders(
    raw: Catalog, engine: QueryEngine, tmp_path: Path
) -> None:
    files = []
    for year, rows in (("2023", "1,ann\n2,bob\n"), ("2024", "3,cy\n")):
        path = tmp_path / "csv" / f"year={year}" / "part.csv"
        path.parent.mkdir(parents=True)
        path.write_text("id,name\n" + rows)
        files.append(path)
    _register(raw, "people", tmp_path / "csv", "csv", files, partition_columns={"year": "int64"})
    result = engine.sql("SELECT id, name, year FROM raw.people ORDER BY id")
    assert result.to_pylist() == [
        {"id": 1, "name": "ann", "year": 2023},
        {"id": 2, "name": "bob", "year": 2023},
        {"id": 3, "name": "cy", "year": 2024},
    ]
    assert result.schema.field("id").type == pa.int64()
    plan = engine.explain("SELECT * FROM raw.people")
    assert plan[0].kind == "external" and plan[0].method == "read_csv"
    assert engine.sql("SELECT count(*) AS n FROM raw.people WHERE year = 2024").to_pylist() == [
        {"n": 1}
    ]


def test_external_tsv_without_header(raw: Catalog, engine: QueryEngine, tmp_path: Path) -> None:
    path = tmp_path / "people.tsv"
    path.write_text("7\tzoe\n8\tyan\n")
    _register(raw, "tsv", tmp_path, "tsv", [path], options={"header": False})
    assert engine.sql("SELECT name FROM raw.tsv WHERE id = 8").to_pylist() == [{"name": "yan"}]


def test_external_jsonl_and_join_with_iceberg(
    raw: Catalog, engine: QueryEngine, tmp_path: Path, customers: Table
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"id": 1, "name": "DE", "extra": true}\n{"id": 2, "name": "US"}\n')
    _register(raw, "events", tmp_path, "jsonl", [path])
    result = engine.sql(
        "SELECT e.id, c.name FROM raw.events e JOIN shop.countries c ON e.name = c.country "
        "ORDER BY e.id"
    )
    assert result.to_pylist() == [{"id": 1, "name": "Germany"}, {"id": 2, "name": "USA"}]
    assert engine.explain("SELECT * FROM raw.events")[0].method == "read_json"


def test_external_parquet(raw: Catalog, engine: QueryEngine, tmp_path: Path) -> None:
    one, two = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(pa.table({"id": [1, 2], "name": ["a", "b"]}), one)
    pq.write_table(pa.table({"name": ["c"], "id": [3]}), two)  # other column order
    _register(raw, "pq", tmp_path, "parquet", [one, two])
    assert engine.sql(
        "SELECT sum(id) AS s, string_agg(name, '' ORDER BY id) AS n FROM raw.pq"
    ).to_pylist() == [{"s": 6, "n": "abc"}]


def test_external_files_listed_from_location(
    raw: Catalog, engine: QueryEngine, tmp_path: Path
) -> None:
    folder = tmp_path / "listed"
    folder.mkdir()
    (folder / "a.csv").write_text("id,name\n1,x\n")
    (folder / "b.csv").write_text("id,name\n2,y\n")
    (folder / "_SUCCESS").write_text("")
    _register(raw, "listed", folder, "csv", [])
    assert engine.sql("SELECT count(*) AS n FROM raw.listed").to_pylist() == [{"n": 2}]


def test_external_avro_through_lakebed_formats(
    raw: Catalog, engine: QueryEngine, tmp_path: Path
) -> None:
    path = tmp_path / "people.avro"
    formats.write(pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]}), path, "avro")
    _register(raw, "avro", tmp_path, "avro", [path])
    result = engine.sql("SELECT name FROM raw.avro WHERE id >= 2 ORDER BY id")
    assert result.to_pylist() == [{"name": "b"}, {"name": "c"}]
    assert engine.explain("SELECT * FROM raw.avro")[0].method == "formats"


def test_csv_option_duckdb_lacks_goes_through_formats(
    raw: Catalog, engine: QueryEngine, tmp_path: Path
) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id,name\n1,Jos\xe9\n".encode("latin-1"))
    _register(raw, "latin", tmp_path, "csv", [path], options={"encoding": "latin-1"})
    assert engine.sql("SELECT name FROM raw.latin").to_pylist() == [{"name": "José"}]
    assert engine.explain("SELECT * FROM raw.latin")[0].method == "formats"


def test_external_table_has_no_time_travel(
    raw: Catalog, engine: QueryEngine, tmp_path: Path
) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,name\n1,a\n")
    _register(raw, "x", tmp_path, "csv", [path])
    with pytest.raises(QueryError, match="external table"):
        engine.sql("SELECT * FROM raw.x FOR VERSION AS OF 1", dialect="trino")
    with pytest.raises(QueryError, match="cannot be written"):
        engine.sql("INSERT INTO raw.x VALUES (2, 'b')")
