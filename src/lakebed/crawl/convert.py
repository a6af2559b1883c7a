"""Converting crawled files into Iceberg tables (``CrawlOptions(convert=True)``).

Each file is streamed through ``lakebed.formats``, fitted to the table's schema batch by batch,
given its partition values from the folder path, and written to the table's data files as it is
read (:meth:`lakebed.catalog.Table.begin_write`), so memory is bounded by a write chunk, whatever
the size of the file; the table is partitioned by the identity of those columns. Files are
committed in groups of about ``CHUNK_BYTES`` of source data, one snapshot per group. A file that
cannot be read or fitted, even one that fails after many rows, is left out of its group's commit
(the data files it wrote are deleted) and reported with its reason; it never stops the crawl.
A record that cannot be read goes to the database's quarantine (:mod:`lakebed.quarantine`) with
its file, location and reason, so rows read = rows written + rows quarantined. When a file
changed or left the table, the table is rewritten from its files (the first group overwrites)
and the records quarantined for it by earlier crawls give way to those met now.

Each group is written ahead to the commit log before its commit (:mod:`lakebed.crawl.commits`),
so a crash before the crawl saves its state never converts a file twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.types as pat

from lakebed.crawl import commits
from lakebed.crawl.commits import CommitMode, PendingCommit
from lakebed.crawl.conform import conform_batch
from lakebed.crawl.external import DEPRECATED_PROPERTY, result_for, table_location
from lakebed.crawl.grouping import FileFacts, PlannedTable
from lakebed.crawl.inspect import open_source
from lakebed.crawl.partitions import partition_values
from lakebed.crawl.reconcile import Retirement, TableWork
from lakebed.crawl.recovery import CRAWL_JOB
from lakebed.crawl.report import TableResult
from lakebed.crawl.schema_merge import diff_schemas, merge_types
from lakebed.crawl.state import CrawlState, FileState, Scope
from lakebed.errors import AlreadyExistsError, LakebedError
from lakebed.formats.base import BadRecord
from lakebed.quarantine import Quarantine
from lakebed.storage.base import ObjectStore

if TYPE_CHECKING:
    from lakebed.catalog import Catalog, PendingWrite, Table

CHUNK_BYTES = 128 << 20
LOCATION_PROPERTY = "lakebed.crawl.location"


def _iceberg_widens(old: pa.DataType, new: pa.DataType) -> bool:
    """Whether Iceberg can widen ``old`` to ``new`` in place (int→long, float→double, decimal)."""
    if pat.is_integer(old) and pat.is_integer(new):
        return new.bit_width > old.bit_width
    if pat.is_floating(old) and pat.is_floating(new):
        return new.bit_width > old.bit_width
    if pat.is_decimal(old) and pat.is_decimal(new):
        return new.scale == old.scale and new.precision > old.precision
    return False


def full_schema(table: PlannedTable) -> pa.Schema:
    """The data columns followed by the partition columns."""
    parts = [pa.field(c.name, c.arrow_type) for c in table.partition_columns]
    return pa.schema(list(table.schema) + parts)


def _evolve(iceberg: Table, merged: pa.Schema, policy: str, result: TableResult) -> None:
    """Evolve the table's schema toward ``merged`` as far as ``policy`` and Iceberg allow."""
    current = iceberg.schema
    changes = diff_schemas(current, merged)
    changes = [c for c in changes if not c.startswith("removed column")]
    result.schema_changes = changes
    if not changes:
        return
    add = [f for f in merged if f.name not in current.names]
    widen: dict[str, pa.DataType] = {}
    for column in merged:
        if column.name in current.names:
            old = current.field(column.name).type
            target = merge_types(old, column.type)
            if not target.equals(old) and _iceberg_widens(old, target):
                widen[column.name] = target
    if policy == "log":
        result.schema_applied = False
        return
    if policy == "add_columns":
        widen = {}
    if add or widen:
        iceberg.evolve_schema(add=pa.schema(add) if add else None, widen=widen or None)
    applied = len(add) + len(widen)
    result.schema_applied = applied == len(changes)
    if not result.schema_applied:
        result.notes.append("some type changes cannot be applied to an Iceberg table in place")


class _SourceFailed(Exception):
    """A source file failed while being read; wraps the reader's error so it is told apart from
    a failure to write the table (which fails the table, not just the file)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause

    @property
    def reason(self) -> str:
        cause = self.cause
        return cause.message if isinstance(cause, LakebedError) else str(cause)


def _file_batches(
    store: ObjectStore,
    facts: FileFacts,
    planned: PlannedTable,
    target: pa.Schema,
    bad: list[BadRecord],
) -> Iterator[pa.RecordBatch]:
    """One file's rows fitted to ``target``, batch by batch; its bad records go to ``bad``,
    named by URI. A read or fit failure is raised as :class:`_SourceFailed`."""
    from lakebed import formats

    uri = store.uri(facts.key)

    def keep(record: BadRecord) -> None:
        bad.append(replace(record, source=uri))

    try:
        constants = partition_values(planned.partition_folder(facts), planned.partition_columns)
        fmt = formats.get_format(facts.format)
        with open_source(store, facts.key) as source:
            options = dict(facts.options)
            for batch in fmt.read(source, name=facts.key, on_bad_record=keep, **options):
                yield conform_batch(batch, target, constants)
    except (LakebedError, OSError, ValueError, pa.ArrowException) as err:
        raise _SourceFailed(err) from err


def _chunks(files: Sequence[FileFacts], sizes: Mapping[str, int]) -> Iterator[list[FileFacts]]:
    chunk: list[FileFacts] = []
    total = 0
    for facts in files:
        size = sizes.get(facts.key, 0)
        if chunk and total + size > CHUNK_BYTES:
            yield chunk
            chunk, total = [], 0
        chunk.append(facts)
        total += size
    if chunk:
        yield chunk


def _open_table(
    catalog: Catalog, store: ObjectStore, prefix: str, work: TableWork, result: TableResult
) -> Table:
    planned = work.table
    location = table_location(store, prefix, planned.folder)
    if work.exists:
        current = catalog.load_table(work.ident)
        if current.kind == "iceberg":
            iceberg: Table = current  # type: ignore[assignment]
            if work.adopted and iceberg.properties.get(LOCATION_PROPERTY) != location:
                raise AlreadyExistsError(
                    f"Iceberg table {work.ident} exists and was not made by crawling {location}",
                    fix="pass table_prefix to convert these files under other names",
                )
            return iceberg
        catalog.drop_table(work.ident)  # an external table of an earlier crawl; files stay
        result.notes.append("replaced the external table by an Iceberg table")
        work.new_keys = [f.key for f in planned.files]
        work.rebuild = False
        result.action = "updated"
    return catalog.create_table(
        work.ident,
        full_schema(planned),
        partition_by=[c.name for c in planned.partition_columns],
        properties={LOCATION_PROPERTY: location, "lakebed.crawl.format": planned.format},
        description=f"converted from {location}",
    )


@dataclass
class ConvertRun:
    """What every table of one converting crawl shares: where the files are, the state to
    write ahead to, the quarantine, and what has been committed so far."""

    catalog: Catalog
    store: ObjectStore
    prefix: str
    scope: Scope
    state: CrawlState
    quarantine: Quarantine
    schema_policy: str
    #: The crawl's file states (with format and fingerprint), by key.
    current: Mapping[str, FileState]
    schemas: Mapping[str, pa.Schema]
    #: Files that could not be converted, as (key, reason).
    failed: list[tuple[str, str]] = field(default_factory=list)
    #: Ids of the commits written ahead, by table (marked done with the state save).
    commit_ids: dict[str, list[str]] = field(default_factory=dict)

    def commit(
        self,
        pending: PendingWrite,
        ident: str,
        keys: Sequence[str],
        bad: Sequence[BadRecord],
        *,
        overwrite: bool,
    ) -> int:
        """Write ahead, quarantine ``bad``, then commit the rows ``pending`` holds; returns
        the records quarantined. Nothing at all for an append of no rows and no bad records."""
        if not overwrite and not pending.rows and not bad:
            pending.abort()
            return 0
        commit_id = uuid.uuid4().hex
        states = [self.current[key].with_(table=ident, skip_reason=None) for key in keys]
        mode: CommitMode = "overwrite" if overwrite else "append"
        commits.begin(
            self.state,
            self.scope,
            PendingCommit(commit_id, ident, mode, states, commits.files_hash(states)),
            self.schemas,
        )
        self.commit_ids.setdefault(ident, []).append(commit_id)
        quarantined = self.quarantine.add(bad, target=ident, job=CRAWL_JOB, run_id=commit_id)
        properties = commits.summary_properties(commit_id, states)
        if overwrite:
            pending.commit(properties, overwrite=True)
            self.quarantine.supersede(target=ident, job=CRAWL_JOB, keep=[commit_id])
        elif pending.rows:
            pending.commit(properties)
        else:
            pending.abort()
        return quarantined


def convert_table(run: ConvertRun, work: TableWork) -> TableResult:
    """Create, append to or rewrite the Iceberg table of ``work``; files that cannot be read
    go to ``run.failed``, records that cannot be read to the quarantine."""
    result = result_for(work, "iceberg")
    if work.action == "unchanged" and work.exists:
        return result
    store = run.store
    iceberg = _open_table(run.catalog, store, run.prefix, work, result)
    planned = work.table
    if work.exists and result.action != "created":
        _evolve(iceberg, full_schema(planned), run.schema_policy, result)
        if iceberg.properties.get(DEPRECATED_PROPERTY) == "true":
            iceberg.set_properties(**{DEPRECATED_PROPERTY: "false"})
    target = iceberg.schema
    new = set(work.new_keys)
    files = planned.files if work.rebuild else [f for f in planned.files if f.key in new]
    sizes = {key: s.size for key, s in run.current.items()}
    chunks = list(_chunks(files, sizes))
    overwrite = work.rebuild
    rows = 0
    all_bad: list[BadRecord] = []
    for chunk in chunks or ([[]] if overwrite else []):  # a rewrite to no files still commits
        bad, keys = list[BadRecord](), list[str]()
        with iceberg.begin_write(target) as pending:
            for facts in chunk:
                file_bad: list[BadRecord] = []
                try:
                    # a file that fails midway has its rows dropped from the pending commit
                    pending.write(_file_batches(store, facts, planned, target, file_bad))
                except _SourceFailed as err:
                    run.failed.append((facts.key, f"not converted: {err.reason}"))
                    continue  # the whole file is reported as skipped, not record by record
                bad.extend(file_bad)
                keys.append(facts.key)
            written = pending.rows
            result.bad_records += run.commit(pending, work.ident, keys, bad, overwrite=overwrite)
        overwrite = False
        rows += written
        all_bad.extend(bad[:1])
    result.rows = rows
    if result.bad_records:
        first = all_bad[0]
        result.notes.append(
            f"{result.bad_records} bad record(s) quarantined in {run.quarantine.ident}, first "
            f"in {first.source} at {first.location}: {first.reason}"
        )
    return result


def retire_iceberg(catalog: Catalog, retirement: Retirement) -> None:
    """Drop (keeping data files) or mark deprecated a converted table whose files are gone."""
    if retirement.action == "deleted":
        catalog.drop_table(retirement.ident)
        return
    if retirement.action == "deprecated":
        current: Table = catalog.load_table(retirement.ident)  # type: ignore[assignment]
        current.set_properties(**{DEPRECATED_PROPERTY: "true"})
