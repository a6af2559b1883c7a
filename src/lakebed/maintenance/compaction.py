"""Compaction: rewrite a table's small data files into right-sized ones, in one snapshot.

pyiceberg has no compaction. :func:`optimize` plans with :mod:`lakebed.maintenance.planning`,
reads each group's files one at a time as today's schema (:mod:`lakebed.maintenance.reading`:
delete files applied, renamed or added columns mapped by field id), a few files ahead, streams
the rows into one :meth:`lakebed.catalog.Table.begin_write` (right-sized files, optionally
sorted), and commits one snapshot that removes the inputs and adds the outputs. Readers of older
snapshots still see the old files; a writer that removed an input meanwhile makes the commit
fail with :class:`~lakebed.errors.ConflictError`, and the new files are deleted.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import pyarrow as pa

from lakebed.maintenance._checks import require_table
from lakebed.maintenance.planning import CompactionPlan, Group, plan_compaction
from lakebed.maintenance.reading import FileReader
from lakebed.maintenance.reports import OptimizeReport

if TYPE_CHECKING:
    from lakebed.catalog import Table

#: Snapshot summary property marking a compaction's snapshot.
OPERATION_PROPERTY = "lakebed.operation"

#: Read-ahead of small input files: at most this many files, and this many bytes of them.
READ_AHEAD_FILES = 8
READ_AHEAD_BYTES = 32 << 20
#: Small batches are merged up to this many Arrow bytes before they go to the writer.
COALESCE_BYTES = 8 << 20

Progress = Callable[[int, int], None]


def optimize(
    table: Table,
    *,
    target_file_size: int | None = None,
    sort_by: Sequence[str] = (),
    where: str | None = None,
    min_input_files: int = 2,
    progress: Progress | None = None,
) -> OptimizeReport:
    """Compact small data files into files of about ``target_file_size`` bytes.

    Files under 75% of the target (default: the table's ``write.target-file-size-bytes``,
    else 256 MiB) are rewritten per partition, where a partition has at least
    ``min_input_files`` of them; ``where`` (a filter like ``Table.scan``'s) limits the work to
    the files that may hold matching rows (whole files are rewritten). Rows are ordered by
    ``sort_by`` (else the table's sort order) within each written chunk. Rows and their values
    are unchanged; one snapshot replaces the old files, so older snapshots still read them.
    ``progress(done, total)`` is called as input files are read.
    """
    table = require_table(table, "optimize")
    started = time.monotonic()
    table.refresh()
    plan = plan_compaction(
        table,
        target_file_size=target_file_size,
        sort_by=sort_by,
        where=where,
        min_input_files=min_input_files,
    )
    stats = table.stats()
    report = OptimizeReport(
        table=table.ident,
        target_file_size=plan.target_file_size,
        files_before=stats.data_files,
        bytes_before=stats.total_bytes,
        files_after=stats.data_files,
        bytes_after=stats.total_bytes,
    )
    if progress is not None:
        progress(0, plan.files)
    if not plan.groups:
        report.seconds = time.monotonic() - started
        return report

    _rewrite(table, plan, report, progress)
    after = table.stats()  # the commit left the table at its own snapshot (no refresh)
    report.files_after = after.data_files
    report.bytes_after = after.total_bytes
    report.snapshot_id = after.snapshot_id
    report.seconds = time.monotonic() - started
    return report


def _rewrite(
    table: Table, plan: CompactionPlan, report: OptimizeReport, progress: Progress | None
) -> None:
    reader = FileReader(table.iceberg)
    counter = _Counter(plan.files, progress)
    inputs = [task.file for group in plan.groups for task in group.tasks]
    with table.begin_write(
        table.schema, target_file_size=plan.target_file_size, sort_by=plan.sort_by
    ) as pending:
        with ThreadPoolExecutor(READ_AHEAD_FILES) as pool:
            for group in plan.groups:
                # One call per group: it starts new files, so partitions never share a file.
                batches = _coalesced(_group_batches(reader, group, counter, pool))
                report.rows += pending.write(batches)
        pending.commit({OPERATION_PROPERTY: "optimize"}, replace=inputs)
        written = pending.data_files
    report.groups = len(plan.groups)
    report.rewritten_files = len(inputs)
    report.rewritten_bytes = plan.bytes
    report.added_files = len(written)
    report.added_bytes = sum(f.file_size_in_bytes for f in written)


def _group_batches(
    reader: FileReader, group: Group, counter: _Counter, pool: ThreadPoolExecutor
) -> Iterator[pa.RecordBatch]:
    """The group's rows, file by file in order; a few small files are read ahead in parallel
    (at most :data:`READ_AHEAD_FILES` files or :data:`READ_AHEAD_BYTES` of them at once)."""
    ahead: deque[tuple[int, Future[list[pa.RecordBatch]]]] = deque()
    in_flight = 0
    for task in group.tasks:
        size = task.file.file_size_in_bytes
        while ahead and (len(ahead) >= READ_AHEAD_FILES or in_flight + size > READ_AHEAD_BYTES):
            done_size, future = ahead.popleft()
            in_flight -= done_size
            yield from future.result()
            counter.advance()
        ahead.append((size, pool.submit(reader.read, task)))
        in_flight += size
    while ahead:
        _, future = ahead.popleft()
        yield from future.result()
        counter.advance()


def _coalesced(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Tiny batches (a small file may hold a handful of rows) merged into bigger ones, as the
    writer's cost is per batch."""
    held: list[pa.RecordBatch] = []
    size = 0
    for batch in batches:
        if held and batch.schema != held[0].schema:
            yield from _merged(held)
            held, size = [], 0
        held.append(batch)
        size += batch.nbytes
        if size >= COALESCE_BYTES:
            yield from _merged(held)
            held, size = [], 0
    if held:
        yield from _merged(held)


def _merged(batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    if len(batches) == 1:
        return batches
    return pa.Table.from_batches(batches).combine_chunks().to_batches()


class _Counter:
    """Input files done, reported to ``progress`` (called from the writer's reading thread)."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = total
        self.done = 0
        self._progress = progress
        self._lock = threading.Lock()

    def advance(self) -> None:
        with self._lock:
            self.done += 1
            done = self.done
        if self._progress is not None:
            self._progress(done, self.total)
