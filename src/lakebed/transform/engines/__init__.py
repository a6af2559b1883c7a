"""Engines that run recipes: DuckDB in process (default) and PySpark for data beyond one machine."""

from __future__ import annotations

from typing import Any

from lakebed.errors import ConfigError
from lakebed.transform.engines.base import Engine

ENGINES = ("duckdb", "spark")


def make_engine(name: str = "duckdb", **options: Any) -> Engine:
    """A new engine by name: ``duckdb`` (default) or ``spark`` (needs pyspark and Java)."""
    if name == "duckdb":
        from lakebed.transform.engines.duckdb import DuckDBEngine

        return DuckDBEngine(**options)
    if name == "spark":
        try:
            from lakebed.transform.engines.spark import SparkEngine
        except ImportError as exc:
            from lakebed.errors import MissingDependencyError

            raise MissingDependencyError("pyspark", "spark") from exc
        return SparkEngine(**options)
    raise ConfigError(f"unknown engine {name!r}", fix="use one of: " + ", ".join(ENGINES))


__all__ = ["ENGINES", "Engine", "make_engine"]
