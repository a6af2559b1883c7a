"""An Iceberg table: snapshots, atomic appends and overwrites that evolve the schema, scans.

Every write is one catalog commit (schema change and new snapshot together), so a crash leaves
the old version or the new one. A stream (a RecordBatchReader or batches) is written to data
files chunk by chunk and committed once at the end (:mod:`lakebed.catalog.streaming`), so memory
stays bounded by a chunk; a stream that fails midway commits nothing. pyiceberg retries a
commit that loses a race with another writer; a write that keeps losing raises a transient
:class:`StorageError`.

A loaded table is a view as of its last load or write; :meth:`Table.refresh` picks up commits
made elsewhere. Writes refresh first, so they always build on the latest version.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeAlias

import pyarrow as pa
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError, ValidationError
from pyiceberg.expressions import AlwaysTrue, BooleanExpression
from pyiceberg.schema import Schema
from pyiceberg.table import Table as IcebergTable

from lakebed.catalog.errors import mapped_errors
from lakebed.catalog.filters import parse_filter
from lakebed.catalog.models import ScanPlan, SnapshotInfo, TableStats, snapshot_info
from lakebed.catalog.naming import did_you_mean
from lakebed.catalog.order import in_added_order
from lakebed.catalog.partitioning import describe_partition_spec, describe_sort_order
from lakebed.catalog.schema import (
    conform,
    normalize_field,
    plan_merge,
    small_types,
    to_arrow_schema,
    to_iceberg_type,
)
from lakebed.catalog.streaming import PendingWrite
from lakebed.errors import ConfigError, NotFoundError, QueryError, SchemaError

DESCRIPTION_PROPERTY = "comment"

#: What a write takes. A reader or an iterable of batches is streamed: its rows go to data files
#: chunk by chunk (memory bounded by a chunk) and are committed together at the end.
Data: TypeAlias = pa.Table | pa.RecordBatch | pa.RecordBatchReader | Iterable[pa.RecordBatch]


def _is_batch_iterable(data: object) -> bool:
    return isinstance(data, Iterable) and not isinstance(data, str | bytes | Mapping)


def _utc_ms(ts: datetime) -> int:
    """Milliseconds since the epoch; a naive datetime is taken as UTC."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return int(ts.timestamp() * 1000)


def str_properties(props: Mapping[str, Any] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (props or {}).items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ConfigError(
                f"{what} {key!r}={value!r} is not a string pair",
                fix="convert property keys and values to strings",
            )
        out[key] = value
    return out


class Table:
    """An Iceberg table in the catalog; get one from ``Catalog.create_table``/``load_table``."""

    kind: ClassVar[str] = "iceberg"

    def __init__(self, ident: str, table: IcebergTable) -> None:
        self.ident = ident
        self._table = table

    def __repr__(self) -> str:
        return f"Table({self.ident!r}, rows={self.stats().rows})"

    # ----- description -------------------------------------------------------------------
    @property
    def iceberg(self) -> IcebergTable:
        """The underlying pyiceberg table, for what this class does not cover."""
        return self._table

    @property
    def schema(self) -> pa.Schema:
        """The current schema, as Arrow types (what :meth:`scan` returns)."""
        return to_arrow_schema(self._table.schema())

    @property
    def partition_by(self) -> list[str]:
        """The partition spec as strings, e.g. ``["day(ts)", "bucket(16, id)"]``."""
        return describe_partition_spec(self._table.spec(), self._table.schema())

    @property
    def sort_by(self) -> list[str]:
        """The sort order as strings, e.g. ``["ts desc"]``."""
        return describe_sort_order(self._table.sort_order(), self._table.schema())

    @property
    def properties(self) -> dict[str, str]:
        """Table properties (the description is the ``comment`` property)."""
        return dict(self._table.properties)

    @property
    def description(self) -> str | None:
        return self._table.properties.get(DESCRIPTION_PROPERTY)

    @property
    def location(self) -> str:
        """The table's root URI; data files live under ``<location>/data``."""
        return self._table.location()

    def refresh(self) -> Table:
        """Reload the table's metadata from the catalog (to see others' commits)."""
        with mapped_errors(f"table {self.ident}"):
            self._table.refresh()
        return self

    def set_properties(self, **props: str) -> None:
        """Set table properties in one commit."""
        values = str_properties(props, "property")
        self.refresh()
        with mapped_errors(f"table {self.ident}"), self._table.transaction() as txn:
            txn.set_properties(values)

    # ----- snapshots ---------------------------------------------------------------------
    def snapshots(self) -> list[SnapshotInfo]:
        """Every snapshot, oldest first."""
        snaps = sorted(self._table.snapshots(), key=lambda s: (s.timestamp_ms, s.sequence_number))
        return [snapshot_info(s) for s in snaps]

    def current_snapshot(self) -> SnapshotInfo | None:
        """The snapshot reads see now; None for a table never written."""
        current = self._table.current_snapshot()
        return None if current is None else snapshot_info(current)

    def snapshot(self, snapshot_id: int) -> SnapshotInfo:
        """One snapshot by id; NotFoundError lists recent ids when it does not exist."""
        found = self._table.snapshot_by_id(snapshot_id)
        if found is None:
            recent = [str(s.snapshot_id) for s in self.snapshots()[-5:]]
            raise NotFoundError(
                f"table {self.ident} has no snapshot {snapshot_id}",
                fix=f"use one of its recent snapshots: {', '.join(recent) or 'none yet'}",
            )
        return snapshot_info(found)

    def snapshot_as_of(self, ts: datetime) -> SnapshotInfo:
        """The snapshot that was current at ``ts`` (naive datetimes are UTC)."""
        limit = _utc_ms(ts)
        log = self._table.metadata.snapshot_log
        entries = [(e.timestamp_ms, e.snapshot_id) for e in log] or [
            (s.timestamp_ms, s.snapshot_id) for s in self._table.snapshots()
        ]
        before = [e for e in entries if e[0] <= limit]
        if not before:
            first = min(entries)[0] if entries else None
            when = (
                f"its first snapshot is from {datetime.fromtimestamp(first / 1000, tz=UTC)}"
                if first is not None
                else "it has no snapshots yet"
            )
            raise NotFoundError(
                f"table {self.ident} has no snapshot at or before {ts.isoformat()}; {when}",
                fix="pick a later time",
            )
        return self.snapshot(max(before)[1])

    def _resolve(self, snapshot_id: int | None, as_of: datetime | None) -> int | None:
        if snapshot_id is not None and as_of is not None:
            raise ConfigError("pass snapshot_id or as_of, not both", fix="drop one of them")
        if as_of is not None:
            return self.snapshot_as_of(as_of).snapshot_id
        if snapshot_id is not None:
            return self.snapshot(snapshot_id).snapshot_id
        current = self._table.current_snapshot()
        return None if current is None else current.snapshot_id

    def _schema_at(self, snapshot_id: int | None) -> Schema:
        snap = None if snapshot_id is None else self._table.snapshot_by_id(snapshot_id)
        if snap is not None and snap.schema_id is not None:
            for schema in self._table.metadata.schemas:
                if schema.schema_id == snap.schema_id:
                    return schema
        return self._table.schema()

    # ----- reads -------------------------------------------------------------------------
    def _scan(
        self,
        snapshot_id: int | None,
        as_of: datetime | None,
        filter: str | None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> tuple[Any, Schema, int | None]:
        sid = self._resolve(snapshot_id, as_of)
        # Time travel reads with the snapshot's schema; the current state with today's schema.
        travel = snapshot_id is not None or as_of is not None
        schema = self._schema_at(sid) if travel else self._table.schema()
        expr: BooleanExpression = parse_filter(filter, schema) if filter else AlwaysTrue()
        fields: tuple[str, ...] = ("*",)
        if columns is not None:
            names = [f.name for f in schema.fields]
            for column in columns:
                if column not in names:
                    raise QueryError(
                        f"table {self.ident} has no column {column!r}{did_you_mean(column, names)}",
                        fix=f"use one of: {', '.join(names)}",
                    )
            fields = tuple(columns)
        if limit is not None and limit < 0:
            raise ConfigError(f"limit must be 0 or more, not {limit}")
        scan = self._table.scan(
            row_filter=expr,
            selected_fields=fields,
            case_sensitive=False,
            snapshot_id=sid if travel else None,
            limit=limit,
        )
        return in_added_order(scan), schema, sid

    def scan(
        self,
        *,
        snapshot_id: int | None = None,
        as_of: datetime | None = None,
        columns: Sequence[str] | None = None,
        filter: str | None = None,
        limit: int | None = None,
    ) -> pa.Table:
        """Rows of the current (or an older) snapshot, optionally filtered and projected."""
        scan, _, _ = self._scan(snapshot_id, as_of, filter, columns, limit)
        with mapped_errors(f"table {self.ident}"):
            result = small_types(scan.to_arrow())
        if columns is not None:
            result = result.select(list(columns))
        return result

    def plan_files(
        self,
        *,
        snapshot_id: int | None = None,
        as_of: datetime | None = None,
        filter: str | None = None,
    ) -> ScanPlan:
        """The data files a read needs, pruned by partition and column statistics."""
        scan, schema, sid = self._scan(snapshot_id, as_of, filter)
        with mapped_errors(f"table {self.ident}"):
            tasks = list(scan.plan_files())
        return ScanPlan(
            files=[t.file.file_path for t in tasks],
            has_deletes=any(t.delete_files for t in tasks),
            schema=to_arrow_schema(schema),
            snapshot_id=sid,
            rows=sum(t.file.record_count for t in tasks),
            bytes=sum(t.file.file_size_in_bytes for t in tasks),
            file_rows={t.file.file_path: t.file.record_count for t in tasks},
        )

    def stats(self) -> TableStats:
        """Rows, data files and bytes of the current snapshot."""
        current = self.current_snapshot()
        summary = current.summary if current else {}
        return TableStats(
            rows=int(summary.get("total-records", 0)),
            data_files=int(summary.get("total-data-files", 0)),
            total_bytes=int(summary.get("total-files-size", 0)),
            snapshots=len(self._table.snapshots()),
            snapshot_id=current.snapshot_id if current else None,
        )

    # ----- writes ------------------------------------------------------------------------
    def append(self, data: Data, *, properties: Mapping[str, str] | None = None) -> SnapshotInfo:
        """Add rows in one snapshot, evolving the schema when the data brings compatible
        changes; ``properties`` go into the snapshot summary (e.g. stream offsets).

        A reader or iterable of batches is streamed with bounded memory; if it raises midway,
        nothing is committed and the error propagates."""
        return self._write(data, None, properties, overwrite=False)

    def overwrite(
        self,
        data: Data,
        *,
        filter: str | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> SnapshotInfo:
        """Replace the rows matching ``filter`` (all rows without one) by ``data``, atomically."""
        return self._write(data, filter, properties, overwrite=True)

    def begin_write(
        self,
        schema: pa.Schema,
        *,
        chunk_bytes: int | None = None,
        target_file_size: int | None = None,
        sort_by: Sequence[str] = (),
        lanes: int = 1,
    ) -> PendingWrite:
        """Start a write whose rows arrive in parts and are committed together.

        For callers that decide only at the end what goes in (and with which snapshot
        properties): write batches with :meth:`PendingWrite.write`, drop a part with a
        savepoint, then :meth:`PendingWrite.commit` once. ``schema`` is the data's schema; a
        compatible change is applied in the same commit. Rows are written to data files
        every ``chunk_bytes`` of Arrow data (default :data:`streaming.CHUNK_BYTES`, 96 MiB),
        into Parquet files of about ``target_file_size`` bytes (default: the table's
        ``write.target-file-size-bytes``, else 512 MiB), each chunk ordered by ``sort_by``
        (column names, each optionally followed by ``desc``). ``lanes`` files are encoded at
        once, on their own threads (:func:`~lakebed.catalog.datafiles.encode_lanes` gives
        one per core, what keeps a machine busy on a large load).
        """
        self.refresh()
        return PendingWrite(
            self.ident,
            self._table,
            schema,
            chunk_bytes=chunk_bytes,
            target_file_size=target_file_size,
            sort_by=sort_by,
            lanes=lanes,
        )

    def _write(
        self,
        data: Data,
        filter: str | None,
        properties: Mapping[str, str] | None,
        *,
        overwrite: bool,
    ) -> SnapshotInfo:
        summary = str_properties(properties, "snapshot property")
        if isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        if isinstance(data, pa.Table):
            self._write_table(data, filter, summary, overwrite=overwrite)
        elif isinstance(data, pa.RecordBatchReader) or _is_batch_iterable(data):
            schema, batches = self._peek(data)
            with self.begin_write(schema) as pending:
                pending.write(batches)
                pending.commit(summary, overwrite=overwrite, filter=filter)
        else:
            raise ConfigError(
                f"cannot write {type(data).__name__} to table {self.ident}",
                fix="pass a pyarrow Table, RecordBatch, RecordBatchReader or batches",
            )
        current = self._table.current_snapshot()
        assert current is not None
        return snapshot_info(current)

    def _peek(self, data: Iterable[pa.RecordBatch]) -> tuple[pa.Schema, Iterable[pa.RecordBatch]]:
        """The schema of a stream, and the stream (whose first batch may have been read)."""
        if isinstance(data, pa.RecordBatchReader):
            return data.schema, data
        batches = iter(data)
        first = next(batches, None)
        if first is None:
            return self.schema, []
        if not isinstance(first, pa.RecordBatch):
            raise ConfigError(
                f"cannot write {type(first).__name__} items to table {self.ident}",
                fix="pass an iterable of pyarrow RecordBatches",
            )
        return first.schema, itertools.chain([first], batches)

    def _write_table(
        self, data: pa.Table, filter: str | None, summary: dict[str, str], *, overwrite: bool
    ) -> None:
        self.refresh()
        plan = plan_merge(self.schema, data.schema, self.ident)
        with mapped_errors(f"table {self.ident}"):
            txn = self._table.transaction()
            if plan.evolves:
                with txn.update_schema() as update:
                    for f in plan.add:
                        update.add_column(f.name, to_iceberg_type(f.type, f.name))
                    for name, new_type in plan.widen.items():
                        update.update_column(name, field_type=to_iceberg_type(new_type, name))
            new_schema = txn.table_metadata.schema()
            body = conform(data, to_arrow_schema(new_schema), self.ident)
            if overwrite:
                expr = parse_filter(filter, new_schema) if filter else AlwaysTrue()
                txn.overwrite(
                    body, overwrite_filter=expr, snapshot_properties=summary, case_sensitive=False
                )
            else:
                txn.append(body, snapshot_properties=summary)
            txn.commit_transaction()

    def evolve_schema(
        self,
        *,
        add: pa.Schema | None = None,
        rename: Mapping[str, str] | None = None,
        widen: Mapping[str, pa.DataType] | None = None,
        drop: Sequence[str] = (),
    ) -> None:
        """Change the schema in one commit: add nullable columns, rename, widen, drop.

        Old data files stay as they are; Iceberg tracks columns by id, so renamed and dropped
        columns read correctly in every snapshot.
        """
        self.refresh()
        names = [f.name for f in self._table.schema().fields]
        for name in [*(rename or {}), *(widen or {}), *drop]:
            if name not in names:
                raise SchemaError(
                    f"table {self.ident} has no column {name!r}{did_you_mean(name, names)}",
                    fix=f"use one of: {', '.join(names)}",
                )
        try:
            with self._table.update_schema() as update:
                for f in add or []:
                    f = normalize_field(f)
                    update.add_column(f.name, to_iceberg_type(f.type, f.name))
                for old, new in (rename or {}).items():
                    update.rename_column(old, new)
                for name, new_type in (widen or {}).items():
                    normalized = normalize_field(pa.field(name, new_type)).type
                    update.update_column(name, field_type=to_iceberg_type(normalized, name))
                for name in drop:
                    update.delete_column(name)
        except (CommitFailedException, NoSuchTableError) as exc:
            with mapped_errors(f"table {self.ident}"):
                raise exc
        except (ValueError, TypeError, ValidationError) as exc:
            if isinstance(exc, SchemaError):
                raise
            raise SchemaError(
                f"cannot change the schema of table {self.ident}: {exc}",
                fix="only add nullable columns, rename, widen (int→long, float→double, "
                "more decimal precision) or drop non-partition columns",
            ) from None
