"""Partition and sort specifications written as short strings.

``partition_by`` items: ``"col"`` or ``"identity(col)"``, ``"year(ts)"``, ``"month(ts)"``,
``"day(ts)"``, ``"hour(ts)"``, ``"bucket(16, id)"``, ``"truncate(4, name)"`` (Spark's plural
``years``/``months``/``days``/``hours`` are accepted too). ``sort_by`` items: a column or a
transform, then optionally ``asc``/``desc`` and ``nulls first``/``nulls last``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table.sorting import NullOrder, SortDirection, SortField, SortOrder
from pyiceberg.transforms import (
    BucketTransform,
    DayTransform,
    HourTransform,
    IdentityTransform,
    MonthTransform,
    Transform,
    TruncateTransform,
    YearTransform,
)

from lakebed.catalog.naming import did_you_mean
from lakebed.errors import ConfigError

_CALL = re.compile(r"(?P<fn>[A-Za-z_]+)\s*\(\s*(?:(?P<n>\d+)\s*,\s*)?(?P<col>[^\s(),]+)\s*\)")
_BARE = re.compile(r"[^\s(),]+")
_SORT = re.compile(
    r"(?P<expr>.+?)(?:\s+(?P<dir>asc|desc))?(?:\s+nulls\s+(?P<nulls>first|last))?",
    re.IGNORECASE,
)
_TIME = {
    "year": YearTransform,
    "month": MonthTransform,
    "day": DayTransform,
    "hour": HourTransform,
}
_FIRST_PARTITION_FIELD_ID = 1000
_HELP = (
    "use 'col', 'day(ts)', 'month(ts)', 'year(ts)', 'hour(ts)', 'bucket(16, id)' "
    "or 'truncate(4, name)'"
)


@dataclass(frozen=True)
class TransformSpec:
    """One parsed item: the transform applied to a source column."""

    column: str
    transform: Transform[Any, Any]
    text: str

    @property
    def field_name(self) -> str:
        """The partition field's name, as Spark and Trino name it (``ts_day``, ``id_bucket``)."""
        if isinstance(self.transform, IdentityTransform):
            return self.column
        if isinstance(self.transform, BucketTransform):
            return f"{self.column}_bucket"
        if isinstance(self.transform, TruncateTransform):
            return f"{self.column}_trunc"
        return f"{self.column}_{_transform_word(self.transform)}"


def _transform_word(transform: Transform[Any, Any]) -> str:
    for word, cls in _TIME.items():
        if isinstance(transform, cls):
            return word
    return str(transform)


def parse_transform(text: str, what: str = "partition") -> TransformSpec:
    """Parse ``"day(ts)"``-style text; ConfigError names text that is not a transform."""
    stripped = text.strip() if isinstance(text, str) else ""
    if _BARE.fullmatch(stripped):
        return TransformSpec(stripped, IdentityTransform(), text)
    match = _CALL.fullmatch(stripped)
    if not match:
        raise ConfigError(f"invalid {what} spec {text!r}", fix=_HELP)
    fn, n, column = match["fn"].lower(), match["n"], match["col"]
    fn = fn[:-1] if fn.endswith("s") and fn[:-1] in _TIME else fn
    transform: Transform[Any, Any]
    if fn in _TIME and n is None:
        transform = _TIME[fn]()
    elif fn == "identity" and n is None:
        transform = IdentityTransform()
    elif fn == "bucket" and n is not None and int(n) > 0:
        transform = BucketTransform(num_buckets=int(n))
    elif fn == "truncate" and n is not None and int(n) > 0:
        transform = TruncateTransform(width=int(n))
    else:
        raise ConfigError(f"invalid {what} spec {text!r}", fix=_HELP)
    return TransformSpec(column, transform, text)


def _source_id(schema: Schema, item: TransformSpec, what: str) -> int:
    try:
        source = schema.find_field(item.column)
    except ValueError:
        names = [f.name for f in schema.fields]
        raise ConfigError(
            f"{what} spec {item.text!r} names column {item.column!r}, which the table does not "
            f"have{did_you_mean(item.column, names)}",
            fix=f"use one of: {', '.join(names)}",
        ) from None
    if not item.transform.can_transform(source.field_type):
        raise ConfigError(
            f"{what} spec {item.text!r} cannot apply to column {item.column!r} of type "
            f"{source.field_type}",
            fix="time transforms need a date or timestamp column; truncate needs a string, "
            "number or binary column",
        )
    return source.field_id


def build_partition_spec(schema: Schema, items: Sequence[str]) -> PartitionSpec:
    """The Iceberg partition spec for ``items`` over ``schema`` (which must have field ids)."""
    if isinstance(items, str):
        items = [items]
    fields: list[PartitionField] = []
    names: set[str] = set()
    for offset, text in enumerate(items):
        item = parse_transform(text)
        source_id = _source_id(schema, item, "partition")
        if item.field_name in names:
            raise ConfigError(f"partition spec {text!r} repeats an earlier one", fix="drop it")
        names.add(item.field_name)
        fields.append(
            PartitionField(
                source_id=source_id,
                field_id=_FIRST_PARTITION_FIELD_ID + offset,
                transform=item.transform,
                name=item.field_name,
            )
        )
    return PartitionSpec(*fields)


def describe_transform(column: str, transform: Transform[Any, Any]) -> str:
    """The string form of one transform: ``"ts"``, ``"day(ts)"``, ``"bucket(16, id)"``."""
    if isinstance(transform, IdentityTransform):
        return column
    if isinstance(transform, BucketTransform):
        return f"bucket({transform.num_buckets}, {column})"
    if isinstance(transform, TruncateTransform):
        return f"truncate({transform.width}, {column})"
    return f"{_transform_word(transform)}({column})"


def describe_partition_spec(spec: PartitionSpec, schema: Schema) -> list[str]:
    """The ``partition_by`` strings of an Iceberg partition spec."""
    return [
        describe_transform(schema.find_column_name(f.source_id) or "?", f.transform)
        for f in spec.fields
    ]


def build_sort_order(schema: Schema, items: Sequence[str]) -> SortOrder:
    """The Iceberg sort order for ``sort_by`` items such as ``"ts desc nulls last"``."""
    if isinstance(items, str):
        items = [items]
    fields: list[SortField] = []
    for text in items:
        match = _SORT.fullmatch(text.strip()) if isinstance(text, str) else None
        if not match:
            raise ConfigError(f"invalid sort spec {text!r}", fix="use e.g. 'ts' or 'ts desc'")
        item = parse_transform(match["expr"], "sort")
        item = TransformSpec(item.column, item.transform, text)
        descending = (match["dir"] or "asc").lower() == "desc"
        nulls = (match["nulls"] or ("last" if descending else "first")).lower()
        fields.append(
            SortField(
                source_id=_source_id(schema, item, "sort"),
                transform=item.transform,
                direction=SortDirection.DESC if descending else SortDirection.ASC,
                null_order=NullOrder.NULLS_FIRST if nulls == "first" else NullOrder.NULLS_LAST,
            )
        )
    return SortOrder(*fields)


def describe_sort_order(order: SortOrder, schema: Schema) -> list[str]:
    """The ``sort_by`` strings of an Iceberg sort order."""
    out = []
    for f in order.fields:
        text = describe_transform(schema.find_column_name(f.source_id) or "?", f.transform)
        if f.direction == SortDirection.DESC:
            text += " desc"
        out.append(text)
    return out
