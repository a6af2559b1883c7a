"""Run one operation step on DuckDB over a small table."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from lakebed.transform.engines.duckdb import DuckDBEngine
from lakebed.transform.pipeline import build
from lakebed.transform.recipe import Recipe


def run(
    data: pa.Table | dict[str, list[Any]],
    operation: str,
    conditions: list[dict[str, str]] | None = None,
    **parameters: Any,
) -> pa.Table:
    """The output of one ``operation`` step over ``data`` (a table or a dict of columns)."""
    table = data if isinstance(data, pa.Table) else pa.table(data)
    recipe = Recipe().add(operation, conditions or (), **parameters)
    with DuckDBEngine(threads=1) as engine:
        engine.load_arrow("input", table)
        return engine.to_arrow(build(engine, recipe).relation)


def values(
    data: pa.Table | dict[str, list[Any]], operation: str, column: str, **parameters: Any
) -> list[Any]:
    """One output column of one step, as Python values."""
    return run(data, operation, **parameters).column(column).to_pylist()
