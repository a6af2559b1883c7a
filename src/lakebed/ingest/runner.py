"""One load, start to finish: plan, read, fit, write, quarantine, commit with the bookmark.

The order is what makes a load exactly once:

1. Runs of the same table whose process died are settled first: the table's snapshots say
   whether their commit landed (``lakebed.run-id`` in the summary); if not, their quarantined
   records are taken back, so this run does not count them twice.
2. The bookmark is read from the table and the source plans only what is new.
3. Rows are read, fitted and written to data files that no snapshot refers to yet.
4. Bad records go to the quarantine, tagged with the run id.
5. One commit adds the data files (or replaces files, for merges and partition overwrites),
   records the run id in the snapshot summary and moves the bookmark in the table properties.

A crash before 5 leaves the table and bookmark as they were; the next run reads the same parts
again and step 1 takes back the dead run's quarantined records. Data files of the dead run are
orphans, removed by ``remove_orphan_files``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from lakebed.catalog import Table
from lakebed.catalog.datafiles import encode_lanes
from lakebed.catalog.naming import TableRef
from lakebed.errors import ConfigError, LakebedError, SchemaError, StorageError
from lakebed.formats.base import BadRecord
from lakebed.ingest import merge
from lakebed.ingest.bookmarks import Bookmarks, default_name
from lakebed.ingest.fit import (
    Locator,
    schema_changes,
    split_bad_values,
    without_bad_ops,
    without_null_keys,
)
from lakebed.ingest.layout import TARGET_SIZE_PROPERTY as TARGET_SIZE
from lakebed.ingest.layout import check_layout, target_file_size
from lakebed.ingest.options import IngestOptions, arrow_type
from lakebed.ingest.reading import read_parts
from lakebed.ingest.recovery import RUN_ID, settle_abandoned
from lakebed.ingest.report import IngestReport
from lakebed.ingest.runs import Heartbeat, RunLog
from lakebed.ingest.sources.base import Part, Source
from lakebed.quarantine import Quarantine

if TYPE_CHECKING:
    from pyiceberg.manifest import DataFile

    from lakebed.catalog import Catalog, PendingWrite

#: ``progress(parts_done, parts_total, rows_read)``
Progress = Callable[[int, int, int], None]

#: A batch with the part it came from and the part's rows before it.
Located = tuple[Part, int, pa.RecordBatch]

#: Arrow bytes of fitted rows handed to the writer at a time.
CHUNK_BYTES = 64 << 20


def _now() -> datetime:
    return datetime.now(UTC)


class Load:
    """The state of one load while it runs."""

    def __init__(
        self,
        catalog: Catalog,
        source: Source,
        target: str,
        options: IngestOptions,
        *,
        job: str,
        progress: Progress | None,
    ) -> None:
        self.catalog = catalog
        self.source = source
        self.ident = str(TableRef.parse(target))
        self.options = options
        self.job = job
        self.progress = progress
        self.report = IngestReport(
            run_id=uuid.uuid4().hex,
            target=self.ident,
            source=source.uri,
            mode=options.mode,
            started_at=_now(),
        )
        #: Records the source could not read (not yet counted as read) ...
        self.unread: list[BadRecord] = []
        #: ... and rows read whose values could not be stored.
        self.rejected: list[BadRecord] = []
        self.incremental = bool(options.incremental)
        self.bookmark = (
            options.bookmark or default_name(source.kind, source.bookmark_key)
            if self.incremental
            else None
        )
        self.op_column = options.op_column if options.mode == "cdc" else None

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> IngestReport:
        runs = RunLog(self.catalog)
        self.report.notes += settle_abandoned(self.catalog, runs, self.ident)
        runs.start(self.report, job=self.job, ttl=self.options.lock_ttl)
        lock = f"{self.ident}#{self.bookmark}" if self.bookmark else None
        quarantine = Quarantine(self.catalog, TableRef.parse(self.ident).database)
        try:
            if lock:
                runs.lock(lock, self.report.run_id)
            with Heartbeat(runs, self.report.run_id, self.options.lock_ttl):
                self._load(quarantine)
        except BaseException as exc:
            self.report.status = "failed"
            self.report.error = exc.message if isinstance(exc, LakebedError) else repr(exc)
            self.report.finished_at = _now()
            try:
                if self._landed():
                    self.report.status = "succeeded"  # failed after its commit: keep its records
                    self.report.notes.append(f"committed, then failed: {self.report.error}")
                else:
                    quarantine.discard(self.report.run_id)  # no data commit: take them back
            finally:
                runs.finish(self.report)
            raise
        finally:
            if lock:
                runs.unlock(lock, self.report.run_id)
            self.source.close()
        self.report.finished_at = _now()
        runs.finish(self.report)
        return self.report

    def _load(self, quarantine: Quarantine) -> None:
        table = self._existing_table()
        if table is not None:
            check_layout(table, self.options.partition_by, self.options.sort_by)
        state = None
        if table is not None and self.bookmark:
            state = Bookmarks(table).get(self.bookmark)
        plan = self.source.plan(state)
        self.report.parts = len(plan.parts)
        self.report.notes += plan.notes
        if not plan.parts and (self.options.mode != "overwrite" or self.incremental):
            self.report.status = "nothing-new"
            return
        if table is None:
            schema = plan.schema or self._first_schema(plan.parts[0]) if plan.parts else None
            if schema is None:
                self._quarantine(quarantine)
                self.report.status = "succeeded"
                self.report.notes.append("no rows could be read: the table was not created")
                return
            table = self._create(schema)
        stream = self._batches(plan.parts)
        summary = {RUN_ID: self.report.run_id, "lakebed.job": self.job}
        bookmark: dict[str, str] = {}
        if self.bookmark and plan.state is not None:
            words = self.source.describe_state(plan.state)
            bookmark = Bookmarks(table).prepare(
                self.bookmark, plan.state, source=self.source.uri, summary=words
            )
            self.report.bookmark = f"{self.bookmark}: {words}"
        if self.options.mode in ("merge", "cdc"):
            self._merge(table, stream, quarantine, {**summary, **bookmark}, bookmark)
        else:
            self._write(table, stream, quarantine, {**summary, **bookmark}, bookmark)
        table.refresh()
        self.report.snapshot_ids = [
            s.snapshot_id for s in table.snapshots() if s.summary.get(RUN_ID) == self.report.run_id
        ]
        self.report.status = "succeeded"

    def _landed(self) -> bool:
        """Whether a snapshot of this run is in the table (its commit happened)."""
        try:
            table = self._existing_table()
            return table is not None and any(
                s.summary.get(RUN_ID) == self.report.run_id for s in table.snapshots()
            )
        except LakebedError:
            return False

    # -- table ----------------------------------------------------------------------------------

    def _existing_table(self) -> Table | None:
        if not self.catalog.table_exists(self.ident):
            return None
        table = self.catalog.load_table(self.ident)
        if not isinstance(table, Table):
            raise ConfigError(
                f"{self.ident} is an external table; loads write Iceberg tables",
                fix="load into another table name, or drop the external table first",
            )
        return table

    def _create(self, schema: pa.Schema) -> Table:
        database = TableRef.parse(self.ident).database
        self.catalog.create_database(database, exist_ok=True)
        given = {name: arrow_type(t, name) for name, t in self.options.types.items()}
        columns = pa.schema(
            [f.with_type(given.get(f.name, f.type)) for f in schema if f.name != self.op_column]
        )
        if missing := sorted(set(given) - set(columns.names)):
            raise SchemaError(
                f"the types given name column(s) {', '.join(missing)}, which "
                f"{self.source.uri} does not have",
                fix=f"use the source's columns: {', '.join(columns.names)}",
            )
        return self.catalog.create_table(
            self.ident,
            columns,
            partition_by=self.options.partition_by,
            sort_by=self.options.sort_by,
            properties={TARGET_SIZE: str(target_file_size(None, self.options.target_file_size))},
            description=f"loaded from {self.source.uri}",
            exist_ok=True,  # another writer may have created it a moment ago
        )

    def _first_schema(self, part: Part) -> pa.Schema | None:
        """The schema of the first part's first batch: what a new table starts with, the same
        whichever part a parallel read happens to finish first."""
        try:
            batches = self.source.read(part, lambda record: None)
            first = next(iter(batches), None)
        except (LakebedError, OSError, ValueError, pa.ArrowException):
            return None  # the real read meets the error again and reports it
        return None if first is None else first.schema

    def _begin(self, table: Table) -> PendingWrite:
        return table.begin_write(
            table.schema,
            target_file_size=target_file_size(table, self.options.target_file_size),
            sort_by=self.options.sort_by or table.sort_by,
            lanes=encode_lanes(),
        )

    # -- reading and fitting ----------------------------------------------------------------

    def _batches(self, parts: list[Part]) -> Iterator[Located]:
        """Source batches, with unreadable parts turned into bad records (files only)."""
        done = 0
        total = len(parts)
        for item in read_parts(self.source, parts, self.unread.append, self.options.parallelism):
            if item.error is not None:
                if self.source.kind != "files" or isinstance(item.error, StorageError):
                    raise item.error
                reason = (
                    item.error.message if isinstance(item.error, LakebedError) else str(item.error)
                )
                where = f"from row {item.offset + 1}" if item.offset else "whole file"
                self.unread.append(BadRecord(item.part.id, where, f"unreadable: {reason}", b""))
            if item.done:
                done += 1
                if self.progress:
                    self.progress(done, total, self.report.rows_read)
                continue
            assert item.batch is not None
            self.report.rows_read += item.batch.num_rows
            if self.progress:
                self.progress(done, total, self.report.rows_read)
            yield item.part, item.offset, item.batch

    def _locate(self, offset: int) -> Locator:
        keys = list(self.source.key_columns)

        def locate(batch: pa.RecordBatch, row: int) -> str:
            if keys and all(k in batch.schema.names for k in keys):
                return ", ".join(f"{k}={batch.column(k)[row].as_py()}" for k in keys)
            return f"row {offset + row + 1}"

        return locate

    def _fit(
        self,
        pending_schema: pa.Schema,
        item: Located,
        evolve: Callable[[pa.Schema], list[str]],
    ) -> pa.RecordBatch:
        part, offset, batch = item
        data_schema = pa.schema([f for f in batch.schema if f.name != self.op_column])
        changes = schema_changes(
            pending_schema,
            data_schema,
            ident=self.ident,
            source=part.id,
            policy=self.options.schema_policy,
            on_incompatible=self.options.on_incompatible,
        )
        if changes.evolves:
            widened = [pa.field(n, t) for n, t in changes.widen.items()]
            self.report.schema_changes += evolve(pa.schema(changes.add + widened))
        if changes.incompatible:
            batch, bad = split_bad_values(
                batch,
                pending_schema,
                list(changes.incompatible),
                ident=self.ident,
                source=part.id,
                on_incompatible=self.options.on_incompatible,
                locate=self._locate(offset),
            )
            self.rejected.extend(bad)
        if self.options.mode in ("merge", "cdc"):
            merge.check_keys(batch.schema, self.options.keys, self.op_column, part.id)
            batch, bad = without_null_keys(batch, self.options.keys, part.id, self._locate(offset))
            self.rejected.extend(bad)
            if self.op_column:
                batch, bad = without_bad_ops(batch, self.op_column, part.id, self._locate(offset))
                self.rejected.extend(bad)
        return batch

    # -- writing --------------------------------------------------------------------------------

    def _quarantine(self, quarantine: Quarantine) -> None:
        self.report.rows_read += len(self.unread)
        self.report.rows_quarantined = quarantine.add(
            [*self.unread, *self.rejected],
            target=self.ident,
            job=self.job,
            run_id=self.report.run_id,
        )

    def _write(
        self,
        table: Table,
        stream: Iterator[Located],
        quarantine: Quarantine,
        summary: dict[str, str],
        bookmark: dict[str, str],
    ) -> None:
        mode = self.options.mode
        with self._begin(table) as pending:
            held: list[pa.RecordBatch] = []
            size = 0

            def flush() -> None:
                nonlocal held, size
                if held:
                    pending.write(pa.Table.from_batches(held), atomic=False)
                held, size = [], 0

            for item in stream:
                batch = self._fit(pending.schema, item, pending.evolve)
                if held and batch.schema != held[0].schema:
                    flush()
                held.append(batch)
                size += batch.nbytes
                if size >= CHUNK_BYTES:
                    flush()
            flush()
            self.report.rows_written = pending.rows
            replace: list[DataFile] = []
            if mode == "overwrite-partitions":
                pending.savepoint()  # closes the open files, so every partition is known
                written = merge.partitions_of(pending.data_files)
                replace = merge.files_in_partitions(table, written)
                self.report.rows_deleted = sum(f.record_count for f in replace)
            elif mode == "overwrite":
                self.report.rows_deleted = table.stats().rows
            self._quarantine(quarantine)
            pending.commit(
                summary,
                overwrite=mode == "overwrite",
                replace=replace,
                table_properties=bookmark,
            )
            self.report.data_files = pending.files
            self.report.bytes_written = sum(f.file_size_in_bytes for f in pending.data_files)

    def _merge(
        self,
        table: Table,
        stream: Iterator[Located],
        quarantine: Quarantine,
        summary: dict[str, str],
        bookmark: dict[str, str],
    ) -> None:
        staging = merge.Staging()
        try:
            schema = table.schema
            evolved: list[pa.Schema] = []

            def evolve(add: pa.Schema) -> list[str]:
                evolved.append(add)
                return [f"added or widened column {f.name} ({f.type})" for f in add]

            for item in stream:
                extra = [f for s in evolved for f in s if f.name not in schema.names]
                batch = self._fit(pa.schema([*schema, *extra]), item, evolve)
                staging.add(batch, batch.schema)
            self.report.rows_written = staging.rows
            self._quarantine(quarantine)
            added = pa.schema([f for s in evolved for f in s]) if evolved else None

            def begin() -> PendingWrite:
                pending = self._begin(table)
                if added is not None:
                    pending.evolve(added)
                return pending

            def commit(pending: PendingWrite, replace: list[DataFile]) -> None:
                pending.commit(summary, replace=replace, table_properties=bookmark)
                self.report.data_files = pending.files
                self.report.bytes_written = sum(f.file_size_in_bytes for f in pending.data_files)

            result = merge.apply_changes(
                table,
                staging,
                keys=self.options.keys,
                op_column=self.op_column,
                sequence_column=self.options.sequence_column,
                begin=begin,
                commit=commit,
            )
            self.report.rows_deleted = result.rows_deleted
            self.report.notes.append(
                f"{result.rows_written} row(s) upserted, {result.files_rewritten} data file(s) "
                "rewritten"
            )
        finally:
            staging.close()
