"""One operation step on DuckDB over a small table, one column out (see g_helpers.run)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from tests.transform.ops.g_helpers import run as apply

__all__ = ["apply", "column"]


def column(
    data: pa.Table | dict[str, list[Any]], operation: str, target: str = "out", **parameters: Any
) -> list[Any]:
    """The ``target`` column written by one ``operation`` step."""
    return apply(data, operation, targetColumn=target, **parameters).column(target).to_pylist()
