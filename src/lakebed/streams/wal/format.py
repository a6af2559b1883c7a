"""The on-disk layout of the write-ahead log: segment files of CRC-checked frames.

A log directory holds:

- ``<first-seq, 20 digits>.wal`` segment files. Each is a run of frames; the segment's name is
  the sequence number of its first frame (or of the next frame to be written, when it is empty);
  only the newest segment is ever written to.
- ``durable``: 8 bytes, the highest sequence number known to be on disk (fsynced). The writer
  updates it after every fsync; readers never read past it, so a reader can never deliver a
  record that a machine crash could still take away.
- ``writer.lock``: held (``flock``) by the one writer process; holds its pid.

A frame is a little-endian header ``payload length (u32), CRC32 (u32), sequence number (u64),
timestamp ms (i64), record id length (u16)`` followed by the record id (UTF-8) and the payload.
The CRC covers everything after the CRC field, so a frame cut short by a crash, or garbage after
it, fails the check and marks the end of the log.

Written by hand because no library offers a small, fsync-exact, multi-process segment log.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

HEADER = struct.Struct("<IIQqH")
"""payload length, crc32, sequence number, timestamp ms, record id length."""
CRC_START = 8
"""Offset of the first byte the CRC covers (the sequence number)."""
SEGMENT_SUFFIX = ".wal"
DURABLE_FILE = "durable"
LOCK_FILE = "writer.lock"
MAX_RECORD_ID_BYTES = 1024


class Frame(NamedTuple):
    """One record as stored in a segment."""

    seq: int
    timestamp_ms: int
    record_id: str | None
    payload: bytes
    size: int
    """Bytes the frame takes on disk (header included)."""


def encode(seq: int, timestamp_ms: int, record_id: str | None, payload: bytes) -> bytes:
    """The bytes of one frame."""
    rid = record_id.encode() if record_id is not None else b""
    # An id of length 0 means "no id"; an empty-string id is stored as none.
    body = struct.pack("<QqH", seq, timestamp_ms, len(rid)) + rid
    crc = zlib.crc32(payload, zlib.crc32(body))
    return struct.pack("<II", len(payload), crc) + body + payload


def read_frames(buffer: bytes, pos: int, count: int, last_seq: int) -> tuple[list[Frame], int, str]:
    """Up to ``count`` whole frames from ``pos``, stopping before one numbered above
    ``last_seq`` or failing its CRC; also the offset where they end, and why it stopped:
    ``"beyond"`` (a frame above ``last_seq``), ``"corrupt"`` (a bad CRC), ``""`` (count reached
    or the buffer ends). The reader's hot loop, hence the local names."""
    out: list[Frame] = []
    view = memoryview(buffer)
    size, unpack, crc32, header = len(buffer), HEADER.unpack_from, zlib.crc32, HEADER.size
    while len(out) < count and pos + header <= size:
        length, crc, seq, ts, id_len = unpack(buffer, pos)
        start = pos + header + id_len
        end = start + length
        if end > size:
            break
        if seq > last_seq:
            return out, pos, "beyond"
        if crc32(view[pos + CRC_START : end]) != crc:
            return out, pos, "corrupt"
        rid = bytes(view[pos + header : start]).decode() if id_len else None
        out.append(Frame(seq, ts, rid, buffer[start:end], end - pos))
        pos = end
    return out, pos, ""


def needed(buffer: bytes | memoryview, offset: int) -> int:
    """How many bytes from ``offset`` the frame there needs (at least a header's worth)."""
    if offset + HEADER.size > len(buffer):
        return HEADER.size
    length, _crc, _seq, _ts, id_len = HEADER.unpack_from(buffer, offset)
    return int(HEADER.size + id_len + length)


def segment_name(first_seq: int) -> str:
    """File name of the segment whose first frame has sequence number ``first_seq``."""
    return f"{first_seq:020d}{SEGMENT_SUFFIX}"


def list_segments(directory: Path) -> list[tuple[int, Path]]:
    """``(first sequence number, path)`` of every segment, oldest first."""
    found = []
    try:
        names = [p for p in directory.iterdir() if p.name.endswith(SEGMENT_SUFFIX)]
    except FileNotFoundError:
        return []
    for path in names:
        stem = path.name[: -len(SEGMENT_SUFFIX)]
        if stem.isdigit():
            found.append((int(stem), path))
    return sorted(found)


def scan(path: Path, chunk_bytes: int = 4 << 20) -> Iterator[tuple[int, Frame | None]]:
    """``(offset, frame)`` for each valid frame of a segment file, in order; the last item is
    ``(offset, None)`` where the valid frames end (the file's size when it ends cleanly)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield 0, None
        return
    try:
        offset, want = 0, chunk_bytes
        while True:
            data = os.pread(fd, want, offset)
            frames, pos, stop = read_frames(data, 0, len(data), (1 << 64) - 1)
            for frame in frames:
                yield offset, frame
                offset += frame.size
            if stop or not frames:
                need = needed(data, pos)
                fits = offset + need <= os.fstat(fd).st_size  # else a torn length field
                if not stop and pos + need > len(data) == want and fits:
                    want = pos + need  # a frame larger than the chunk
                    continue
                yield offset, None
                return
            want = chunk_bytes
    finally:
        os.close(fd)
