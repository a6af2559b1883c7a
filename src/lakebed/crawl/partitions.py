"""Partition columns from folder paths, as Hive and Glue name them. Pure functions.

``date=2024-01-05/country=DE/part.csv`` gives columns ``date`` (a date) and ``country`` (a
string); plain folders (``2024/01/x.json``) give ``partition_0``, ``partition_1``, ... Column
types come from the values: all integers → int64, all ``YYYY-MM-DD`` dates → date32, else
string. ``__HIVE_DEFAULT_PARTITION__`` and empty values are nulls.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import unquote

import pyarrow as pa

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
_INT = re.compile(r"^[+-]?\d{1,18}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NAME_BAD = re.compile(r"[^a-z0-9_]+")

#: Arrow type name (as stored in the catalog) → Arrow type.
ARROW_TYPES: dict[str, pa.DataType] = {
    "int64": pa.int64(),
    "date32": pa.date32(),
    "string": pa.string(),
}


def sanitize_name(name: str, *, fallback: str = "table") -> str:
    """A catalog-safe name: lowercase ``[a-z0-9_]``, not starting with a digit."""
    clean = _NAME_BAD.sub("_", name.lower()).strip("_")
    clean = re.sub(r"_+", "_", clean)
    if not clean:
        return fallback
    return f"_{clean}" if clean[0].isdigit() else clean


def table_name(name: str) -> str:
    """A catalog-safe table name that never starts with ``_`` (names that do are lakebed's
    own, like ``_quarantine``): a leading digit gets ``t_`` in front."""
    clean = sanitize_name(name).lstrip("_")
    return f"t_{clean}" if clean[:1].isdigit() else clean or "table"


def split_segment(segment: str) -> tuple[str | None, str]:
    """``"date=2024-01-01"`` → ``("date", "2024-01-01")``; a plain name → ``(None, name)``."""
    key, sep, value = segment.partition("=")
    if sep and key:
        return unquote(key), unquote(value)
    return None, unquote(segment)


def _is_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def infer_type(values: Sequence[str | None]) -> str:
    """``int64`` when every value is an integer, ``date32`` when every one is a date, else
    ``string`` (nulls ignored; all null → string)."""
    present = [v for v in values if v is not None]
    if not present:
        return "string"
    if all(_INT.match(v) for v in present):
        return "int64"
    if all(_is_date(v) for v in present):
        return "date32"
    return "string"


def _null_if_default(value: str) -> str | None:
    return None if value in ("", HIVE_NULL) else value


@dataclass(frozen=True)
class PartitionColumn:
    """One partition column: its name, Arrow type name, and the folder depth it comes from."""

    name: str
    type: str  # a key of ARROW_TYPES
    level: int

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]


def partition_columns(
    folders: Sequence[Sequence[str]], *, reserved: Sequence[str] = ()
) -> list[PartitionColumn]:
    """The partition columns of a table whose files sit in ``folders`` (paths below the table).

    A level whose segments are all ``key=value`` with one key is named after the key; any other
    level is ``partition_<level>``. Names that clash with ``reserved`` (the data columns) or with
    each other get a ``_part`` suffix.
    """
    depth = max((len(f) for f in folders), default=0)
    columns: list[PartitionColumn] = []
    taken = {r.lower() for r in reserved}
    for level in range(depth):
        segments = {f[level] for f in folders if len(f) > level}
        keys = {split_segment(s)[0] for s in segments}
        name = f"partition_{level}"
        if len(keys) == 1 and None not in keys:
            name = sanitize_name(next(iter(keys)) or "", fallback=name)
        while name in taken:
            name = f"{name}_part"
        taken.add(name)
        values = [_null_if_default(split_segment(s)[1]) for s in segments]
        columns.append(PartitionColumn(name, infer_type(values), level))
    return columns


def convert_value(raw: str | None, type_name: str) -> Any:
    """A partition value as a Python value of its column type (None for nulls)."""
    if raw is None:
        return None
    if type_name == "int64":
        return int(raw)
    if type_name == "date32":
        return date.fromisoformat(raw)
    return raw


def partition_values(folder: Sequence[str], columns: Sequence[PartitionColumn]) -> dict[str, Any]:
    """The values one file's folder path gives the partition columns (None where too shallow)."""
    values: dict[str, Any] = {}
    for column in columns:
        raw = None
        if column.level < len(folder):
            raw = _null_if_default(split_segment(folder[column.level])[1])
        values[column.name] = convert_value(raw, column.type)
    return values
