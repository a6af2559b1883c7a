"""Converting crawled files into Iceberg tables (``CrawlOptions(convert=True)``).

Each file is read through ``lakebed.formats``, fitted to the table's schema, given its partition
values from the folder path, and appended; the table is partitioned by the identity of those
columns. Files are committed in chunks of about ``CHUNK_BYTES`` of source data (one snapshot per
chunk), so memory stays bounded by a chunk, not by the table. A file that cannot be read or
fitted is left out and reported with its reason; it never stops the crawl. When a file changed
or left the table, the table is rewritten from its files (first chunk overwrites).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.types as pat

from lakebed.crawl.conform import conform_batch
from lakebed.crawl.external import result_for, table_location
from lakebed.crawl.grouping import FileFacts, PlannedTable
from lakebed.crawl.inspect import open_source
from lakebed.crawl.partitions import partition_values
from lakebed.crawl.reconcile import Retirement, TableWork
from lakebed.crawl.report import TableResult
from lakebed.crawl.schema_merge import diff_schemas, merge_types
from lakebed.errors import AlreadyExistsError, LakebedError
from lakebed.formats.base import BadRecord
from lakebed.storage.base import ObjectStore

if TYPE_CHECKING:
    from lakebed.catalog import Catalog, Table

CHUNK_BYTES = 128 << 20
LOCATION_PROPERTY = "lakebed.crawl.location"
DEPRECATED_PROPERTY = "lakebed.deprecated"


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
    for field in merged:
        if field.name in current.names:
            old = current.field(field.name).type
            target = merge_types(old, field.type)
            if not target.equals(old) and _iceberg_widens(old, target):
                widen[field.name] = target
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


def _file_table(
    store: ObjectStore,
    facts: FileFacts,
    planned: PlannedTable,
    target: pa.Schema,
    bad: list[BadRecord],
) -> pa.Table:
    from lakebed import formats

    constants = partition_values(planned.partition_folder(facts), planned.partition_columns)
    fmt = formats.get_format(facts.format)
    batches = []
    with open_source(store, facts.key) as source:
        for batch in fmt.read(
            source, name=facts.key, on_bad_record=bad.append, **dict(facts.options)
        ):
            batches.append(conform_batch(batch, target, constants))
    return pa.Table.from_batches(batches, schema=target)


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


def convert_table(
    catalog: Catalog,
    store: ObjectStore,
    prefix: str,
    work: TableWork,
    *,
    schema_policy: str,
    sizes: Mapping[str, int],
    failed: list[tuple[str, str]],
) -> TableResult:
    """Create, append to or rewrite the Iceberg table of ``work``; failed files go to
    ``failed`` as (key, reason)."""
    result = result_for(work, "iceberg")
    if work.action == "unchanged" and work.exists:
        return result
    iceberg = _open_table(catalog, store, prefix, work, result)
    planned = work.table
    if work.exists and result.action != "created":
        _evolve(iceberg, full_schema(planned), schema_policy, result)
        if iceberg.properties.get(DEPRECATED_PROPERTY) == "true":
            iceberg.set_properties(**{DEPRECATED_PROPERTY: "false"})
    target = iceberg.schema
    new = set(work.new_keys)
    files = planned.files if work.rebuild else [f for f in planned.files if f.key in new]
    rows, bad = 0, list[BadRecord]()
    overwrite = work.rebuild
    for chunk in _chunks(files, sizes):
        tables = []
        for facts in chunk:
            try:
                tables.append(_file_table(store, facts, planned, target, bad))
            except (LakebedError, OSError, ValueError, pa.ArrowException) as err:
                reason = err.message if isinstance(err, LakebedError) else str(err)
                failed.append((facts.key, f"not converted: {reason}"))
        data = pa.concat_tables(tables) if tables else target.empty_table()
        if overwrite:
            iceberg.overwrite(data)
            overwrite = False
        elif data.num_rows:
            iceberg.append(data)
        rows += data.num_rows
    if overwrite:  # every file of a rewritten table is gone or failed
        iceberg.overwrite(target.empty_table())
    result.rows = rows
    if bad:
        first = bad[0]
        result.notes.append(
            f"{len(bad)} bad record(s) left out, first in {first.source} at {first.location}: "
            f"{first.reason}"
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
