"""The object store on a local folder: the embedded default.

Objects are plain files at ``<root>/<key>``, so other tools can read the lake directly. A put
writes a hidden temporary file next to the target and renames it into place, so readers see
the old object or the new one, never a part.

Content type and ``sha256`` checksum are computed while writing and kept in a sidecar index,
``<root>/.lakebed-meta/<xx>/<sha256 of key>.json``, which also records the size and
modification time of the data file it describes: if a file is replaced by another tool, the
stale entry no longer matches and is ignored (the checksum then reads as None and the content
type is guessed from the key). Sidecar files are used rather than extended attributes because
xattrs are lost by ``cp``, archives and several filesystems. ``list`` never shows the index or
temporary files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from lakebed.errors import NotFoundError, StorageError
from lakebed.storage import content_types
from lakebed.storage.base import ObjectInfo, ObjectStore, Progress
from lakebed.storage.keys import RESERVED_PREFIX, validate_key, validate_prefix
from lakebed.storage.sources import chunks_of

if TYPE_CHECKING:
    import pyarrow.fs

META_DIR = RESERVED_PREFIX + "meta"
_TEMP_PREFIX = RESERVED_PREFIX + "tmp-"


def _not_found(key: str, root: Path) -> NotFoundError:
    return NotFoundError(
        f"object {key!r} does not exist in {root}",
        fix="check the key (list the store to see what is there)",
    )


class LocalStore(ObjectStore):
    """Objects as files under one folder (created on the first put)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().resolve()
        if self.root.exists() and not self.root.is_dir():
            raise StorageError(
                f"storage root {self.root} is a file, not a folder",
                fix="point the lake at a folder (or a path that does not exist yet)",
            )
        # Not percent-encoded, like pyiceberg and pyarrow expect of a local location.
        self.url = f"file://{self.root}"

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    # -- paths -----------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def _meta_path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return self.root / META_DIR / digest[:2] / f"{digest}.json"

    def _read_meta(self, key: str, stat: os.stat_result) -> dict[str, Any]:
        try:
            meta = json.loads(self._meta_path(key).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        fresh = (
            isinstance(meta, dict)
            and meta.get("key") == key
            and meta.get("size") == stat.st_size
            and meta.get("mtime_ns") == stat.st_mtime_ns
        )
        return meta if fresh else {}

    def _info(self, key: str, path: Path) -> ObjectInfo:
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise _not_found(key, self.root) from None
        if not path.is_file():
            raise _not_found(key, self.root)
        meta = self._read_meta(key, stat)
        content_type = meta.get("content_type") or content_types.from_key(key)
        return ObjectInfo(
            key=key,
            size=stat.st_size,
            modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
            content_type=content_type or content_types.DEFAULT,
            checksum=meta.get("checksum"),
        )

    # -- writing ---------------------------------------------------------------------------

    def _make_parent(self, key: str, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise StorageError(
                f"cannot store {key!r} in {self.root}: a part of its path is an object",
                fix="a local store cannot hold both 'a' and 'a/b'; rename one of them",
            ) from None
        if path.is_dir():
            raise StorageError(
                f"cannot store {key!r} in {self.root}: objects exist under {key + '/'!r}",
                fix="a local store cannot hold both 'a' and 'a/b'; rename one of them",
            )

    def _open_temp(self, key: str, path: Path) -> tuple[Path, IO[bytes]]:
        # A concurrent delete may prune the folder between mkdir and open; try again then.
        for attempt in range(3):
            self._make_parent(key, path)
            temp = path.with_name(f"{_TEMP_PREFIX}{secrets.token_hex(8)}")
            try:
                return temp, temp.open("xb")
            except FileNotFoundError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def put(
        self,
        key: str,
        data: bytes | IO[bytes] | Path,
        *,
        content_type: str | None = None,
        progress: Progress | None = None,
    ) -> ObjectInfo:
        path = self._path(key)
        temp, sink = self._open_temp(key, path)
        digest = hashlib.sha256()
        head = b""
        try:
            with sink, chunks_of(data) as chunks:
                for chunk in chunks:
                    if len(head) < 4096:
                        head += chunk[: 4096 - len(head)]
                    digest.update(chunk)
                    sink.write(chunk)
                    if progress:
                        progress(len(chunk))
                sink.flush()
                os.fsync(sink.fileno())
            stat = temp.stat()
            meta = {
                "key": key,
                "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns,
                "content_type": content_type or content_types.guess(key, head),
                "checksum": f"sha256:{digest.hexdigest()}",
            }
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self._write_meta(key, meta)
        return self._info(key, path)

    def _write_meta(self, key: str, meta: dict[str, Any]) -> None:
        target = self._meta_path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f"{_TEMP_PREFIX}{secrets.token_hex(8)}")
        temp.write_text(json.dumps(meta), "utf-8")
        os.replace(temp, target)

    # -- reading ---------------------------------------------------------------------------

    def open(self, key: str) -> IO[bytes]:
        path = self._path(key)
        try:
            if path.is_dir():
                raise _not_found(key, self.root)
            return path.open("rb")
        except (FileNotFoundError, NotADirectoryError):
            raise _not_found(key, self.root) from None

    def head(self, key: str) -> ObjectInfo:
        return self._info(key, self._path(key))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        validate_prefix(prefix)
        # Only walk the folder the prefix names; the rest of the prefix filters file names.
        folder, _, _ = prefix.rpartition("/")
        start = self.root.joinpath(*folder.split("/")) if folder else self.root
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [name for name in dirnames if not name.startswith(RESERVED_PREFIX)]
            relative = Path(dirpath).relative_to(self.root).as_posix()
            base = "" if relative == "." else relative + "/"
            for name in filenames:
                key = base + name
                if not name.startswith(RESERVED_PREFIX) and key.startswith(prefix):
                    keys.append(key)
        for key in sorted(keys):
            with contextlib.suppress(NotFoundError):  # deleted while listing
                yield self._listed(key)

    def _listed(self, key: str) -> ObjectInfo:
        try:
            stat = self.root.joinpath(key).stat()
        except FileNotFoundError:
            raise _not_found(key, self.root) from None
        return ObjectInfo(
            key=key, size=stat.st_size, modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC)
        )

    # -- deleting --------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        path = self._path(key)
        if path.is_dir():
            raise _not_found(key, self.root)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            raise _not_found(key, self.root) from None
        self._meta_path(key).unlink(missing_ok=True)
        # Prune folders left empty, so the tree mirrors the keys that exist.
        parent = path.parent
        while parent != self.root:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def arrow_filesystem(self) -> tuple[pyarrow.fs.FileSystem, str]:
        from lakebed.storage.local_arrow import local_filesystem

        return local_filesystem(), str(self.root)
