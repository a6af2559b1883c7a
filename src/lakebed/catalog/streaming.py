"""Streaming writes: data files written chunk by chunk, committed in one snapshot at the end.

A :class:`PendingWrite` takes batches, gathers about ``chunk_bytes`` of them, writes that chunk's
Parquet data files, drops the chunk and goes on; memory is bounded by the chunk, not the input.
:meth:`PendingWrite.commit` then adds every file written in one fast append, in one transaction
with the schema change the data brought, so readers see all the rows or none. Until then
nothing is in the table: a stream that fails midway (or :meth:`PendingWrite.abort`) deletes the
files written so far and leaves the table at its old snapshot.

Why pyiceberg's private ``_dataframe_to_data_files``: it is what ``Transaction.append`` itself
calls to turn Arrow data into Iceberg data files (splitting by partition, naming the files under
the table's location provider, collecting the column statistics manifests need), and pyiceberg
has no public call that writes data files without committing them. Its own streaming path does
not fit: it refuses partitioned tables, and hands every bin of batches to an executor's ``map``,
which submits them all at once, so the whole stream ends up in memory. Calling the function once
per bounded ``pa.Table`` chunk keeps its partitioning and statistics and bounds the memory.
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING

import pyarrow as pa
from pyiceberg.exceptions import CommitFailedException, ValidationException
from pyiceberg.expressions import AlwaysTrue, BooleanExpression
from pyiceberg.io.pyarrow import _dataframe_to_data_files
from pyiceberg.manifest import DataFile
from pyiceberg.table import TableProperties
from pyiceberg.table.snapshots import Operation
from pyiceberg.utils.properties import property_as_bool

from lakebed.catalog.errors import mapped_errors
from lakebed.catalog.filters import parse_filter
from lakebed.catalog.prefetch import prefetched
from lakebed.catalog.schema import conform, plan_merge, to_arrow_schema, to_iceberg_type
from lakebed.errors import ConfigError

if TYPE_CHECKING:
    from pyiceberg.table import Table as IcebergTable

#: Arrow bytes gathered before a chunk's data files are written (files are at most this big,
#: before Parquet's compression).
CHUNK_BYTES = 96 << 20


class PendingWrite:
    """Rows written to data files but not yet in the table; get one from
    :meth:`lakebed.catalog.Table.begin_write`.

    Use it as a context manager: leaving the block by an exception aborts the write. A
    savepoint (:meth:`savepoint`/:meth:`rollback`) drops what one part of the stream wrote,
    e.g. the rows of one source file that turned out corrupt, while keeping the rest.
    """

    def __init__(
        self,
        ident: str,
        table: IcebergTable,
        schema: pa.Schema,
        *,
        chunk_bytes: int | None = None,
    ) -> None:
        chunk_bytes = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
        if chunk_bytes <= 0:
            raise ConfigError(f"chunk_bytes must be positive, not {chunk_bytes}")
        self.ident = ident
        self._table = table
        self._chunk_bytes = chunk_bytes
        self._files: list[DataFile] = []
        self._counter = itertools.count(0)
        self._uuid = uuid.uuid4()
        self._closed = False
        self.rows = 0
        current = to_arrow_schema(table.schema())
        plan = plan_merge(current, schema, ident)
        with mapped_errors(f"table {ident}"):
            self._txn = table.transaction()
            if plan.evolves:
                with self._txn.update_schema() as update:
                    for f in plan.add:
                        update.add_column(f.name, to_iceberg_type(f.type, f.name))
                    for name, new_type in plan.widen.items():
                        update.update_column(name, field_type=to_iceberg_type(new_type, name))
        #: The schema the rows are written with: the table's, evolved by ``schema``.
        self.schema = to_arrow_schema(self._txn.table_metadata.schema())

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
        """Data files written so far."""
        return len(self._files)

    def write(self, batches: Iterable[pa.RecordBatch] | pa.Table) -> int:
        """Write ``batches`` (fitted to :attr:`schema`) to data files; returns the rows written.

        When ``batches`` raises, the files this call wrote are deleted and the error re-raised;
        what earlier calls wrote stays pending.
        """
        self._check_open()
        if isinstance(batches, pa.Table):
            batches = batches.to_batches()
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
            written = _dataframe_to_data_files(
                table_metadata=self._txn.table_metadata,
                df=chunk,
                io=self._table.io,
                write_uuid=self._uuid,
                counter=self._counter,
            )
            for data_file in written:  # consumed now, so the chunk can go
                self._files.append(data_file)
        self.rows += chunk.num_rows

    def savepoint(self) -> int:
        """A mark to :meth:`rollback` to: the data files written so far."""
        return len(self._files)

    def rollback(self, savepoint: int) -> None:
        """Delete the data files written since ``savepoint``; their rows will not be committed."""
        dropped = self._files[savepoint:]
        del self._files[savepoint:]
        self.rows -= sum(f.record_count for f in dropped)
        self._delete(dropped)

    def commit(
        self,
        properties: dict[str, str] | None = None,
        *,
        overwrite: bool = False,
        filter: str | None = None,
    ) -> None:
        """Add every data file written to the table in one snapshot, atomically.

        ``properties`` go into the snapshot summary. With ``overwrite``, the rows matching
        ``filter`` (all rows without one) are removed in the same commit. A commit that keeps
        conflicting with other writers (after pyiceberg's retries) raises a transient
        :class:`StorageError` and deletes the files; the table is unchanged.
        """
        self._check_open()
        self._closed = True
        summary = dict(properties or {})
        txn = self._txn
        try:
            with mapped_errors(f"table {self.ident}"):
                if overwrite:
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
                merge = property_as_bool(
                    txn.table_metadata.properties,
                    TableProperties.MANIFEST_MERGE_ENABLED,
                    TableProperties.MANIFEST_MERGE_ENABLED_DEFAULT,
                )
                update = txn.update_snapshot(snapshot_properties=summary)
                with update.merge_append() if merge else update.fast_append() as append:
                    for data_file in self._files:
                        append.append_data_file(data_file)
        except BaseException:
            self._delete(self._files)  # nothing was sent to the catalog
            raise
        with mapped_errors(f"table {self.ident}"):
            try:
                txn.commit_transaction()  # retries a commit that loses a race
            except (CommitFailedException, ValidationException):
                self._delete(self._files)  # these say the commit did not land
                raise
            # any other failure may have landed: the files are kept, the table may use them

    def abort(self) -> None:
        """Give up: delete every data file written; the table stays as it was."""
        if self._closed:
            return
        self._closed = True
        self._delete(self._files)
        self._files = []
        self.rows = 0

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigError(
                f"this write to table {self.ident} was already committed or aborted",
                fix="begin a new write with Table.begin_write()",
            )

    def _delete(self, files: Iterable[DataFile]) -> None:
        for data_file in files:
            with contextlib.suppress(OSError):  # else an orphan file, unseen by readers
                self._table.io.delete(data_file.file_path)
