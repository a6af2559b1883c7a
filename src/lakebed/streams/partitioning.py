"""Dynamic partitioning: the table's hidden partitions, and records that cannot be placed.

A stream's ``partition_by`` items are the catalog's partition transforms (``"country"``,
``"user.country"`` for a nested field, ``"day(ts)"``, ``"hour(ts)"``, ``"bucket(16, id)"``,
``"truncate(3, code)"``); a table the stream creates gets them as its Iceberg partition spec,
so each record's partition is computed from its own values as it is written, and readers prune
by them without knowing the layout. A record whose partition source value is missing (null)
cannot be placed: it goes to the error output with kind ``partition``, as Firehose does with a
record whose partition key cannot be evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from lakebed.catalog.partitioning import parse_transform
from lakebed.errors import ConfigError
from lakebed.streams.records import RecordError


def _column(table: pa.Table, path: str) -> pa.ChunkedArray | None:
    """The values at ``path`` (``a.b.c`` into structs), or None when the table lacks it."""
    head, *rest = path.split(".")
    if head not in table.column_names:
        return None
    values = table.column(head).combine_chunks()
    for name in rest:
        if not pa.types.is_struct(values.type) or values.type.get_field_index(name) < 0:
            return None
        values = pc.struct_field(values, name)
    return pa.chunked_array([values])


class Partitioner:
    """Checks that each row has the values its partition needs."""

    def __init__(self, items: Sequence[str]) -> None:
        self.items = list(items)
        self.columns = [parse_transform(item).column for item in self.items]

    def __bool__(self) -> bool:
        return bool(self.items)

    def check_table(self, existing: Sequence[str], ident: str) -> None:
        """A stream's ``partition_by`` must match the partitioning of the table it writes."""
        wanted = [parse_transform(item) for item in self.items]
        have = [parse_transform(item) for item in existing]
        same = len(wanted) == len(have) and all(
            a.column == b.column and a.transform == b.transform
            for a, b in zip(wanted, have, strict=True)
        )
        if self.items and not same:
            raise ConfigError(
                f"the stream's partition_by {self.items} differs from table {ident}'s "
                f"partitioning {list(existing) or 'none'}",
                fix="drop partition_by from the stream (the table's own partitioning applies) "
                "or deliver into a new table",
            )

    def unplaceable(self, table: pa.Table) -> list[tuple[int, RecordError]]:
        """Rows (by index) whose partition source value is missing or null."""
        bad: dict[int, RecordError] = {}
        for item, column in zip(self.items, self.columns, strict=True):
            values = _column(table, column)
            if values is None:
                reason = f"partition_by {item!r}: the record has no field {column!r}"
                return [(i, RecordError("partition", reason)) for i in range(table.num_rows)]
            if not values.null_count:
                continue
            mask = values.is_null().to_numpy(zero_copy_only=False)
            for index in mask.nonzero()[0].tolist():
                bad.setdefault(
                    index,
                    RecordError("partition", f"partition_by {item!r}: field {column!r} is null"),
                )
        return sorted(bad.items())
