"""Streaming writes: data files written chunk by chunk, committed in one snapshot at the end.

A :class:`PendingWrite` takes batches, gathers about ``chunk_bytes`` of them, fits the chunk to
the table's schema and hands it to a :class:`~lakebed.catalog.datafiles.DataFileWriter`, which
appends it to right-sized Parquet files (``target_file_size``); memory is bounded by the chunk,
not the input. :meth:`PendingWrite.commit` then adds every file written in one snapshot, in
one transaction with the schema change the data brought (and, when asked, table properties and
the removal of replaced files), so readers see all the rows or none. Until then nothing is in
the table: a stream that fails midway (or :meth:`PendingWrite.abort`) deletes the files written
so far and leaves the table at its old snapshot.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

import pyarrow as pa
from pyiceberg.expressions import AlwaysTrue, BooleanExpression
from pyiceberg.manifest import DataFile
from pyiceberg.table import TableProperties
from pyiceberg.table.snapshots import Operation
from pyiceberg.utils.properties import property_as_bool

from lakebed.catalog.datafiles import ParallelFileWriter
from lakebed.catalog.errors import mapped_errors
from lakebed.catalog.filters import parse_filter
from lakebed.catalog.prefetch import prefetched
from lakebed.catalog.schema import (
    MergePlan,
    conform,
    plan_merge,
    to_arrow_schema,
    to_iceberg_type,
)
from lakebed.errors import ConfigError, ConflictError

if TYPE_CHECKING:
    from pyiceberg.table import Table as IcebergTable

#: Arrow bytes gathered before a chunk is written out to the data files.
CHUNK_BYTES = 96 << 20
#: Size of the data files written when the table sets none (Iceberg's
#: ``write.target-file-size-bytes``); lakebed's loads pass their own (256 MiB by default).
DEFAULT_TARGET_FILE_SIZE = 512 << 20


class PendingWrite:
    """Rows written to data files but not yet in the table; get one from
    :meth:`lakebed.catalog.Table.begin_write`.

    Use it as a context manager: leaving the block by an exception aborts the write. A
    savepoint (:meth:`savepoint`/:meth:`rollback`) drops what one part of the stream wrote,
    e.g. the rows of one source file that turned out corrupt, while keeping the rest; taking
    one closes the open data files, so rows after it go to new files.
    """

    def __init__(
        self,
        ident: str,
        table: IcebergTable,
        schema: pa.Schema,
        *,
        chunk_bytes: int | None = None,
        target_file_size: int | None = None,
        sort_by: Sequence[str] = (),
        lanes: int = 1,
    ) -> None:
        chunk_bytes = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
        if chunk_bytes <= 0:
            raise ConfigError(f"chunk_bytes must be positive, not {chunk_bytes}")
        if target_file_size is not None and target_file_size <= 0:
            raise ConfigError(f"target_file_size must be positive, not {target_file_size}")
        self.ident = ident
        self._table = table
        self._chunk_bytes = chunk_bytes
        self._closed = False
        self.rows = 0
        with mapped_errors(f"table {ident}"):
            self._txn = table.transaction()
        self._evolve(plan_merge(to_arrow_schema(table.schema()), schema, ident))
        metadata = self._txn.table_metadata
        if target_file_size is None:
            target_file_size = int(
                metadata.properties.get(
                    TableProperties.WRITE_TARGET_FILE_SIZE_BYTES, DEFAULT_TARGET_FILE_SIZE
                )
            )
        self._writer = ParallelFileWriter(
            metadata, table.io, target_file_size, sort_by=sort_by, lanes=lanes
        )
        self._files: list[DataFile] = []  # every file, once closed for the commit
        self._marks: list[tuple[int, ...]] = []

    def _evolve(self, plan: MergePlan) -> None:
        if plan.evolves:
            with mapped_errors(f"table {self.ident}"), self._txn.update_schema() as update:
                for f in plan.add:
                    update.add_column(f.name, to_iceberg_type(f.type, f.name))
                for name, new_type in plan.widen.items():
                    update.update_column(name, field_type=to_iceberg_type(new_type, name))
        self.schema = to_arrow_schema(self._txn.table_metadata.schema())

    def evolve(self, schema: pa.Schema) -> list[str]:
        """Take on the compatible changes ``schema`` brings (new columns, widened types) for
        the rows written from now on, in the same transaction; returns them in words. Rows
        already written read the new columns as null."""
        self._check_open()
        plan = plan_merge(self.schema, schema, self.ident)
        if not plan.evolves:
            return []
        self._evolve(plan)
        self._writer.use_metadata(self._txn.table_metadata)
        return [f"added column {f.name} ({f.type})" for f in plan.add] + [
            f"widened column {name} to {t}" for name, t in plan.widen.items()
        ]

    def __enter__(self) -> PendingWrite:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None and not self._closed:
            self.abort()

    @property
    def files(self) -> int:
        """Data files written so far (closed or open)."""
        return len(self._writer.data_files) + self._writer.open_files

    @property
    def data_files(self) -> list[DataFile]:
        """The Iceberg entries of the files closed so far (all of them once committed)."""
        return self._writer.data_files

    def write(self, batches: Iterable[pa.RecordBatch] | pa.Table, *, atomic: bool = True) -> int:
        """Write ``batches`` (fitted to :attr:`schema`) to data files; returns the rows written.

        With ``atomic`` (the default), when ``batches`` raises, the rows this call wrote are
        dropped (a savepoint is taken first) and the error re-raised; what earlier calls wrote
        stays pending. Without it, rows keep flowing into the open files across calls (best for
        many small inputs) and a failure leaves what was written so far pending.
        """
        self._check_open()
        if isinstance(batches, pa.Table):
            batches = batches.to_batches()
        if not atomic:
            rows = self.rows
            with contextlib.closing(prefetched(self._chunks(batches))) as chunks:
                for chunk in chunks:
                    self._write_chunk(chunk)
                    del chunk
            return self.rows - rows
        mark = self.savepoint()
        rows = self.rows
        try:
            # The next chunk is read and conformed while this one is encoded and written.
            with contextlib.closing(prefetched(self._chunks(batches))) as chunks:
                for chunk in chunks:
                    self._write_chunk(chunk)
                    del chunk  # else it lives on while the next chunk is gathered
        except BaseException:
            self.rollback(mark)
            self.rows = rows
            raise
        return self.rows - rows

    def _chunks(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.Table]:
        held: list[pa.RecordBatch] = []
        size = 0
        for batch in batches:
            if not batch.num_rows:
                continue
            fitted = conform(pa.Table.from_batches([batch]), self.schema, self.ident)
            held.extend(fitted.to_batches())
            size += fitted.nbytes
            if size >= self._chunk_bytes:
                yield pa.Table.from_batches(held, schema=self.schema)
                held, size = [], 0
        if held:
            yield pa.Table.from_batches(held, schema=self.schema)

    def _write_chunk(self, chunk: pa.Table) -> None:
        with mapped_errors(f"table {self.ident}"):
            self._writer.write(chunk)
        self.rows += chunk.num_rows

    def savepoint(self) -> int:
        """A mark to :meth:`rollback` to; closes the open data files."""
        self._marks.append(self._writer.mark())
        return len(self._marks) - 1

    def rollback(self, savepoint: int) -> None:
        """Delete the data files written since ``savepoint``; their rows will not be committed."""
        dropped = self._writer.drop(self._marks[savepoint])
        del self._marks[savepoint + 1 :]
        self.rows -= sum(f.record_count for f in dropped)

    def commit(
        self,
        properties: Mapping[str, str] | None = None,
        *,
        overwrite: bool = False,
        filter: str | None = None,
        replace: Sequence[DataFile] = (),
        table_properties: Mapping[str, str] | None = None,
    ) -> None:
        """Add every data file written to the table in one snapshot, atomically.

        ``properties`` go into the snapshot summary, ``table_properties`` into the table's
        properties in the same commit (a bookmark that must move with the data). With
        ``overwrite``, the rows matching ``filter`` (all rows without one) are removed in the
        same commit; ``replace`` lists data files removed in the same snapshot (a compaction's
        inputs, the files a merge rewrote). A commit that conflicts with other writers (one
        removed a file this one replaces, or kept winning the race) raises
        :class:`~lakebed.errors.ConflictError` and deletes the files; the table is unchanged.
        """
        self._check_open()
        self._closed = True
        summary = dict(properties or {})
        txn = self._txn
        try:
            self._files = self._writer.close()
            with mapped_errors(f"table {self.ident}"):
                if table_properties:
                    txn.set_properties(dict(table_properties))
                if overwrite and txn.table_metadata.current_snapshot() is not None:
                    schema = txn.table_metadata.schema()
                    expr: BooleanExpression = (
                        parse_filter(filter, schema) if filter else AlwaysTrue()
                    )
                    txn.delete(
                        delete_filter=expr,
                        snapshot_properties=summary,
                        case_sensitive=False,
                        _isolation_operation=Operation.OVERWRITE,
                    )
                update = txn.update_snapshot(snapshot_properties=summary)
                if replace:
                    with update.overwrite() as rewrite:
                        for data_file in replace:
                            rewrite.delete_data_file(data_file)
                        for data_file in self._files:
                            rewrite.append_data_file(data_file)
                elif self._files or not overwrite:
                    merge = property_as_bool(
                        txn.table_metadata.properties,
                        TableProperties.MANIFEST_MERGE_ENABLED,
                        TableProperties.MANIFEST_MERGE_ENABLED_DEFAULT,
                    )
                    with update.merge_append() if merge else update.fast_append() as append:
                        for data_file in self._files:
                            append.append_data_file(data_file)
        except BaseException:
            self._writer.abort()  # nothing was sent to the catalog
            raise
        try:
            with mapped_errors(f"table {self.ident}"):
                txn.commit_transaction()  # retries a commit that loses a race
        except ConflictError:
            self._writer.abort()  # the commit did not land
            raise
        # any other failure may have landed: the files are kept, the table may use them

    def abort(self) -> None:
        """Give up: delete every data file written; the table stays as it was."""
        if self._closed:
            return
        self._closed = True
        self._writer.abort()
        self._files = []
        self.rows = 0

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigError(
                f"this write to table {self.ident} was already committed or aborted",
                fix="begin a new write with Table.begin_write()",
            )
