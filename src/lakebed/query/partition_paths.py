"""Partition values of an external table's files, read from the folders below its location.

A crawled table at ``.../clickstream`` with a file ``2026/11/01/events.jsonl`` has partition
columns ``partition_0 = 2026``, ``partition_1 = 11`` and ``partition_2 = 01`` (Glue's names for
plain folders); ``day=2/`` gives ``day = 2``, or ``day_part = 2`` when the data has a column
``day`` too. Each partition column therefore takes its value from one folder level below the
location, and this module finds that level from the column's name and the files' folders:

- a level whose folders are all ``key=value`` with one key belongs to the column named after
  that key (compared as the crawler sanitises names, with ``_part`` suffixes looked through);
- ``partition_<i>`` (again with ``_part`` suffixes looked through) is level ``i``;
- any other name takes the value of a ``key=value`` folder with that key anywhere in the path
  (a table registered by hand, whose files may sit deeper).

The catalog does not keep the order of the partition columns, so levels are never taken from
it. ``__HIVE_DEFAULT_PARTITION__`` and empty values are nulls; values are percent-decoded; a
value that does not parse as its column's type is null (as ``TRY_CAST`` gives), never an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc

from lakebed.query.sources import local_path

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
_PLAIN_LEVEL = re.compile(r"partition_(\d+)")
_NOT_NAME = re.compile(r"[^a-z0-9]+")
_SUFFIX = "_part"


def _norm(name: str) -> str:
    """A name as the crawler's sanitising leaves it, for comparison only."""
    return _NOT_NAME.sub("_", name.lower()).strip("_")


def _base_name(name: str) -> str:
    """``name`` without the ``_part`` suffixes added to avoid clashes."""
    while name.endswith(_SUFFIX) and len(name) > len(_SUFFIX):
        name = name[: -len(_SUFFIX)]
    return name


def split_segment(segment: str) -> tuple[str | None, str | None]:
    """``"day=02"`` → ``("day", "02")``; ``"2026"`` → ``(None, "2026")``; nulls → None."""
    key, sep, value = segment.partition("=")
    if sep and key:
        raw, name = unquote(value), unquote(key)
    else:
        raw, name = unquote(segment), None
    return name, (None if raw in ("", HIVE_NULL) else raw)


def _normalised(uri: str) -> str:
    local = local_path(uri)
    return (local if local is not None else uri).rstrip("/")


def folders_below(uri: str, location: str) -> tuple[str, ...] | None:
    """The folder names between ``location`` and the file ``uri``; None when it is outside."""
    path, root = _normalised(uri), _normalised(location)
    if not root or not path.startswith(root + "/"):
        return None
    return tuple(path[len(root) + 1 :].split("/")[:-1])


@dataclass(frozen=True)
class PartitionLayout:
    """Where each partition column's value comes from, for one table and its files."""

    location: str
    fields: tuple[pa.Field, ...]
    #: Folder level below the location per column; None = found by ``key=value`` name only.
    levels: tuple[int | None, ...]

    def raw_values(self, uri: str) -> list[str | None]:
        """The partition values of one file, as strings (None for null), in column order."""
        below = folders_below(uri, self.location)
        by_key: dict[str, str | None] = {}
        for segment in _normalised(uri).split("/")[:-1]:
            key, value = split_segment(segment)
            if key is not None:
                by_key.setdefault(key, value)
        values: list[str | None] = []
        for field, level in zip(self.fields, self.levels, strict=True):
            if level is not None and below is not None:
                values.append(split_segment(below[level])[1] if level < len(below) else None)
            else:
                values.append(by_key.get(field.name))
        return values

    def columns(self, uris: Sequence[str]) -> list[pa.Array]:
        """One typed array per partition column, with one value per file of ``uris``."""
        rows = [self.raw_values(uri) for uri in uris]
        return [
            try_cast(pa.array([row[i] for row in rows], pa.string()), field.type)
            for i, field in enumerate(self.fields)
        ]


def partition_layout(
    location: str, fields: Sequence[pa.Field], files: Sequence[str]
) -> PartitionLayout:
    """The layout of ``fields`` (the partition columns) over ``files`` below ``location``."""
    folders = [f for f in (folders_below(uri, location) for uri in files) if f is not None]
    depth = max((len(f) for f in folders), default=0)
    level_keys: list[set[str | None]] = []
    for level in range(depth):
        keys = {split_segment(f[level])[0] for f in folders if len(f) > level}
        level_keys.append({None if k is None else _norm(k) for k in keys})
    levels = _assign_levels([f.name for f in fields], level_keys)
    return PartitionLayout(location, tuple(fields), tuple(levels))


def _assign_levels(names: Sequence[str], level_keys: Sequence[set[str | None]]) -> list[int | None]:
    """The folder level of each name; ``a`` is served before ``a_part`` (``a=1/a=2/``)."""
    levels: list[int | None] = [None] * len(names)
    taken: set[int] = set()
    order = sorted(range(len(names)), key=lambda i: (names[i].count(_SUFFIX), names[i]))
    for index in order:
        name = names[index]
        for candidate in dict.fromkeys((name, _base_name(name))):
            match = next(
                (
                    level
                    for level, keys in enumerate(level_keys)
                    if level not in taken and keys == {_norm(candidate)}
                ),
                None,
            )
            if match is not None:
                levels[index] = match
                taken.add(match)
                break
        else:
            plain = _PLAIN_LEVEL.fullmatch(_base_name(name))
            if plain is not None:
                levels[index] = int(plain.group(1))
    return levels


_CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)


def try_cast(array: pa.Array, target: pa.DataType) -> pa.Array:
    """``array`` cast to ``target``; values that do not convert become null.

    A failing cast is retried on halves, so a few bad values among many cost a few casts each.
    """
    if array.type == target:
        return array
    try:
        return pc.cast(array, target)
    except _CAST_ERRORS:
        pass
    if len(array) <= 1:
        return pa.nulls(len(array), target)
    middle = len(array) // 2
    return pa.concat_arrays(
        [try_cast(array.slice(0, middle), target), try_cast(array.slice(middle), target)]
    )


def typed_values(layout: PartitionLayout, uri: str) -> Mapping[str, pa.Scalar]:
    """One file's partition values as Arrow scalars of their columns' types."""
    arrays = layout.columns([uri])
    return {field.name: array[0] for field, array in zip(layout.fields, arrays, strict=True)}
