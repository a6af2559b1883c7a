"""Right-sized Parquet data files, written as rows stream in.

:class:`DataFileWriter` keeps one open Parquet file per partition and appends each incoming
chunk's rows to it as row groups; when a file reaches the target size it is closed and the
partition's next rows start a new one. Memory is bounded by a chunk (plus each open file's
footer), yet files come out at the target size however small the chunks are — what lets a
load of many small source files, or a compaction, write 256 MiB files.

Built on pieces pyiceberg uses for its own writes: the location provider (file names and
partition folders), the Arrow → Iceberg projection that stamps field ids on the columns, the
partitioning of a chunk by the spec's transforms, and the footer statistics Iceberg manifests
need. ``_to_requested_schema`` and ``_determine_partitions`` are private to pyiceberg (there is
no public way to write a data file without committing it); pin-check them on upgrades.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.io.fileformat import FileFormatFactory
from pyiceberg.io.pyarrow import (
    _determine_partitions,
    _get_parquet_writer_kwargs,
    _to_requested_schema,
    compute_statistics_plan,
    data_file_statistics_from_parquet_metadata,
    parquet_path_to_id_mapping,
    pyarrow_to_schema,
)
from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
from pyiceberg.partitioning import PartitionKey
from pyiceberg.schema import sanitize_column_names
from pyiceberg.table.locations import load_location_provider
from pyiceberg.typedef import Record

if TYPE_CHECKING:
    from pyiceberg.io import FileIO, OutputStream
    from pyiceberg.table.metadata import TableMetadata

_PARQUET = FileFormatFactory.get(FileFormat.PARQUET)

#: Rows per Parquet row group at most (pyiceberg's default limit).
ROW_GROUP_ROWS = 1 << 20


@dataclass
class _OpenFile:
    path: str
    key: PartitionKey | None
    stream: OutputStream
    writer: pq.ParquetWriter
    rows: int = 0
    arrow_bytes: int = 0

    @property
    def size(self) -> int:
        return int(self.stream.tell())


class DataFileWriter:
    """Writes a table's rows to Parquet data files of about ``target_size`` bytes each.

    ``write`` takes Arrow tables already fitted to the table's schema (column names and
    types); ``sort_by`` (column names, each optionally followed by `` desc``) orders each
    chunk's rows before they are written. ``close`` returns the finished files' Iceberg
    :class:`DataFile` entries; ``abort`` deletes every file written.
    """

    def __init__(
        self,
        metadata: TableMetadata,
        io: FileIO,
        target_size: int,
        *,
        sort_by: Sequence[str] = (),
        write_uuid: uuid.UUID | None = None,
    ) -> None:
        self._io = io
        self._target = target_size
        self._sort = [_sort_key(s) for s in sort_by]
        self._uuid = write_uuid or uuid.uuid4()
        self._counter = itertools.count()
        self._open: dict[Any, _OpenFile] = {}
        self._done: list[DataFile] = []
        self._written: list[str] = []
        self._ratio = 1.0  # Parquet bytes per Arrow byte, learnt from the files finished
        self.use_metadata(metadata)

    def use_metadata(self, metadata: TableMetadata) -> None:
        """Write the next rows with ``metadata``'s schema (after a schema change in the same
        transaction); the open files are closed first."""
        self.flush()
        self._metadata = metadata
        self._schema = metadata.schema()
        self._file_schema = sanitize_column_names(self._schema)
        self._spec = metadata.spec()
        self._locations = load_location_provider(metadata.location, metadata.properties)
        self._kwargs = _get_parquet_writer_kwargs(metadata.properties)

    @property
    def open_files(self) -> int:
        """Files still being written."""
        return len(self._open)

    @property
    def data_files(self) -> list[DataFile]:
        """Files closed so far (all of them after :meth:`close`)."""
        return list(self._done)

    def write(self, chunk: pa.Table) -> None:
        """Append ``chunk``'s rows to the open files of their partitions."""
        if not chunk.num_rows:
            return
        if self._sort:
            chunk = chunk.sort_by(self._sort)
        task_schema = pyarrow_to_schema(
            chunk.schema,
            name_mapping=self._schema.name_mapping,
            format_version=self._metadata.format_version,
        )
        if self._spec.is_unpartitioned():
            self._append(None, chunk, task_schema)
            return
        for part in _determine_partitions(self._spec, self._schema, chunk):
            self._append(part.partition_key, part.arrow_table_partition, task_schema)

    def _append(self, key: PartitionKey | None, rows: pa.Table, task_schema: Any) -> None:
        slot: Any = None if key is None else key.partition
        batches = [
            _to_requested_schema(
                requested_schema=self._file_schema,
                file_schema=task_schema,
                batch=batch,
                include_field_ids=True,
                format_model=_PARQUET,
            )
            for batch in rows.to_batches()
        ]
        if not batches:
            return
        body = pa.Table.from_batches(batches)
        # Rows that would overshoot the target go in slices, each about what fits in a file
        # (Arrow bytes scaled by the Parquet/Arrow ratio of the files written so far).
        step = max(1, int(body.num_rows * self._target / max(1.0, body.nbytes * self._ratio)))
        for start in range(0, body.num_rows, step):
            piece = body.slice(start, step)
            target = self._open.get(slot)
            if target is None:
                target = self._start(key, piece.schema)
                self._open[slot] = target
            target.writer.write_table(piece, row_group_size=ROW_GROUP_ROWS)
            target.rows += piece.num_rows
            target.arrow_bytes += piece.nbytes
            if target.size >= self._target:
                self._finish(self._open.pop(slot))

    def _start(self, key: PartitionKey | None, schema: pa.Schema) -> _OpenFile:
        name = f"00000-{next(self._counter)}-{self._uuid}.parquet"
        path = self._locations.new_data_location(data_file_name=name, partition_key=key)
        stream = self._io.new_output(path).create(overwrite=True)
        self._written.append(path)
        try:
            writer = pq.ParquetWriter(
                stream,
                schema=schema,
                store_decimal_as_integer=True,
                use_dictionary=[f.name for f in schema if _repeats(f.type)],
                **self._kwargs,
            )
        except BaseException:
            stream.close()
            raise
        return _OpenFile(path, key, stream, writer)

    def _finish(self, open_file: _OpenFile) -> None:
        open_file.writer.close()
        size = open_file.size
        open_file.stream.close()
        if open_file.arrow_bytes:
            self._ratio = max(0.01, size / open_file.arrow_bytes)
        stats = data_file_statistics_from_parquet_metadata(
            parquet_metadata=open_file.writer.writer.metadata,
            stats_columns=compute_statistics_plan(self._file_schema, self._metadata.properties),
            parquet_column_mapping=parquet_path_to_id_mapping(self._file_schema),
        )
        data_file = DataFile.from_args(
            content=DataFileContent.DATA,
            file_path=open_file.path,
            file_format=FileFormat.PARQUET,
            partition=open_file.key.partition if open_file.key else Record(),
            file_size_in_bytes=size,
            sort_order_id=None,
            spec_id=self._metadata.default_spec_id,
            equality_ids=None,
            key_metadata=None,
            **stats.to_serialized_dict(),
        )
        data_file.spec_id = self._metadata.default_spec_id  # from_args drops it
        self._done.append(data_file)

    def flush(self) -> None:
        """Close every open file (the next rows start new ones)."""
        while self._open:
            _, open_file = self._open.popitem()
            self._finish(open_file)

    def drop(self, keep: int) -> list[DataFile]:
        """Forget and delete the closed files after the first ``keep``; returns them."""
        dropped = self._done[keep:]
        del self._done[keep:]
        delete_paths(self._io, [f.file_path for f in dropped])
        return dropped

    def close(self) -> list[DataFile]:
        """Close every open file; the entries of all files written."""
        while self._open:
            _, open_file = self._open.popitem()
            self._finish(open_file)
        return list(self._done)

    def abort(self) -> None:
        """Delete every file this writer wrote (open or closed)."""
        for open_file in self._open.values():
            with contextlib.suppress(Exception):
                open_file.writer.close()
            with contextlib.suppress(Exception):
                open_file.stream.close()
        self._open.clear()
        self._done.clear()
        delete_paths(self._io, self._written)
        self._written.clear()


def _repeats(kind: pa.DataType) -> bool:
    """Whether a column of ``kind`` is worth a dictionary: text and binary values repeat in
    most data and cost most to store; numbers compress well without one, and trying one on
    them costs encoding time for nothing when they do not repeat."""
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_boolean(kind)
    )


def delete_paths(io: FileIO, paths: Sequence[str]) -> None:
    """Delete files, ignoring ones already gone (what's left is an orphan, unseen by readers)."""
    for path in paths:
        with contextlib.suppress(OSError, FileNotFoundError):
            io.delete(path)


def _sort_key(spec: str) -> tuple[str, str]:
    parts = spec.strip().rsplit(None, 1)
    if len(parts) == 2 and parts[1].lower() in ("asc", "desc"):
        return parts[0], "descending" if parts[1].lower() == "desc" else "ascending"
    return spec.strip(), "ascending"


#: Most data files a large write encodes at once (each lane holds a chunk of rows in memory).
MAX_ENCODE_LANES = 8


def encode_lanes(threads: int | None = None) -> int:
    """Data files a large write encodes at once, on ``threads`` cores (all of the machine's by
    default): one per core, up to :data:`MAX_ENCODE_LANES`."""
    return max(1, min(threads or os.cpu_count() or 1, MAX_ENCODE_LANES))


class ParallelFileWriter:
    """:class:`DataFileWriter` s in ``lanes``, each encoding its own files on its own thread.

    A Parquet file is written by one thread, so one writer encodes at one core's speed; with
    two lanes, consecutive chunks go to alternate writers and are encoded at once, while the
    caller prepares the next chunk. Each partition then ends with up to ``lanes`` files short
    of the target, instead of one. With one lane, writes happen on the calling thread.
    """

    def __init__(
        self,
        metadata: TableMetadata,
        io: FileIO,
        target_size: int,
        *,
        sort_by: Sequence[str] = (),
        lanes: int = 1,
    ) -> None:
        self._lanes = [
            DataFileWriter(metadata, io, target_size, sort_by=sort_by) for _ in range(lanes)
        ]
        self._pool = (
            ThreadPoolExecutor(lanes, thread_name_prefix="lakebed-encode") if lanes > 1 else None
        )
        self._busy: list[Future[None] | None] = [None] * lanes
        self._next = 0

    @property
    def open_files(self) -> int:
        return sum(lane.open_files for lane in self._lanes)

    @property
    def data_files(self) -> list[DataFile]:
        return [f for lane in self._lanes for f in lane.data_files]

    def write(self, chunk: pa.Table) -> None:
        """Hand ``chunk`` to the next lane (waiting for that lane's previous chunk)."""
        if self._pool is None:
            self._lanes[0].write(chunk)
            return
        lane = self._next
        self._next = (lane + 1) % len(self._lanes)
        self._wait(lane)
        self._busy[lane] = self._pool.submit(self._lanes[lane].write, chunk)

    def _wait(self, lane: int) -> None:
        busy, self._busy[lane] = self._busy[lane], None
        if busy is not None:
            busy.result()  # re-raises what the lane's write raised

    def _wait_all(self) -> None:
        for lane in range(len(self._lanes)):
            self._wait(lane)

    def use_metadata(self, metadata: TableMetadata) -> None:
        self._wait_all()
        for lane in self._lanes:
            lane.use_metadata(metadata)

    def mark(self) -> tuple[int, ...]:
        """Close the open files; the closed files per lane, for :meth:`drop`."""
        self._wait_all()
        for lane in self._lanes:
            lane.flush()
        return tuple(len(lane.data_files) for lane in self._lanes)

    def drop(self, mark: tuple[int, ...]) -> list[DataFile]:
        """Delete the files closed since ``mark``; returns their entries."""
        self.mark()
        return [f for lane, keep in zip(self._lanes, mark, strict=True) for f in lane.drop(keep)]

    def close(self) -> list[DataFile]:
        """Wait for the lanes, close every open file; every file written."""
        self._wait_all()
        files = [f for lane in self._lanes for f in lane.close()]
        self._shutdown()
        return files

    def abort(self) -> None:
        """Delete every file written, by every lane."""
        for lane in range(len(self._lanes)):
            with contextlib.suppress(Exception):
                self._wait(lane)
        for writer in self._lanes:
            writer.abort()
        self._shutdown()

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
