"""A seekable, readable stream over one S3 object, by ranged GETs.

Every read is pinned to the ETag seen when the stream was opened (``If-Match``), so a reader
never mixes bytes of two versions: if the object is overwritten meanwhile, the next read fails
with a transient StorageError instead. Part of the S3 backend.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from lakebed.storage.s3_errors import Where, translate


class RangedReader(io.RawIOBase):
    """Raw stream of one object version; wrap in ``io.BufferedReader`` for small reads."""

    def __init__(
        self, client: Any, bucket: str, key: str, size: int, etag: str, where: Callable[[], Where]
    ) -> None:
        super().__init__()
        self._client = client
        self._bucket = bucket
        self._key = key
        self._size = size
        self._etag = etag
        self._where = where
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        target = base + offset
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        self._pos = target
        return target

    def _fetch(self, start: int, end: int) -> bytes:
        """Bytes ``start..end`` inclusive of the pinned version."""
        try:
            response = self._client.get_object(
                Bucket=self._bucket,
                Key=self._key,
                Range=f"bytes={start}-{end}",
                IfMatch=self._etag,
            )
            data: bytes = response["Body"].read()
        except Exception as exc:
            raise translate(exc, self._where()) from exc
        return data

    def readinto(self, buffer: Any) -> int:
        if self.closed:
            raise ValueError("read from a closed stream")
        view = memoryview(buffer).cast("B")
        if self._pos >= self._size or not len(view):
            return 0
        end = min(self._size, self._pos + len(view)) - 1
        data = self._fetch(self._pos, end)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def readall(self) -> bytes:
        if self._pos >= self._size:
            return b""
        data = self._fetch(self._pos, self._size - 1)
        self._pos += len(data)
        return data
