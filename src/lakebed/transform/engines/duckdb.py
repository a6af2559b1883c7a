"""The DuckDB engine: recipes on one machine, in process, spilling to disk past memory."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from lakebed.errors import QueryError
from lakebed.query.sources import duckdb_types, quote_ident, sql_list
from lakebed.transform.engines.base import ROW_SHIFT, Engine, first_line
from lakebed.transform.ops.base import ROW

_ids = itertools.count()


class DuckDBEngine(Engine):
    """Runs recipe steps as DuckDB views over Parquet files or Arrow data.

    ``memory_limit`` (e.g. ``"2GB"``) bounds DuckDB's memory; past it, sorts, joins and
    aggregations spill to ``temp_directory`` (a private temporary folder by default).
    """

    dialect = "duckdb"

    def __init__(
        self,
        *,
        memory_limit: str | None = None,
        threads: int | None = None,
        temp_directory: str | None = None,
    ) -> None:
        self._tmp = None if temp_directory else tempfile.TemporaryDirectory(prefix="lakebed-tx-")
        config: dict[str, str | bool | int | float | list[str]] = {
            "temp_directory": temp_directory or (self._tmp.name if self._tmp else ""),
            "preserve_insertion_order": True,
        }
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        # In memory: materialised steps are temporary tables, which spill to temp_directory.
        self.con = duckdb.connect(":memory:", config=config)
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET python_enable_replacements = false")
        self.con.execute("SET enable_progress_bar = false")

    def load_files(self, name: str, files: Sequence[str], schema: pa.Schema) -> None:
        if not files:
            self.load_arrow(name, schema.empty_table())
            return
        types = duckdb_types(schema)
        columns = ", ".join(
            f"CAST({quote_ident(f.name)} AS {t}) AS {quote_ident(f.name)}"
            for f, t in zip(schema, types, strict=True)
        )
        self.create_view(
            name,
            f"SELECT {columns}, (CAST(file_index AS BIGINT) << {ROW_SHIFT}) + file_row_number "
            f"AS {ROW} FROM read_parquet({sql_list(list(files))}, union_by_name = true, "
            "hive_partitioning = false, file_row_number = true)",
        )

    def load_arrow(self, name: str, data: pa.Table) -> None:
        arrow_name = f"__lb_arrow_{next(_ids)}"
        rows = pa.array(range(data.num_rows), pa.int64())
        self.con.register(arrow_name, data.append_column(ROW, rows))
        self.create_view(name, f"SELECT * FROM {arrow_name}")

    def create_view(self, name: str, sql: str) -> None:
        with _errors():
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(name)} AS {sql}")

    def materialize(
        self, name: str, columns: Sequence[str] | None = None, *, sort: bool = True
    ) -> str:
        """A temporary table of ``name``; scans of it keep its order (row order with ``sort``)."""
        table = f"materialized_{next(_ids)}"
        select = "*" if columns is None else ", ".join([ROW, *map(quote_ident, columns)])
        order = f" ORDER BY {ROW}" if sort else ""
        with _errors():
            self.con.execute(
                f"CREATE TEMP TABLE {quote_ident(table)} AS SELECT {select} "
                f"FROM {quote_ident(name)}{order}"
            )
        return table

    def drop(self, name: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS temp.{quote_ident(name)}")

    def schema(self, name: str) -> pa.Schema:
        return self.con.sql(f"SELECT * FROM {quote_ident(name)} LIMIT 0").to_arrow_table().schema

    def query(self, sql: str) -> pa.Table:
        with _errors():
            return self.con.sql(sql).to_arrow_table()

    def batches(
        self, name: str, batch_rows: int = 65_536, *, in_order: bool = False
    ) -> Iterator[pa.RecordBatch]:
        # DuckDB keeps the order of scans through per-row steps (preserve_insertion_order)
        order = "" if in_order else f" ORDER BY {ROW}"
        sql = f"SELECT * EXCLUDE ({ROW}) FROM {quote_ident(name)}{order}"
        with _errors():
            reader = self.con.sql(sql).to_arrow_reader(batch_rows)
        with reader:
            yield from reader

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None  # type: ignore[assignment]
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


@contextmanager
def _errors() -> Iterator[None]:
    """DuckDB's errors as QueryError, with their first line."""
    try:
        yield
    except duckdb.Error as exc:
        raise QueryError(f"DuckDB cannot run: {first_line(exc)}") from exc
