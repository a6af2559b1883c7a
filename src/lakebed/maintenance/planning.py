"""Planning a compaction: which small data files to rewrite together, and in what order.

One scan plan (pyiceberg reads the current snapshot's manifests once, in parallel, pruning by
the ``where`` filter) lists every live data file; files below 75% of the target size are grouped
by partition (spec id plus partition values), oldest first (see :mod:`lakebed.catalog.order`),
and groups with too few files are left alone.
No per-file catalog or storage call is made, so planning 10,000 files takes about a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pyiceberg.expressions import AlwaysTrue, BooleanExpression
from pyiceberg.table import FileScanTask, TableProperties
from pyiceberg.transforms import IdentityTransform

from lakebed.catalog.errors import mapped_errors
from lakebed.catalog.filters import parse_filter
from lakebed.catalog.naming import did_you_mean
from lakebed.catalog.order import in_added_order
from lakebed.errors import ConfigError
from lakebed.ingest.options import DEFAULT_TARGET_FILE_SIZE

if TYPE_CHECKING:
    from lakebed.catalog import Table

#: A file is "small" below this share of the target size (Iceberg's own default is 75%).
SMALL_FILE_RATIO = 0.75


@dataclass
class Group:
    """Data files of one partition to rewrite together."""

    spec_id: int
    partition: tuple[Any, ...]
    tasks: list[FileScanTask] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(t.file.file_size_in_bytes for t in self.tasks)


@dataclass
class CompactionPlan:
    """What :func:`plan_compaction` decided."""

    target_file_size: int
    groups: list[Group]
    sort_by: list[str]

    @property
    def files(self) -> int:
        return sum(len(g.tasks) for g in self.groups)

    @property
    def bytes(self) -> int:
        return sum(g.bytes for g in self.groups)


def target_size(table: Table, target_file_size: int | None) -> int:
    """The size to compact to: the argument, else the table's property, else lakebed's default."""
    if target_file_size is not None:
        if not isinstance(target_file_size, int) or target_file_size <= 0:
            raise ConfigError(
                f"target_file_size must be a positive number of bytes, not {target_file_size!r}",
                fix="pass e.g. 256 * 1024 * 1024, or '256MB' on the command line",
            )
        return target_file_size
    raw = table.properties.get(TableProperties.WRITE_TARGET_FILE_SIZE_BYTES)
    if raw is None:
        return DEFAULT_TARGET_FILE_SIZE
    try:
        return max(1, int(raw))
    except ValueError:
        raise ConfigError(
            f"table {table.ident} property "
            f"{TableProperties.WRITE_TARGET_FILE_SIZE_BYTES}={raw!r} is not a byte count",
            fix="set it to a whole number of bytes, or pass target_file_size",
        ) from None


def sort_columns(table: Table, sort_by: Sequence[str]) -> list[str]:
    """``sort_by`` checked against the schema, else the table's sort order (identity fields)."""
    if isinstance(sort_by, str):
        sort_by = [sort_by]
    names = [f.name for f in table.schema]
    lowered = {n.lower(): n for n in names}
    if not sort_by:
        iceberg = table.iceberg
        out = []
        for f in iceberg.sort_order().fields:
            if not isinstance(f.transform, IdentityTransform):
                continue  # a transformed sort (bucket, day) cannot be applied column-wise
            name = iceberg.schema().find_column_name(f.source_id)
            if name is not None:
                out.append(f"{name} desc" if f.direction.value == "desc" else name)
        return out
    out = []
    for spec in sort_by:
        parts = spec.strip().rsplit(None, 1)
        column, direction = (
            (parts[0], f" {parts[1].lower()}")
            if len(parts) == 2 and parts[1].lower() in ("asc", "desc")
            else (spec.strip(), "")
        )
        if column.lower() not in lowered:
            raise ConfigError(
                f"cannot sort table {table.ident} by {column!r}: no such column"
                f"{did_you_mean(column, names)}",
                fix=f"sort by one of: {', '.join(names)}",
            )
        out.append(lowered[column.lower()] + (" desc" if direction == " desc" else ""))
    return out


def plan_compaction(
    table: Table,
    *,
    target_file_size: int | None = None,
    sort_by: Sequence[str] = (),
    where: str | None = None,
    min_input_files: int = 2,
) -> CompactionPlan:
    """Group the current snapshot's small data files by partition (see the module doc)."""
    if not isinstance(min_input_files, int) or min_input_files < 1:
        raise ConfigError(
            f"min_input_files must be 1 or more, not {min_input_files!r}",
            fix="use 2 (the default) to rewrite only where files would be merged",
        )
    target = target_size(table, target_file_size)
    order = sort_columns(table, sort_by)
    iceberg = table.iceberg
    plan = CompactionPlan(target_file_size=target, groups=[], sort_by=order)
    if iceberg.current_snapshot() is None:
        return plan
    expr: BooleanExpression = (
        parse_filter(where, iceberg.schema()) if where is not None else AlwaysTrue()
    )
    with mapped_errors(f"table {table.ident}"):
        tasks = in_added_order(iceberg.scan(row_filter=expr, case_sensitive=False)).plan_files()
    limit = int(target * SMALL_FILE_RATIO)
    groups: dict[tuple[int, tuple[Any, ...]], Group] = {}
    for task in tasks:
        data = task.file
        if data.file_size_in_bytes >= limit and not task.delete_files:
            continue
        values = data.partition
        key = (data.spec_id, tuple(values[i] for i in range(len(values))))
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(spec_id=key[0], partition=key[1])
        group.tasks.append(task)
    # Each group's files stay oldest first: the compacted file holds their rows in that order.
    plan.groups = [g for g in groups.values() if len(g.tasks) >= min_input_files]
    return plan
