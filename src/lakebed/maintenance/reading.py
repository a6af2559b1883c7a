"""Reading one data file's rows for a rewrite, fast when the file needs no reconciling.

pyiceberg's Arrow reader does everything a rewrite needs (delete files applied, old files mapped
onto today's schema by field id), but costs about 2 ms of Python per file; for 10,000 tiny files
that is most of a compaction. Most files need none of it: they were written with today's schema
and have no delete files. Such a file (same column names, field ids and types as the current
schema, checked from its footer) is read directly with ``pyarrow.parquet`` (about 0.4 ms); any
other file goes through pyiceberg's reader, so the result is the same either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.io.pyarrow import ArrowScan, schema_to_pyarrow
from pyiceberg.manifest import FileFormat

from lakebed.catalog.errors import mapped_errors

if TYPE_CHECKING:
    from pyiceberg.table import FileScanTask
    from pyiceberg.table import Table as IcebergTable

_FIELD_ID = b"PARQUET:field_id"
Layout = list[tuple[str, bytes | None, str]]


def _kind(dtype: pa.DataType) -> str:
    if pa.types.is_struct(dtype):
        return "struct"
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return "list"
    if pa.types.is_map(dtype):
        return "map"
    if pa.types.is_large_string(dtype):
        return "string"
    if pa.types.is_large_binary(dtype):
        return "binary"
    return str(dtype)


def _children(dtype: pa.DataType) -> list[pa.Field]:
    if pa.types.is_map(dtype):
        return [dtype.key_field, dtype.item_field]
    if pa.types.is_struct(dtype):
        return [dtype.field(i) for i in range(dtype.num_fields)]
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return [dtype.value_field]
    return []


def layout(fields: Iterable[pa.Field], prefix: str = "") -> Layout:
    """Every (nested) column as (path, field id, type kind), in order."""
    out: Layout = []
    for field in fields:
        path = f"{prefix}{field.name}"
        out.append((path, (field.metadata or {}).get(_FIELD_ID), _kind(field.type)))
        out.extend(layout(_children(field.type), f"{path}."))
    return out


class FileReader:
    """Reads a table's data files one at a time (thread-safe), as today's schema."""

    def __init__(self, table: IcebergTable) -> None:
        schema = table.schema()
        self._io = table.io
        self._scan = ArrowScan(table.metadata, table.io, schema, AlwaysTrue(), case_sensitive=False)
        self._expected = layout(schema_to_pyarrow(schema))

    def read(self, task: FileScanTask) -> list[pa.RecordBatch]:
        """The rows of ``task``'s file, with its delete files applied."""
        with mapped_errors(f"data file {task.file.file_path}"):
            if not task.delete_files and task.file.file_format == FileFormat.PARQUET:
                direct = self._direct(task.file.file_path)
                if direct is not None:
                    return direct
            # One task per call: pyiceberg reads all the tasks it is given at once.
            return list(self._scan.to_record_batches([task]))

    def _direct(self, path: str) -> list[pa.RecordBatch] | None:
        with self._io.new_input(path).open() as stream:
            parquet = pq.ParquetFile(stream)
            if layout(parquet.schema_arrow) != self._expected:
                return None
            return parquet.read().to_batches()
