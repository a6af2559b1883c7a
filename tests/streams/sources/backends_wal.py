"""The write-ahead log as a backend of the shared source behaviour suite: records go in through
:class:`WriteAheadLog` (what the HTTP endpoints and the Python producer do), come out through
:class:`WalSource`. One partition, ``"http"``; positions are sequence numbers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from lakebed.streams.sources.base import StreamSource
from lakebed.streams.wal import PARTITION, HttpSourceConfig, WriteAheadLog


class WalBackend:
    """Produces into a stream's write-ahead log and opens readers on it."""

    kind = "http"
    partitions = 1
    partition_names: ClassVar[list[str]] = [PARTITION]

    def __init__(self, state_dir: Path) -> None:
        self.config = HttpSourceConfig(segment_bytes=4096, dedupe_window_s=0)
        self.state_dir = state_dir
        self._log: WriteAheadLog | None = None
        self._sources: list[StreamSource] = []

    def produce(self, values: list[bytes], *, key: bytes | None = None) -> None:
        """Append ``values`` durably (``key`` is ignored: the log has one partition)."""
        if self._log is None:
            self._log = self.config.open_log(self.state_dir)
        self._log.append(list(values))

    def source(self) -> StreamSource:
        """A new, unopened reader of the log."""
        source = self.config.open_source("behaviour", self.state_dir)
        self._sources.append(source)
        return source

    def close(self) -> None:
        for source in self._sources:
            source.close()
        if self._log is not None:
            self._log.close()
            self._log = None


@contextmanager
def wal_backend(tmp_path: Path) -> Iterator[WalBackend]:
    """A write-ahead-log backend in ``tmp_path``, closed on exit."""
    backend = WalBackend(tmp_path / "wal-stream")
    try:
        yield backend
    finally:
        backend.close()
