"""Which files make which table: pure grouping over (key, format, schema) facts.

Each folder directly under the crawled prefix is a table candidate. Inside a candidate, all
files become one table, partitioned by their sub-folders, when they share a format (and format
options) and their schemas are compatible (every pair of distinct schemas overlaps in column
names at least by the similarity threshold); otherwise each sub-folder is tried as a table of
its own, recursively, and loose files are clustered by format and schema. Files directly under
the prefix are clustered the same way and named after the prefix (one cluster) or the stem of
their first file.

Schemas are handled by fingerprint, so ten thousand files with one schema cost one comparison.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from lakebed.crawl.partitions import PartitionColumn, partition_columns, table_name
from lakebed.crawl.schema_merge import merge_schemas, name_overlap

COMPRESSION_SUFFIXES = (".gz", ".gzip", ".bz2", ".zst", ".zstd", ".xz", ".lz4", ".snappy")


@dataclass(frozen=True)
class FileFacts:
    """What inspection learnt about one tabular file."""

    key: str  # the full key in the store
    rel: tuple[str, ...]  # path parts below the crawled prefix, the file name last
    format: str
    fingerprint: str
    options: tuple[tuple[str, Any], ...] = ()  # format options, e.g. (("header", False),)

    @property
    def group_key(self) -> tuple[str, tuple[tuple[str, Any], ...]]:
        return (self.format, self.options)


@dataclass
class PlannedTable:
    """A table the files call for: its name, folder, files, partitions and merged schema."""

    name: str
    folder: tuple[str, ...]  # below the crawled prefix; () for files at the top
    format: str
    options: dict[str, Any]
    files: list[FileFacts]
    partition_columns: list[PartitionColumn]
    schema: pa.Schema  # data columns only
    fingerprints: set[str] = field(default_factory=set)

    def partition_folder(self, facts: FileFacts) -> tuple[str, ...]:
        """The folders between the table's folder and the file (its partition path)."""
        return facts.rel[len(self.folder) : -1]


def file_stem(file_name: str) -> str:
    """``events.2024.jsonl.gz`` → ``events.2024``: drop compression, then one extension."""
    name = file_name
    for suffix in COMPRESSION_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    stem, dot, _ = name.rpartition(".")
    return stem if dot and stem else name


class _Compat:
    """Pairwise schema compatibility with a cache keyed by fingerprints."""

    def __init__(self, schemas: Mapping[str, pa.Schema], threshold: float) -> None:
        self.schemas = schemas
        self.threshold = threshold
        self._cache: dict[tuple[str, str], bool] = {}

    def pair(self, a: str, b: str) -> bool:
        if a == b:
            return True
        key = (a, b) if a < b else (b, a)
        if key not in self._cache:
            overlap = name_overlap(self.schemas[a], self.schemas[b])
            self._cache[key] = overlap >= self.threshold
        return self._cache[key]

    def fits(self, fingerprint: str, group: set[str]) -> bool:
        return fingerprint in group or all(self.pair(fingerprint, g) for g in group)

    def all(self, fingerprints: set[str]) -> bool:
        items = sorted(fingerprints)
        return all(self.pair(a, b) for i, a in enumerate(items) for b in items[i + 1 :])


def _cluster(files: Sequence[FileFacts], compat: _Compat) -> list[list[FileFacts]]:
    """Greedy clusters of files with one format and pairwise-compatible schemas."""
    clusters: list[tuple[tuple[object, ...], set[str], list[FileFacts]]] = []
    for facts in sorted(files, key=lambda f: f.key):
        for group_key, prints, members in clusters:
            if group_key == facts.group_key and compat.fits(facts.fingerprint, prints):
                prints.add(facts.fingerprint)
                members.append(facts)
                break
        else:
            clusters.append((facts.group_key, {facts.fingerprint}, [facts]))
    return [members for _, _, members in clusters]


def _make_table(
    name: str, folder: tuple[str, ...], files: list[FileFacts], schemas: Mapping[str, pa.Schema]
) -> PlannedTable:
    prints = {f.fingerprint for f in files}
    schema = merge_schemas(schemas[p] for p in sorted(prints))
    depth = len(folder)
    part_paths = {f.rel[depth:-1] for f in files}
    columns = partition_columns(sorted(part_paths), reserved=schema.names)
    first = files[0]
    return PlannedTable(
        name=name,
        folder=folder,
        format=first.format,
        options=dict(first.options),
        files=sorted(files, key=lambda f: f.key),
        partition_columns=columns,
        schema=schema,
        fingerprints=prints,
    )


def _plan_loose(
    base: str,
    folder: tuple[str, ...],
    files: Sequence[FileFacts],
    compat: _Compat,
    *,
    alone: bool,
    top: bool = False,
) -> list[PlannedTable]:
    """Tables for files sitting directly in ``folder``: one per compatible cluster.

    A single cluster in a folder with no sub-folders takes the folder's name; other clusters are
    named after their first file (prefixed with the folder's name below the top level).
    """
    clusters = _cluster(files, compat)
    tables = []
    for members in clusters:
        stem = file_stem(members[0].rel[-1])
        if alone and len(clusters) == 1 and base:
            name = base
        else:
            name = stem if top or not base else f"{base}_{stem}"
        tables.append(_make_table(name, folder, members, compat.schemas))
    return tables


def _plan_folder(
    name: str, folder: tuple[str, ...], files: Sequence[FileFacts], compat: _Compat
) -> list[PlannedTable]:
    group_keys = {f.group_key for f in files}
    prints = {f.fingerprint for f in files}
    if len(group_keys) == 1 and compat.all(prints):
        return [_make_table(name, folder, list(files), compat.schemas)]
    depth = len(folder)
    loose = [f for f in files if len(f.rel) == depth + 1]
    nested: dict[str, list[FileFacts]] = defaultdict(list)
    for facts in files:
        if len(facts.rel) > depth + 1:
            nested[facts.rel[depth]].append(facts)
    tables = _plan_loose(name, folder, loose, compat, alone=not nested)
    for sub, members in sorted(nested.items()):
        tables.extend(_plan_folder(f"{name}_{sub}", (*folder, sub), members, compat))
    return tables


def plan_tables(
    files: Sequence[FileFacts],
    schemas: Mapping[str, pa.Schema],
    *,
    prefix_name: str = "",
    threshold: float = 0.7,
) -> list[PlannedTable]:
    """Group ``files`` into tables; names are sanitised and unique (``_2``, ``_3`` on clashes).

    ``schemas`` maps every fingerprint in ``files`` to its schema; ``prefix_name`` is the last
    segment of the crawled prefix, the name of a table made of the files directly under it.
    """
    compat = _Compat(schemas, threshold)
    top = [f for f in files if len(f.rel) == 1]
    nested: dict[str, list[FileFacts]] = defaultdict(list)
    for facts in files:
        if len(facts.rel) > 1:
            nested[facts.rel[0]].append(facts)
    tables = _plan_loose(prefix_name, (), top, compat, alone=not nested, top=True)
    for folder, members in sorted(nested.items()):
        tables.extend(_plan_folder(folder, (folder,), members, compat))
    taken: set[str] = set()
    for table in tables:
        base = name = table_name(table.name)
        counter = 1
        while name in taken:
            counter += 1
            name = f"{base}_{counter}"
        taken.add(name)
        table.name = name
    return tables
