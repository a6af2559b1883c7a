"""Helper I's test helpers: run ML steps on DuckDB, fitting on one table and applying to
another."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from lakebed.transform.engines.duckdb import DuckDBEngine
from lakebed.transform.pipeline import build
from lakebed.transform.recipe import Recipe


def step(operation: str, **params: Any) -> dict[str, Any]:
    """A one-operation step; parameters given as DataBrew would (strings are fine)."""
    return {"operation": operation, "parameters": params}


def fit_apply(
    steps: list[dict[str, Any]], data: pa.Table, states: list[Any] | None = None
) -> tuple[pa.Table, list[Any]]:
    """The output of ``steps`` on ``data`` and the fitted states (``states`` reused if given)."""
    recipe = Recipe(steps)
    with DuckDBEngine(threads=1) as engine:
        engine.load_arrow("input", data)
        built = build(engine, recipe, states=states, fit=states is None)
        return engine.to_arrow(built.relation), built.states


def run(operation: str, data: pa.Table, **params: Any) -> pa.Table:
    """The output of one step on ``data``."""
    return fit_apply([step(operation, **params)], data)[0]
