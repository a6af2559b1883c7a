"""Redis Streams as a stream source.

Each configured stream key is one partition; a record's position is its entry id (``"ms-seq"``,
a string). The source reads with ``XREAD`` from the entry after the position it was opened at,
so the lake's committed positions, not Redis, decide where a restarted stream resumes.

What an entry becomes (``XADD key * value <bytes> [key <bytes>] [id <text>]``):

- ``value`` field: the record's bytes (JSON, Avro, Protobuf ...), handed to the decoder as is.
  An entry without a ``value`` field becomes a JSON object of all its fields (UTF-8 text), so
  plain field/value entries can be delivered with ``format="json"``.
- ``key`` field (optional): :attr:`StreamRecord.key`.
- ``id`` field (optional): :attr:`StreamRecord.record_id`, a producer-chosen id.
- The entry id's milliseconds: :attr:`StreamRecord.timestamp_ms`.

With ``group`` set, :meth:`RedisSource.acknowledge` moves that consumer group's last-delivered id
(``XGROUP SETID ... ENTRIESREAD``) to the committed position, so ``XINFO GROUPS`` shows the
stream's progress and lag; the group is created on first use. The source never reads through the
group (it uses plain ``XREAD``), so several delivery streams may read the same keys.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from lakebed.errors import ConfigError, StorageError
from lakebed.streams.records import Position, StreamRecord
from lakebed.streams.sources.base import StreamSource

_ENTRY_ID = re.compile(r"^\d+-\d+$")
_MAX_BLOCK_S = 25.0
"""Longest single XREAD block; below the socket timeout so a dead connection is noticed."""
_PAGE = 10_000
_MAX_REMEMBERED = 1_000_000


class RedisSourceConfig(BaseModel):
    """Read one or more Redis Streams keys (``streams``) from the server at ``url``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["redis"] = "redis"
    url: str
    """``redis://[user:password@]host:port/db`` (or ``rediss://`` for TLS)."""
    streams: list[str]
    start: Literal["earliest", "latest"] = "earliest"
    """Where to begin in a stream with no committed position: its first entry, or new ones."""
    group: str | None = None
    """A consumer group whose last-delivered id follows the committed positions (for tools)."""

    @field_validator("streams")
    @classmethod
    def _some_streams(cls, value: list[str]) -> list[str]:
        if not value or any(not key for key in value) or len(set(value)) != len(value):
            raise ValueError("list one or more distinct, non-empty stream keys")
        return value

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"{value!r} is not a Redis URL; use redis://host:port/db")
        return value

    def open_source(self, stream: str, state_dir: Path) -> StreamSource:
        """A source for the delivery stream ``stream`` (Redis needs no local state)."""
        return RedisSource(self)


def entry_id(position: Position, stream: str) -> tuple[int, int]:
    """``"1700000000000-3"`` as ``(1700000000000, 3)``; a :class:`ConfigError` otherwise."""
    if not isinstance(position, str) or not _ENTRY_ID.match(position):
        raise ConfigError(
            f"position {position!r} for Redis stream {stream!r} is not an entry id",
            fix='pass the entry id ("<ms>-<seq>") of the last record delivered from it',
        )
    ms, seq = position.split("-")
    return int(ms), int(seq)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisSource(StreamSource):
    """A :class:`StreamSource` over Redis Streams (see the module docstring)."""

    kind = "redis"

    def __init__(self, config: RedisSourceConfig) -> None:
        self.config = config
        self._client: Any = None
        self._last: dict[str, str] = {}
        """Per stream: the id of the last entry read (or the start position)."""
        self._counter: dict[str, int | None] = {}
        """Per stream: how many entries ever added up to the last one read (None: unknown)."""
        self._read: dict[str, tuple[list[tuple[int, int]], list[int]]] = {}
        """Per stream, with a group: ids read and not yet acknowledged, with their counters."""
        self._created: set[str] = set()
        self._rotate = 0

    @property
    def display_url(self) -> str:
        """The URL without its password."""
        return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", self.config.url)

    def open(self, resume_after: Mapping[str, Position]) -> None:
        import redis

        self.close()
        starts = {key: resume_after[key] for key in self.config.streams if key in resume_after}
        for key, position in starts.items():
            entry_id(position, key)
        self._client = redis.Redis.from_url(
            self.config.url,
            socket_connect_timeout=5,
            socket_timeout=_MAX_BLOCK_S + 10,
            socket_keepalive=True,
        )
        with self._errors():
            self._client.ping()
            for key in self.config.streams:
                if key in starts:
                    self._last[key] = str(starts[key])
                elif self.config.start == "earliest":
                    self._last[key] = "0-0"
                else:
                    newest = self._client.xrevrange(key, "+", "-", count=1)
                    self._last[key] = _text(newest[0][0]) if newest else "0-0"
                self._counter[key] = self._counter_at(key, self._last[key])
                self._read[key] = ([], [])

    def poll(self, max_records: int, timeout: float) -> list[StreamRecord]:
        client = self._require_open()
        block = int(min(max(timeout, 0.0), _MAX_BLOCK_S) * 1000)
        with self._errors():
            replies = client.xread(dict(self._last), count=max(max_records, 1), block=block or None)
        pairs = replies.items() if isinstance(replies, dict) else replies or []
        by_stream = {_text(key): entries for key, entries in pairs}
        order = self.config.streams[self._rotate :] + self.config.streams[: self._rotate]
        self._rotate = (self._rotate + 1) % len(self.config.streams)
        records: list[StreamRecord] = []
        for key in order:
            for raw_id, fields in by_stream.get(key, []):
                if len(records) >= max_records:
                    break
                records.append(self._record(key, _text(raw_id), fields))
        return records

    def acknowledge(self, positions: Mapping[str, Position]) -> None:
        group = self.config.group
        client = self._require_open()
        for key, position in positions.items():
            if key not in self._last:
                continue
            target = entry_id(position, key)
            ids, counters = self._read[key]
            cut = bisect.bisect_right(ids, target)
            entries_read = counters[cut - 1] if cut and ids[cut - 1] == target else None
            del ids[:cut], counters[:cut]
            if group is None:
                continue
            with self._errors():
                if key not in self._created:
                    self._create_group(key, str(position))
                client.xgroup_setid(key, group, str(position), entries_read=entries_read)

    def lag(self) -> dict[str, int]:
        self._require_open()
        lags: dict[str, int] = {}
        with self._errors():
            for key in self.config.streams:
                info = self._info(key)
                counter = self._counter.get(key)
                if info is None:
                    lags[key] = 0
                elif counter is None or "entries-added" not in info:
                    lags[key] = self._count_after(key, self._last[key])
                else:
                    lags[key] = max(0, min(int(info["length"]), info["entries-added"] - counter))
        return lags

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    # -- internals -------------------------------------------------------------------------

    def _record(self, key: str, entry: str, fields: Mapping[bytes, bytes]) -> StreamRecord:
        value = fields.get(b"value")
        if value is None:
            value = json.dumps(
                {_text(k): v.decode("utf-8", "replace") for k, v in fields.items()},
                separators=(",", ":"),
            ).encode()
        record_id = fields.get(b"id")
        self._last[key] = entry
        counter = self._counter.get(key)
        if counter is not None:
            counter += 1
            self._counter[key] = counter
            if self.config.group is not None:
                ids, counters = self._read[key]
                ids.append(entry_id(entry, key))
                counters.append(counter)
                if len(ids) > _MAX_REMEMBERED:  # never acknowledged: forget the oldest
                    del ids[: len(ids) // 2], counters[: len(counters) // 2]
        return StreamRecord(
            value=value,
            partition=key,
            position=entry,
            key=fields.get(b"key"),
            timestamp_ms=int(entry.split("-", 1)[0]),
            record_id=record_id.decode("utf-8", "replace") if record_id is not None else None,
        )

    def _info(self, key: str) -> dict[str, Any] | None:
        import redis

        try:
            info: dict[str, Any] = self._client.xinfo_stream(key)
        except redis.ResponseError as exc:
            if "no such key" in str(exc).lower():
                return None
            raise
        return info

    def _counter_at(self, key: str, position: str) -> int | None:
        """How many entries were ever added up to and including ``position`` (Redis's
        "entries read" counter for it), or ``None`` when Redis cannot tell (before 7.0)."""
        info = self._info(key)
        if info is None:
            return 0
        added = info.get("entries-added")
        if added is None:
            return None
        length, at = int(info["length"]), entry_id(position, key)
        if length == 0 or at >= entry_id(_text(info["last-generated-id"]), key):
            return int(added)
        if at < entry_id(_text(info["first-entry"][0]), key):
            return int(added) - length
        return int(added) - self._count_after(key, position)

    def _count_after(self, key: str, position: str) -> int:
        """Entries after ``position``, counted a page at a time."""
        count, after = 0, position
        while True:
            page = self._client.xrange(key, f"({after}", "+", count=_PAGE)
            count += len(page)
            if len(page) < _PAGE:
                return count
            after = _text(page[-1][0])

    def _create_group(self, key: str, position: str) -> None:
        import redis

        try:
            self._client.xgroup_create(key, self.config.group, position, mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._created.add(key)

    def _require_open(self) -> Any:
        if self._client is None:
            raise ConfigError(
                "the Redis source is not open", fix="call open(resume_after) before reading"
            )
        return self._client

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn redis-py errors into :class:`StorageError` naming the server and the fix."""
        import redis

        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StorageError(
                f"cannot reach Redis at {self.display_url}: {exc}",
                fix="start the Redis server (redis-server) or correct the stream's source url",
                transient=True,
            ) from None
        except redis.ResponseError as exc:
            raise StorageError(
                f"Redis at {self.display_url} refused a command for streams "
                f"{', '.join(self.config.streams)}: {exc}",
                fix="check that each key is a stream (TYPE key) and the user may read it",
            ) from None
