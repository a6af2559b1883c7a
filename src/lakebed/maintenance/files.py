"""Which files a table references, which files exist under its location, and deleting files.

Shared by snapshot expiry and orphan removal. Every path is compared as a :data:`FileKey`, the
``(scheme, path)`` pair pyiceberg's own FileIO resolves a URI to (``file:///x`` and ``/x`` are
the same file; ``s3a://b/k`` is ``s3://b/k``), so two spellings of one file never look like two
files. Manifests are shared by many snapshots; each is read once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeAlias

from pyarrow import fs as pafs
from pyiceberg.io import FileIO
from pyiceberg.io.pyarrow import PyArrowFileIO
from pyiceberg.manifest import ManifestFile

if TYPE_CHECKING:
    from pyiceberg.table import Table as IcebergTable
    from pyiceberg.table.metadata import TableMetadata
    from pyiceberg.table.snapshots import Snapshot

#: A file as ``(scheme, path)``, the way the table's FileIO locates it.
FileKey: TypeAlias = tuple[str, str]

BOOKMARK_PREFIX = "lakebed.bookmark."
#: The file a Hadoop-style catalog reads to find the current metadata file.
VERSION_HINT = "version-hint.text"
_SCHEME_ALIASES = {"s3a": "s3", "s3n": "s3", "gcs": "gs"}
_THREADS = 8


def file_key(uri: str) -> FileKey:
    """The comparable form of a file URI or path."""
    scheme, _, path = PyArrowFileIO.parse_location(uri)
    return _SCHEME_ALIASES.get(scheme, scheme), path.rstrip("/")


@dataclass
class FileSet:
    """Files of a table by kind, each kind a mapping from key to (URI, size in bytes)."""

    manifest_lists: dict[FileKey, tuple[str, int]] = field(default_factory=dict)
    manifests: dict[FileKey, tuple[str, int]] = field(default_factory=dict)
    data_files: dict[FileKey, tuple[str, int]] = field(default_factory=dict)
    other: dict[FileKey, tuple[str, int]] = field(default_factory=dict)

    def keys(self) -> set[FileKey]:
        """Every file of every kind."""
        return {*self.manifest_lists, *self.manifests, *self.data_files, *self.other}


def _add(target: dict[FileKey, tuple[str, int]], uri: str, size: int = 0) -> None:
    target.setdefault(file_key(uri), (uri, size))


def snapshot_files(io: FileIO, snapshots: Iterable[Snapshot], *, live_only: bool = True) -> FileSet:
    """Manifest lists, manifests and data/delete files of ``snapshots`` (one read per manifest
    list and per distinct manifest, in parallel). ``live_only`` leaves out files the manifests
    list as deleted (no reader of these snapshots opens them)."""
    found = FileSet()
    snaps = list(snapshots)
    manifests: dict[str, ManifestFile] = {}
    with ThreadPoolExecutor(_THREADS) as pool:
        for snap, listed in zip(snaps, pool.map(lambda s: s.manifests(io), snaps), strict=True):
            if snap.manifest_list:
                _add(found.manifest_lists, snap.manifest_list)
            for manifest in listed:
                manifests.setdefault(manifest.manifest_path, manifest)
        for manifest in manifests.values():
            _add(found.manifests, manifest.manifest_path, manifest.manifest_length)
        reads = pool.map(
            lambda m: m.fetch_manifest_entry(io, discard_deleted=live_only), manifests.values()
        )
        for entries in reads:
            for entry in entries:
                data = entry.data_file
                _add(found.data_files, data.file_path, data.file_size_in_bytes)
    return found


def bookmark_files(properties: Mapping[str, str]) -> list[str]:
    """Files named by lakebed bookmarks among ``properties`` (``lakebed.bookmark.*`` keys whose
    JSON value has a ``"file"`` or ``"files"`` entry)."""
    out: list[str] = []
    for key, value in properties.items():
        if not key.startswith(BOOKMARK_PREFIX):
            continue
        try:
            parsed = json.loads(value)
        except (TypeError, ValueError):
            continue
        if not isinstance(parsed, dict):
            continue
        named = parsed.get("file")
        if isinstance(named, str) and named:
            out.append(named)
        for item in parsed.get("files") or []:
            if isinstance(item, str) and item:
                out.append(item)
    return out


def metadata_files(table: IcebergTable, metadata: TableMetadata) -> dict[FileKey, tuple[str, int]]:
    """Metadata JSON files (current and logged, and the version hint other catalogs keep),
    statistics and bookmark files."""
    out: dict[FileKey, tuple[str, int]] = {}
    _add(out, table.metadata_location)
    _add(out, f"{metadata.location.rstrip('/')}/metadata/{VERSION_HINT}")
    for entry in metadata.metadata_log:
        _add(out, entry.metadata_file)
    for stats in metadata.statistics:
        _add(out, stats.statistics_path, stats.file_size_in_bytes)
    for pstats in metadata.partition_statistics:
        _add(out, pstats.statistics_path, pstats.file_size_in_bytes)
    for uri in bookmark_files(metadata.properties):
        _add(out, uri)
    for snap in metadata.snapshots:
        if snap.summary is not None:
            for uri in bookmark_files(snap.summary.additional_properties):
                _add(out, uri)
    return out


def referenced_files(table: IcebergTable) -> FileSet:
    """Every file the table's current metadata can reach: metadata files, statistics,
    bookmarks, and the manifest lists, manifests and data files of every snapshot."""
    metadata = table.metadata
    found = snapshot_files(table.io, metadata.snapshots)
    found.other = metadata_files(table, metadata)
    return found


@dataclass(frozen=True)
class ListedFile:
    """A file found under a table's location."""

    uri: str
    size: int
    modified: datetime


def _arrow_fs(io: FileIO, scheme: str, netloc: str) -> pafs.FileSystem:
    arrow_io = io if isinstance(io, PyArrowFileIO) else PyArrowFileIO(io.properties)
    return arrow_io.fs_by_scheme(scheme, netloc)


def list_files(io: FileIO, location: str) -> Iterator[ListedFile]:
    """Every file under ``location`` (recursively), with size and modification time."""
    scheme, netloc, path = PyArrowFileIO.parse_location(location)
    filesystem = _arrow_fs(io, scheme, netloc)
    selector = pafs.FileSelector(path.rstrip("/"), allow_not_found=True, recursive=True)
    for info in filesystem.get_file_info(selector):
        if info.type != pafs.FileType.File:
            continue
        modified = info.mtime or datetime.now(UTC)
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=UTC)
        uri = f"{scheme}://{info.path}" if scheme != "file" else f"file://{info.path}"
        yield ListedFile(uri=uri, size=info.size or 0, modified=modified)


def delete_files(io: FileIO, uris: Iterable[str]) -> list[str]:
    """Delete ``uris`` in parallel; returns those deleted (a file already gone counts)."""

    def one(uri: str) -> str | None:
        try:
            io.delete(uri)
        except FileNotFoundError:
            return uri
        except OSError:
            return None
        return uri

    with ThreadPoolExecutor(_THREADS) as pool:
        return [uri for uri in pool.map(one, list(uris)) if uri is not None]
