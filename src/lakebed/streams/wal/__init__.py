"""The write-ahead log behind a stream's HTTP put endpoint and Python producer.

``WriteAheadLog`` appends records durably (fsync before returning their sequence numbers) with
record-id deduplication; ``WalSource`` reads it as a :class:`~lakebed.streams.sources.base.
StreamSource` (partition ``"http"``, positions are sequence numbers); ``HttpSourceConfig`` is the
stream's source configuration (``type: "http"``).
"""

from lakebed.streams.wal.log import DiskFullError, WriteAheadLog
from lakebed.streams.wal.source import PARTITION, HttpSourceConfig, WalSource

__all__ = ["PARTITION", "DiskFullError", "HttpSourceConfig", "WalSource", "WriteAheadLog"]
