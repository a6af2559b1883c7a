"""Streaming a relation's rows out, on every engine: in row order, whether or not the relation
is, and without the rows a table of row-order values names (rows a step deleted)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lakebed.transform.engines import duckdb as duckdb_engine
from lakebed.transform.engines.base import Engine
from lakebed.transform.ops.base import ROW

ENGINES = ["duck_engine", "spark_engine"]


def _ids(engine: Engine, name: str, **options: object) -> list[int]:
    batches = list(engine.batches(name, batch_rows=6, **options))  # type: ignore[arg-type]
    assert all(b.num_rows <= 6 and ROW not in b.schema.names for b in batches)
    return pa.Table.from_batches(batches).column("id").to_pylist()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    engine: Engine = request.getfixturevalue(request.param)
    # ids 1..20 in row order; every third row is to be left out
    engine.create_view("gone", f'SELECT {ROW} FROM "input" WHERE id % 3 = 0')
    engine.create_view("shuffled", f'SELECT id, {ROW} FROM "input" ORDER BY id % 4, id DESC')
    return engine


KEPT = [i for i in range(1, 21) if i % 3]


@pytest.mark.parametrize("in_order", [True, False], ids=["ordered", "unordered"])
def test_excluded_rows_are_left_out_and_the_rest_keep_row_order(
    engine: Engine, in_order: bool
) -> None:
    name = "input" if in_order else "shuffled"
    assert _ids(engine, name, in_order=in_order) == list(range(1, 21))
    assert _ids(engine, name, in_order=in_order, exclude="gone") == KEPT


def test_duckdb_leaves_out_many_rows_with_a_join_instead(
    duck_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past LEFT_OUT_ROWS row-order values, DuckDB filters in SQL (and sorts) rather than
    holding them all."""
    duck_engine.create_view("gone", f'SELECT {ROW} FROM "input" WHERE id % 3 = 0')
    monkeypatch.setattr(duckdb_engine, "LEFT_OUT_ROWS", 2)
    assert _ids(duck_engine, "input", in_order=True, exclude="gone") == KEPT
    monkeypatch.setattr(duckdb_engine, "LEFT_OUT_ROWS", 0)
    assert _ids(duck_engine, "input", in_order=True, exclude="gone") == KEPT


def test_streaming_buffer_follows_the_memory_limit() -> None:
    """A quarter of a small memory limit; 256 MiB otherwise (DuckDB's own 10 MB keeps one
    of two threads waiting on ordered output)."""
    setting = "SELECT current_setting('streaming_buffer_size')"
    with duckdb_engine.DuckDBEngine(memory_limit="200MB", threads=1) as small:
        assert small.con.sql(setting).fetchall() == [("47.6 MiB",)]
    with duckdb_engine.DuckDBEngine(threads=1) as default:
        assert default.con.sql(setting).fetchall() == [("256.0 MiB",)]
