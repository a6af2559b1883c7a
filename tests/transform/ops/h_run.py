"""Helper H's test helper: run recipe steps on DuckDB over a small table."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from lakebed.transform.engines.duckdb import DuckDBEngine
from lakebed.transform.pipeline import build
from lakebed.transform.recipe import Recipe
from lakebed.transform.sample import sample_table


def run(steps: list[dict[str, Any]], data: pa.Table | None = None) -> pa.Table:
    """The output of ``steps`` (shorthand {"operation", "parameters", "conditions"})."""
    recipe = Recipe(steps)
    with DuckDBEngine(threads=1) as engine:
        engine.load_arrow("input", sample_table() if data is None else data)
        built = build(engine, recipe)
        return engine.to_arrow(built.relation)


def col(steps: list[dict[str, Any]], name: str, data: pa.Table | None = None) -> list[Any]:
    """One output column as a Python list."""
    return run(steps, data).column(name).to_pylist()


def step(operation: str, conditions: list[dict[str, Any]] | None = None, **params: Any) -> dict:
    """A shorthand step."""
    out: dict[str, Any] = {"operation": operation, "parameters": params}
    if conditions:
        out["conditions"] = conditions
    return out


def fit_then_apply(steps: list[dict[str, Any]], train: pa.Table, new: pa.Table) -> pa.Table:
    """Fit ``steps`` on ``train``, then apply the fitted states to ``new`` without refitting."""
    recipe = Recipe(steps)
    with DuckDBEngine(threads=1) as engine:
        engine.load_arrow("train", train)
        states = build(engine, recipe, "train", prefix="fit").states
        engine.load_arrow("new", new)
        built = build(engine, recipe, "new", states=states, fit=False, prefix="apply")
        return engine.to_arrow(built.relation)
