"""The DuckDB engine: recipes on one machine, in process, spilling to disk past memory."""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import duckdb
import numpy as np
import pyarrow as pa

from lakebed.errors import QueryError
from lakebed.query.sources import duckdb_types, quote_ident, sql_list
from lakebed.transform.engines.base import ROW_SHIFT, Engine, first_line
from lakebed.transform.ops.base import ROW

_ids = itertools.count()

STREAMING_BUFFER = 256 << 20
"""Bytes of results DuckDB computes ahead of the reader (a quarter of ``memory_limit`` when
that is less). Its default, 10 MB, leaves one thread waiting on the other."""

LEFT_OUT_ROWS = 4_000_000
"""Most rows :meth:`DuckDBEngine.batches` leaves out of an ordered relation itself (32 MB of
row-order values); past it, a join in SQL and a sort."""


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
        # Results stream in row order: a thread ahead of the reader parks its rows in this
        # buffer, and a Parquet row group (a million rows) is one thread's unit of work.
        limit = _bytes(memory_limit) if memory_limit else None
        buffer = min(STREAMING_BUFFER, limit // 4) if limit else STREAMING_BUFFER
        self.con.execute(f"SET streaming_buffer_size = '{buffer >> 10}KiB'")

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
        self,
        name: str,
        batch_rows: int = 65_536,
        *,
        in_order: bool = False,
        exclude: str | None = None,
    ) -> Iterator[pa.RecordBatch]:
        # DuckDB keeps the order of scans through per-row steps (preserve_insertion_order),
        # not through joins: rows to exclude from an ordered relation are dropped here, by
        # their row-order values, when there are not too many to hold.
        left_out = self._left_out(exclude) if in_order and exclude is not None else None
        where = ""
        if exclude is not None and left_out is None:
            where = f" WHERE {ROW} NOT IN (SELECT {ROW} FROM {quote_ident(exclude)})"
        order = "" if in_order and where == "" else f" ORDER BY {ROW}"
        columns = "*" if left_out is not None else f"* EXCLUDE ({ROW})"
        sql = f"SELECT {columns} FROM {quote_ident(name)}{where}{order}"
        with _errors():
            reader = self.con.sql(sql).to_arrow_reader(batch_rows)
        with reader:
            if left_out is None:
                yield from reader
                return
            for batch in reader:
                yield _leave_out(batch, left_out)

    def _left_out(self, relation: str) -> np.ndarray | None:
        """The sorted row-order values in ``relation``, unless there are over
        :data:`LEFT_OUT_ROWS`."""
        sql = f"SELECT {ROW} FROM {quote_ident(relation)} ORDER BY {ROW}"
        with _errors():
            values = self.con.sql(f"{sql} LIMIT {LEFT_OUT_ROWS + 1}").fetchnumpy()[ROW]
        return None if len(values) > LEFT_OUT_ROWS else np.asarray(values, np.int64)

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None  # type: ignore[assignment]
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def _bytes(size: str) -> int | None:
    """A DuckDB size setting ("1GB", "512MiB", "2 gigabytes") in bytes; None if unreadable."""
    found = re.fullmatch(r"\s*([\d.]+)\s*([a-z]*)\s*", size.lower())
    if found is None:
        return None
    unit = found.group(2)
    scale = _UNITS.get(unit[:1])
    if scale is None:
        return None
    if len(unit) == 3 and unit.endswith("ib"):  # KiB, MiB, GiB: powers of 1024
        scale = 1 << (10 * "bkmgt".index(unit[0]))
    return int(float(found.group(1)) * scale)


def _leave_out(batch: pa.RecordBatch, left_out: np.ndarray) -> pa.RecordBatch:
    """``batch`` (in row order) without the rows whose row-order value is in ``left_out``
    (sorted), and without the row-order column."""
    rows = batch.column(ROW).to_numpy()
    if len(rows):
        lo = np.searchsorted(left_out, rows[0], side="left")
        hi = np.searchsorted(left_out, rows[-1], side="right")
        if hi > lo:
            batch = batch.filter(pa.array(~np.isin(rows, left_out[lo:hi])))
    return batch.remove_column(batch.schema.get_field_index(ROW))


@contextmanager
def _errors() -> Iterator[None]:
    """DuckDB's errors as QueryError, with their first line."""
    try:
        yield
    except duckdb.Error as exc:
        raise QueryError(f"DuckDB cannot run: {first_line(exc)}") from exc
