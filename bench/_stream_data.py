"""The records the streaming benchmarks send: ~1 KB JSON events, the same bytes every run.

Each record is one JSON object of exactly :data:`RECORD_BYTES` bytes (a ``note`` field pads it),
with a low-cardinality ``country`` to partition by. :data:`TABLE_SCHEMA` is the table schema a
stream is configured with and :data:`ARROW_SCHEMA` the same types for the pyarrow peer, so both
sides write the same columns.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

RECORD_BYTES = 1024
COUNTRIES = ("DE", "FR", "US", "GB", "JP", "BR", "IN", "ES")
EVENTS = ("view", "click", "add_to_cart", "purchase", "search")
DEVICES = ("ios", "android", "web", "tv")
PARTITION_FIELD = "country"
BASE_MS = 1_760_000_000_000  # a fixed epoch-ms origin, so the bytes never change

TABLE_SCHEMA: dict[str, str] = {
    "id": "int64",
    "event_ms": "int64",
    "country": "string",
    "event": "string",
    "device": "string",
    "user_id": "int64",
    "session": "string",
    "price": "double",
    "quantity": "int64",
    "note": "string",
}
ARROW_SCHEMA = pa.schema([(name, pa.type_for_alias(kind)) for name, kind in TABLE_SCHEMA.items()])
_FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "


def event(i: int) -> dict[str, Any]:
    """Record ``i`` as a dict (without its padding)."""
    return {
        "id": i,
        "event_ms": BASE_MS + i * 7,
        "country": COUNTRIES[i % len(COUNTRIES)],
        "event": EVENTS[(i // 3) % len(EVENTS)],
        "device": DEVICES[(i // 7) % len(DEVICES)],
        "user_id": (i * 2_654_435_761) % 1_000_003,
        "session": f"{(i * 40_503) & 0xFFFFFFFF:08x}{i:024x}",
        "price": round(((i * 37) % 10_000) / 100, 2),
        "quantity": 1 + i % 5,
    }


def encode(i: int, size: int = RECORD_BYTES) -> bytes:
    """Record ``i`` as compact JSON of exactly ``size`` bytes (``note`` pads it)."""
    head = json.dumps(event(i), separators=(",", ":"))[:-1] + ',"note":"'
    room = size - len(head) - 2  # the closing '"}'
    if room < 0:
        raise ValueError(f"records need at least {len(head) + 2} bytes, not {size}")
    start = i % len(_FILLER)
    filler = (_FILLER * (room // len(_FILLER) + 2))[start : start + room]
    return (head + filler + '"}').encode()


def encoded(start: int, count: int) -> list[bytes]:
    """Records ``start`` to ``start + count - 1``, encoded."""
    return [encode(i) for i in range(start, start + count)]


def chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    """``(start, count)`` pieces covering ``range(total)`` in steps of ``size``."""
    if size < 1:
        raise ValueError(f"chunk size must be positive, not {size}")
    for start in range(0, total, size):
        yield start, min(size, total - start)
