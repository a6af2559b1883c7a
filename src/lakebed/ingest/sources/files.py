"""Files as a source: one object, or every object under a prefix, in any supported format.

Each object is one part. Its format is the one the load names, else detected from its content
(gzip, bzip2 and zstd are decompressed as streams). ``key=value`` folders below the prefix
become columns (Hive-style partitions), typed from every value the listing shows.

The incremental bookmark is the set of objects loaded, each as (key, size, modification time):
an object is new when that triple was never loaded, so a file rewritten in place loads again.
Hidden objects (names starting with ``.`` or ``_``, like ``_SUCCESS``) are not data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import pyarrow as pa

from lakebed.crawl.inspect import detect_format, open_source
from lakebed.crawl.partitions import (
    PartitionColumn,
    partition_columns,
    partition_values,
    split_segment,
)
from lakebed.errors import ConfigError, NotFoundError
from lakebed.formats._common import peek
from lakebed.formats.base import BadRecord, OnBadRecord
from lakebed.formats.detect import SNIFF_BYTES
from lakebed.ingest.sources.base import Part, Plan, Source, State
from lakebed.storage.base import ObjectInfo, ObjectStore


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _hidden(relative: str) -> bool:
    return any(segment[:1] in (".", "_") for segment in relative.split("/"))


class FileSource(Source):
    """Objects under ``prefix`` in ``store`` (``prefix`` may name a single object)."""

    kind = "files"

    def __init__(
        self,
        store: ObjectStore,
        prefix: str,
        *,
        format: str | None = None,
        format_options: Mapping[str, Any] | None = None,
        ordered: bool = False,
    ) -> None:
        from lakebed import formats

        if format is not None and format not in formats.FORMAT_NAMES:
            raise ConfigError(
                f"unknown format {format!r}",
                fix=f"use one of: {', '.join(formats.FORMAT_NAMES)}, or leave it out to detect",
            )
        self.store = store
        self.prefix = prefix.strip("/")
        self.format = format
        self.format_options = dict(format_options or {})
        self.ordered = ordered
        self._columns: list[PartitionColumn] = []

    @property
    def uri(self) -> str:
        return self.store.uri(self.prefix)

    def _listing(self) -> list[ObjectInfo]:
        single = [o for o in self.store.list(self.prefix) if o.key == self.prefix]
        if single:
            return single
        base = f"{self.prefix}/" if self.prefix else ""
        found = [
            o
            for o in self.store.list(base)
            if o.key.startswith(base) and not _hidden(o.key[len(base) :])
        ]
        if not found:
            raise NotFoundError(
                f"no files to load under {self.uri}",
                fix="check the path (hidden files starting with . or _ are not loaded)",
            )
        return sorted(found, key=lambda o: o.key)

    def _folders(self, key: str) -> list[str]:
        base = f"{self.prefix}/" if self.prefix else ""
        return key[len(base) :].split("/")[:-1] if key.startswith(base) else []

    def plan(self, state: State | None) -> Plan:
        listing = self._listing()
        hive = [
            folders
            for folders in (self._folders(o.key) for o in listing)
            if folders and all(split_segment(s)[0] for s in folders)
        ]
        self._columns = partition_columns(hive) if hive else []
        loaded = {tuple(entry) for entry in (state or {}).get("files", [])}
        parts: list[Part] = []
        kept: list[list[Any]] = []
        for obj in listing:
            entry = (obj.key, obj.size, _micros(obj.modified))
            kept.append(list(entry))
            if entry not in loaded:
                parts.append(Part(self.store.uri(obj.key), obj.size, {"key": obj.key}))
        notes = []
        if skipped := len(listing) - len(parts):
            notes.append(f"{skipped} file(s) already loaded were skipped")
        return Plan(parts, {"kind": "files", "files": kept}, notes=notes)

    def read(self, part: Part, on_bad_record: OnBadRecord) -> Iterator[pa.RecordBatch]:
        from lakebed import formats

        key = str(part.info["key"])
        name = key.rsplit("/", 1)[-1]
        folders = self._folders(key)
        constants = partition_values(folders, self._columns) if self._columns else {}

        def keep(record: BadRecord) -> None:
            on_bad_record(BadRecord(part.id, record.location, record.reason, record.raw))

        with open_source(self.store, key) as stream:
            if self.format is not None:
                fmt = formats.get_format(self.format)
            else:
                head, stream = peek(stream, SNIFF_BYTES)
                fmt = detect_format(head, name)
            for batch in fmt.read(stream, name=name, on_bad_record=keep, **self.format_options):
                yield _with_constants(batch, constants, self._columns)

    def describe_state(self, state: State | None) -> str:
        if not state:
            return "nothing loaded yet"
        return f"{len(state.get('files', []))} file(s) loaded"


def _with_constants(
    batch: pa.RecordBatch, values: Mapping[str, Any], columns: list[PartitionColumn]
) -> pa.RecordBatch:
    if not columns:
        return batch
    arrays = list(batch.columns)
    fields = list(batch.schema)
    for column in columns:
        if column.name in batch.schema.names:
            continue  # the data has the column itself; the folder name does not override it
        arrays.append(pa.array([values.get(column.name)] * batch.num_rows, column.arrow_type))
        fields.append(pa.field(column.name, column.arrow_type))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
