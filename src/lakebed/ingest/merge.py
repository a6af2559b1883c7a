"""Merge (upsert) and CDC apply, copy-on-write, in one snapshot.

The incoming rows are first staged in a local Parquet file (bounded memory, any size), each with
its position in the source. DuckDB then resolves them per key: the last row wins (by the
``sequence_column`` if given, then by source order); for CDC a last operation ``D`` deletes the
key. The table's data files that may hold one of the keys (pruned by the key columns' min/max)
are read, the rows with a changed key dropped, and the survivors written back beside the new
rows; one commit replaces the touched files. A concurrent writer that removed one of them makes
the commit conflict, and the rewrite is redone against the new state (the staged rows stay).

Nothing here is specific to where the rows came from; :mod:`lakebed.ingest.runner` feeds it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from lakebed.errors import ConflictError, SchemaError

if TYPE_CHECKING:
    import duckdb
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import FileScanTask
    from pyiceberg.typedef import Record

    from lakebed.catalog import PendingWrite, Table

SEQ = "__lakebed_seq"
#: Attempts at a merge commit that keeps conflicting with concurrent writers.
ATTEMPTS = 5


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class MergeResult:
    rows_written: int = 0
    rows_deleted: int = 0
    files_rewritten: int = 0
    notes: list[str] = field(default_factory=list)


class Staging:
    """Incoming change rows, staged on local disk in source order."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="lakebed-merge-")
        self.path = Path(self._dir.name) / "staged.parquet"
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self.rows = 0

    def add(self, batch: pa.RecordBatch, schema: pa.Schema) -> None:
        """Stage ``batch`` (already fitted to ``schema``, the table's plus the op column)."""
        if not batch.num_rows:
            return
        seq = pa.array(range(self.rows, self.rows + batch.num_rows), pa.int64())
        table = pa.Table.from_batches([batch]).append_column(SEQ, seq)
        if self._writer is None or self._schema != table.schema:
            self._roll(table.schema)
        assert self._writer is not None
        self._writer.write_table(table)
        self.rows += batch.num_rows

    def _roll(self, schema: pa.Schema) -> None:
        """Start a new staged file (the schema grew: an evolved table adds columns)."""
        if self._writer is not None:
            self._writer.close()
        self.path = Path(self._dir.name) / f"staged-{self.rows}.parquet"
        self._writer = pq.ParquetWriter(self.path, schema)
        self._schema = schema

    def finish(self) -> str:
        """The staged files, as a DuckDB glob."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        return str(Path(self._dir.name) / "*.parquet")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._dir.cleanup()


def _resolve(
    con: duckdb.DuckDBPyConnection,
    glob: str,
    keys: Sequence[str],
    *,
    op_column: str | None,
    sequence_column: str | None,
) -> None:
    """Create the views ``changes`` (last row per key) and ``changed_keys``."""
    key_list = ", ".join(_quote(k) for k in keys)
    order = f"{_quote(sequence_column)} DESC NULLS FIRST, " if sequence_column else ""
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW staged AS SELECT * FROM read_parquet('{glob}', "
        "union_by_name = true)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE changes AS SELECT * FROM ("
        f"SELECT *, row_number() OVER (PARTITION BY {key_list} ORDER BY {order}{SEQ} DESC) "
        "AS __rn FROM staged) WHERE __rn = 1"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE changed_keys AS SELECT DISTINCT {key_list} FROM changes"
    )
    drop = [SEQ, "__rn"] + ([op_column] if op_column else [])
    keep_rows = f"WHERE upper({_quote(op_column)}) <> 'D'" if op_column else ""
    excluded = ", ".join(_quote(c) for c in drop)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW upserts AS SELECT * EXCLUDE ({excluded}) FROM changes "
        f"{keep_rows} ORDER BY {SEQ}"
    )


def _candidates(
    table: Table, con: duckdb.DuckDBPyConnection, keys: Sequence[str]
) -> list[FileScanTask]:
    """Data files that may hold a changed key: pruned by the first key's min and max."""
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThanOrEqual

    first = keys[0]
    bounds = f"SELECT min({_quote(first)}), max({_quote(first)}) FROM changed_keys"
    low, high = con.execute(bounds).fetchall()[0]
    iceberg = table.iceberg
    if low is None:
        return []
    try:
        expr = And(GreaterThanOrEqual(first, low), LessThanOrEqual(first, high))  # type: ignore[call-arg,arg-type]
        return list(iceberg.scan(row_filter=expr, case_sensitive=False).plan_files())
    except (ValueError, TypeError):  # a key type the filter cannot bind: look at every file
        return list(iceberg.scan().plan_files())


def _survivors(
    table: Table, task: FileScanTask, con: duckdb.DuckDBPyConnection, keys: Sequence[str]
) -> pa.Table | None:
    """The rows of one data file whose key did not change; None when none changed."""
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.io.pyarrow import ArrowScan

    iceberg = table.iceberg
    rows = ArrowScan(iceberg.metadata, iceberg.io, iceberg.schema(), AlwaysTrue()).to_table([task])
    con.register("__file", rows)
    try:
        on = " AND ".join(f"f.{_quote(k)} IS NOT DISTINCT FROM c.{_quote(k)}" for k in keys)
        kept = con.sql(
            f"SELECT f.* FROM __file f WHERE NOT EXISTS (SELECT 1 FROM changed_keys c WHERE {on})"
        ).to_arrow_table()
    finally:
        con.unregister("__file")
    return None if kept.num_rows == rows.num_rows else kept


def _arrow_batches(con: duckdb.DuckDBPyConnection, query: str) -> Iterator[pa.RecordBatch]:
    yield from con.sql(query).to_arrow_reader(64 * 1024)


def apply_changes(
    table: Table,
    staging: Staging,
    *,
    keys: Sequence[str],
    op_column: str | None,
    sequence_column: str | None,
    begin: Callable[[], PendingWrite],
    commit: Callable[[PendingWrite, list[DataFile]], None],
) -> MergeResult:
    """Merge the staged rows into ``table`` in one snapshot (see the module's docstring).

    ``begin()`` returns a fresh :class:`PendingWrite`; ``commit(pending, replace)`` commits it
    with the run's summary and bookmark. Both come from the runner, so the same commit carries
    the bookmark whether rows were appended or merged.
    """
    import duckdb

    glob = staging.finish()
    result = MergeResult()
    with duckdb.connect() as con:
        _resolve(con, glob, keys, op_column=op_column, sequence_column=sequence_column)
        for attempt in range(ATTEMPTS):
            table.refresh()
            pending = begin()
            try:
                replaced: list[DataFile] = []
                deleted = 0
                for task in _candidates(table, con, keys):
                    kept = _survivors(table, task, con, keys)
                    if kept is None:
                        continue
                    replaced.append(task.file)
                    deleted += task.file.record_count - kept.num_rows
                    pending.write(kept, atomic=False)
                written = pending.write(_arrow_batches(con, "SELECT * FROM upserts"), atomic=False)
                commit(pending, replaced)
            except ConflictError:
                if attempt == ATTEMPTS - 1:
                    raise
                continue
            result.rows_written = written
            result.rows_deleted = deleted
            result.files_rewritten = len(replaced)
            return result
    raise AssertionError("unreachable")


def check_keys(schema: pa.Schema, keys: Sequence[str], op_column: str | None, source: str) -> None:
    """Keys (and the CDC op column) must be in the rows."""
    if op_column and op_column not in schema.names:
        raise SchemaError(
            f"{source} has no operation column {op_column!r} (mode 'cdc' reads I/U/D from it)",
            fix="name the operation column with op_column= (--op-column); a full-load file "
            "without one (as DMS writes LOAD*.csv) loads with mode 'merge' (--mode merge) "
            f"on the same keys. Its columns: {', '.join(schema.names)}",
        )
    missing = [k for k in keys if k not in schema.names]
    if missing:
        raise SchemaError(
            f"{source} has no column {', '.join(repr(m) for m in missing)}",
            fix=f"name the key columns present in the source: {', '.join(schema.names)}",
        )


def partitions_of(files: Sequence[DataFile]) -> set[tuple[int, Record]]:
    """The (spec id, partition values) pairs ``files`` fall in."""
    return {(f.spec_id, f.partition) for f in files}


def files_in_partitions(table: Table, partitions: set[tuple[int, Record]]) -> list[DataFile]:
    """The table's current data files in ``partitions`` (what ``overwrite-partitions`` replaces)."""
    return [
        task.file
        for task in table.iceberg.scan().plan_files()
        if (task.file.spec_id, task.file.partition) in partitions
    ]
