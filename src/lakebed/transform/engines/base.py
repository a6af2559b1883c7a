"""The engine interface: where a recipe's SQL runs.

An engine holds named relations. It loads input data (Parquet files or Arrow), adds the hidden
row-order column (:data:`~lakebed.transform.ops.base.ROW`: file index << 40 | row index in the
file, the same on every engine), creates one view per step from SQL written in DuckDB's
dialect (or :class:`~lakebed.transform.ops.base.Native` SQL in its own), answers small queries
for fitting, and streams the final relation out in row order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

import pyarrow as pa

ROW_SHIFT = 40
"""Bits of the row index inside :data:`ROW`; the file index sits above them."""


def first_line(exc: BaseException) -> str:
    """An engine error's first line (its type name when the message is empty)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Engine(ABC):
    """Runs recipe SQL. One engine instance serves one recipe run; close it afterwards."""

    dialect: str = ""

    @abstractmethod
    def load_files(self, name: str, files: Sequence[str], schema: pa.Schema) -> None:
        """Relation ``name``: the rows of the Parquet ``files`` (in that order) with ``schema``'s
        columns, plus the row-order column."""

    @abstractmethod
    def load_arrow(self, name: str, data: pa.Table) -> None:
        """Relation ``name``: the rows of ``data`` plus the row-order column (the row index)."""

    @abstractmethod
    def create_view(self, name: str, sql: str) -> None:
        """Relation ``name`` defined by ``sql`` (DuckDB dialect unless it is Native)."""

    @abstractmethod
    def schema(self, name: str) -> pa.Schema:
        """The columns of relation ``name`` (including the row-order column)."""

    @abstractmethod
    def query(self, sql: str) -> pa.Table:
        """Run a small query (DuckDB dialect unless Native) and return its result."""

    @abstractmethod
    def batches(
        self,
        name: str,
        batch_rows: int = 65_536,
        *,
        in_order: bool = False,
        exclude: str | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """The rows of relation ``name`` in row order, without the row-order column.

        ``in_order`` says the relation is known to be in row order already (no step since the
        input or the last materialisation reorders rows), so the engine may skip sorting.
        ``exclude`` names a relation of row-order values: those rows are left out."""

    def materialize(
        self, name: str, columns: Sequence[str] | None = None, *, sort: bool = True
    ) -> str:
        """Compute relation ``name`` once and keep the result; returns the name to read it by.

        Steps that learn query their input, which re-runs every step before them; after a
        join, aggregate or window, materialising makes that one pass. ``columns`` keeps only
        those (and the row-order column), for a fit that reads a few. With ``sort`` the result
        is in row order; without, it keeps the order ``name`` has. The default keeps the view
        (no copy)."""
        return name

    def drop(self, name: str) -> None:
        """Free a relation made by :meth:`materialize` (the default has nothing to free)."""
        return None

    @abstractmethod
    def close(self) -> None:
        """Free the engine's resources; safe to call twice."""

    def to_arrow(self, name: str) -> pa.Table:
        """Relation ``name`` as one Arrow table (for previews and tests)."""
        schema = self.schema(name)
        from lakebed.transform.ops.base import ROW

        out_schema = pa.schema([f for f in schema if f.name != ROW])
        return pa.Table.from_batches(list(self.batches(name)), schema=out_schema)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
