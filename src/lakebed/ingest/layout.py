"""A load's table layout: partitioning and sort order are the table's, the target size too.

The partition spec and sort order are set when a load creates the table. A later load may
repeat them (or leave them out), but asking for another layout is a :class:`ConfigError` rather
than being dropped without a word: the rows would land in the table's layout anyway. A load
that gives no ``target_file_size`` writes files of the table's stored
``write.target-file-size-bytes``, the size compaction aims at too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lakebed.catalog.partitioning import build_partition_spec, build_sort_order
from lakebed.errors import ConfigError
from lakebed.ingest.options import DEFAULT_TARGET_FILE_SIZE

if TYPE_CHECKING:
    from lakebed.catalog import Table

#: The table property holding the data file size loads and compaction aim at.
TARGET_SIZE_PROPERTY = "write.target-file-size-bytes"


def target_file_size(table: Table | None, given: int | None) -> int:
    """The data file size to write: ``given``, else the table's stored target, else the
    default (the rule compaction follows too)."""
    from lakebed.maintenance.planning import target_size

    if table is None:
        return DEFAULT_TARGET_FILE_SIZE if given is None else given
    return target_size(table, given)


def _partition_keys(table: Table, items: Sequence[str]) -> list[tuple[int, str]] | None:
    """(source id, transform) of each partition field ``items`` describe; None when they
    name something the table does not have."""
    schema = table.iceberg.schema()
    try:
        spec = build_partition_spec(schema, list(items))
    except ConfigError:
        return None
    return [(f.source_id, str(f.transform)) for f in spec.fields]


def _sort_keys(table: Table, items: Sequence[str]) -> list[tuple[Any, ...]] | None:
    schema = table.iceberg.schema()
    try:
        order = build_sort_order(schema, list(items))
    except ConfigError:
        return None
    return [(f.source_id, str(f.transform), f.direction, f.null_order) for f in order.fields]


def _words(items: Sequence[str]) -> str:
    return "[" + ", ".join(repr(i) for i in items) + "]" if items else "nothing"


def check_layout(table: Table, partition_by: Sequence[str], sort_by: Sequence[str]) -> None:
    """Refuse a load whose ``partition_by`` or ``sort_by`` differ from the existing table's
    layout (giving none, or the same, is fine)."""
    iceberg = table.iceberg
    current_spec = [(f.source_id, str(f.transform)) for f in iceberg.spec().fields]
    current_sort = [
        (f.source_id, str(f.transform), f.direction, f.null_order)
        for f in iceberg.sort_order().fields
    ]
    wrong = []
    if partition_by and _partition_keys(table, partition_by) != current_spec:
        wrong.append(
            f"partition_by={_words(partition_by)}, but it is partitioned by "
            f"{_words(table.partition_by)}"
        )
    if sort_by and _sort_keys(table, sort_by) != current_sort:
        wrong.append(f"sort_by={_words(sort_by)}, but it is sorted by {_words(table.sort_by)}")
    if wrong:
        raise ConfigError(
            f"table {table.ident} already exists and its layout is set: this load gives "
            + "; and ".join(wrong),
            fix="drop partition_by/sort_by from the load (rows land in the table's layout); "
            f"to re-sort the rows already there run lake.optimize({table.ident!r}, sort_by=[...]) "
            "(lakebed optimize --sort-by); for another partitioning or sort order from now on, "
            "load into a new table (or drop and recreate this one)",
        )
