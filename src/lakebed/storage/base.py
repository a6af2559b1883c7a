"""The object store interface: a flat namespace of keys under one root.

Keys are relative to the store's root, use ``/`` separators and never start with ``/``.
A backend module implements :class:`ObjectStore` for one kind of storage (a local folder, an
S3-compatible server); the SDK of that storage is imported only inside its module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow.fs

#: Called with the number of bytes moved since the previous call (uploads in parts may call it
#: from worker threads, so it must be thread-safe; the calls add up to the object size).
Progress = Callable[[int], None]


@dataclass(frozen=True)
class ObjectInfo:
    """What the store knows about one object."""

    key: str
    size: int
    modified: datetime  # timezone-aware, UTC
    content_type: str | None = None
    #: ``sha256:<hex>`` when known (recorded at put time), else None.
    checksum: str | None = None


class ObjectStore(ABC):
    """Put, get, list and delete objects of any kind under a root URL."""

    #: Root URL: ``file:///abs/path`` or ``s3://bucket/prefix`` (no trailing slash).
    url: str

    @abstractmethod
    def put(
        self,
        key: str,
        data: bytes | IO[bytes] | Path,
        *,
        content_type: str | None = None,
        progress: Progress | None = None,
    ) -> ObjectInfo:
        """Store ``data`` at ``key`` atomically (readers see the old object or the new one)."""

    @abstractmethod
    def open(self, key: str) -> IO[bytes]:
        """A readable, seekable binary stream of the object. Raises NotFoundError."""

    @abstractmethod
    def head(self, key: str) -> ObjectInfo:
        """Metadata of one object. Raises NotFoundError."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix``, recursively, sorted by key.

        Listings carry key, size and modified time; ``content_type`` and ``checksum`` are None
        here (most stores do not list them): call :meth:`head` for those.
        """

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove one object. Raises NotFoundError if it does not exist."""

    @abstractmethod
    def arrow_filesystem(self) -> tuple[pyarrow.fs.FileSystem, str]:
        """A pyarrow filesystem over this store and the path of the root within it."""

    # Conveniences built on the primitives; backends may override for speed.

    def get(self, key: str) -> bytes:
        """The whole object as bytes."""
        with self.open(key) as stream:
            return stream.read()

    def download(self, key: str, path: Path, *, progress: Progress | None = None) -> ObjectInfo:
        """Copy an object to a local file."""
        info = self.head(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.open(key) as source, path.open("wb") as sink:
            while chunk := source.read(8 << 20):
                sink.write(chunk)
                if progress:
                    progress(len(chunk))
        return info

    def exists(self, key: str) -> bool:
        from lakebed.errors import NotFoundError

        try:
            self.head(key)
        except NotFoundError:
            return False
        return True

    def uri(self, key: str) -> str:
        """The full URL of ``key`` (what pyiceberg and other tools are given)."""
        return f"{self.url}/{key}" if key else self.url
