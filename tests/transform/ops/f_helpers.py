"""Helper F's test helper: one operation step on DuckDB over a small table, one column out."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from lakebed.transform.engines.duckdb import DuckDBEngine
from lakebed.transform.pipeline import build
from lakebed.transform.recipe import Recipe


def apply(
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


def column(
    data: pa.Table | dict[str, list[Any]], operation: str, target: str = "out", **parameters: Any
) -> list[Any]:
    """The ``target`` column written by one ``operation`` step."""
    return apply(data, operation, targetColumn=target, **parameters).column(target).to_pylist()
