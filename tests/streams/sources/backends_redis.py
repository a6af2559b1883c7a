"""Redis Streams as a backend of the shared source behaviour suite (tests/streams/sources)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from lakebed.streams.sources.base import StreamSource
from lakebed.streams.sources.redis import RedisSourceConfig


class RedisBackend:
    """One fresh stream key on a running Redis; ``produce`` appends to it with XADD."""

    partitions = 1

    def __init__(self, url: str) -> None:
        self.url = url
        self.stream = f"behaviour-{uuid.uuid4().hex[:12]}"
        self.client = redis.Redis.from_url(url)
        self._state = tempfile.TemporaryDirectory(prefix="lakebed-redis-source-")

    def produce(self, values: list[bytes], *, key: bytes | None = None) -> None:
        """Append one entry per value (with the ``key`` field when given), in order."""
        with self.client.pipeline(transaction=False) as pipe:
            for value in values:
                fields = {b"value": value} if key is None else {b"value": value, b"key": key}
                pipe.xadd(self.stream, fields)  # type: ignore[arg-type]
            pipe.execute()

    def source(self) -> StreamSource:
        """A new, unopened source over this stream, reading from its first entry."""
        config = RedisSourceConfig(url=self.url, streams=[self.stream], start="earliest")
        return config.open_source("behaviour", Path(self._state.name))

    def close(self) -> None:
        self.client.delete(self.stream)
        self.client.close()
        self._state.cleanup()


@contextmanager
def redis_backend(redis_server_url: str) -> Iterator[RedisBackend]:
    """A :class:`RedisBackend` on the server at ``redis_server_url``, closed afterwards."""
    backend = RedisBackend(redis_server_url)
    try:
        yield backend
    finally:
        backend.close()
