"""A file-backed stream source: the StreamSource interface's own test double.

Each partition is a file ``<folder>/<partition>.log`` of length-prefixed records (4-byte
big-endian length, then the bytes); a record's position is its index in the file. A writer
appends whole records; the reader stops at an incomplete tail. ``acknowledge`` appends the
acknowledged positions to ``acks.jsonl`` so tests can check nothing is acknowledged before its
commit. While the file named by ``down_flag`` exists, the source is unreachable.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from lakebed.errors import StorageError
from lakebed.streams.records import Position, StreamRecord
from lakebed.streams.sources.base import StreamSource

TYPE = "tests.streams.delivery.filelog:FileLogConfig"


def append(folder: Path, partition: str, values: Sequence[bytes]) -> None:
    """Append records to a partition's file, durably."""
    folder.mkdir(parents=True, exist_ok=True)
    blob = b"".join(struct.pack(">I", len(v)) + v for v in values)
    with open(folder / f"{partition}.log", "ab") as out:
        out.write(blob)
        out.flush()
        os.fsync(out.fileno())


def acks(folder: Path) -> list[dict[str, Position]]:
    path = folder / "acks.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


class FileLogConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = TYPE
    folder: str
    down_flag: str | None = None

    def open_source(self, stream: str, state_dir: Path) -> StreamSource:
        return FileLogSource(Path(self.folder), self.down_flag)


class FileLogSource(StreamSource):
    kind = "filelog"

    def __init__(self, folder: Path, down_flag: str | None) -> None:
        self.folder = folder
        self.down_flag = Path(down_flag) if down_flag else None
        self.next: dict[str, int] = {}
        self.offset: dict[str, int] = {}

    def _check(self) -> None:
        if self.down_flag is not None and self.down_flag.exists():
            raise StorageError(
                f"file log {self.folder} is down", fix="remove the flag", transient=True
            )

    def open(self, resume_after: Mapping[str, Position]) -> None:
        self._check()
        self.resume = {p: int(v) for p, v in resume_after.items()}

    def _partitions(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.log"))

    def _read(self, partition: str, limit: int) -> list[StreamRecord]:
        out: list[StreamRecord] = []
        index = self.next.setdefault(partition, 0)
        offset = self.offset.setdefault(partition, 0)
        skip_to = self.resume.get(partition, -1) + 1
        with open(self.folder / f"{partition}.log", "rb") as stream:
            stream.seek(offset)
            data = stream.read()
        at = 0
        while len(out) < limit and at + 4 <= len(data):
            (size,) = struct.unpack(">I", data[at : at + 4])
            if at + 4 + size > len(data):
                break
            value = data[at + 4 : at + 4 + size]
            at += 4 + size
            if index >= skip_to:
                out.append(StreamRecord(value=value, partition=partition, position=index))
            index += 1
        self.next[partition] = index
        self.offset[partition] = offset + at
        return out

    def poll(self, max_records: int, timeout: float) -> list[StreamRecord]:
        self._check()
        out: list[StreamRecord] = []
        for partition in self._partitions():
            out += self._read(partition, max_records - len(out))
            if len(out) >= max_records:
                break
        if not out:
            import time

            time.sleep(min(timeout, 0.02))
        return out

    def acknowledge(self, positions: Mapping[str, Position]) -> None:
        with open(self.folder / "acks.jsonl", "a") as out:
            out.write(json.dumps(dict(positions)) + "\n")

    def lag(self) -> dict[str, int]:
        lag = {}
        for partition in self._partitions():
            data = (self.folder / f"{partition}.log").read_bytes()
            total, at = 0, 0
            while at + 4 <= len(data):
                (size,) = struct.unpack(">I", data[at : at + 4])
                at += 4 + size
                total += 1
            lag[partition] = max(0, total - self.next.get(partition, 0))
        return lag

    def close(self) -> None:
        pass
