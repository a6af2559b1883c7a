"""Argument checks shared by the maintenance jobs."""

from __future__ import annotations

from typing import Any

from lakebed.catalog import Table
from lakebed.errors import ConfigError


def require_table(table: Any, job: str) -> Table:
    """``table`` if it is a lakebed Iceberg table, else a ConfigError naming the fix."""
    if isinstance(table, Table):
        return table
    name = getattr(table, "ident", None) or type(table).__name__
    raise ConfigError(
        f"{job} works on Iceberg tables, and {name} is not one"
        + (" (it is an external table)" if getattr(table, "kind", None) == "external" else ""),
        fix="convert it to an Iceberg table first (lakebed crawl --convert), or pick another",
    )
