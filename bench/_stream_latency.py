"""End-to-end delivery latency by timestamps: when a record was sent → the snapshot holding it.

Every delivery commit of stream ``s`` records in its snapshot summary the last position it
covers (``lakebed.stream.s.positions``, ``{"http": <sequence number>}`` for an HTTP stream), and
the snapshot has its commit time. The client knows each record's sequence number (the
PutRecordBatch answer) and when it was due to be sent, so each record's latency is the time of
the first snapshot whose position reaches its sequence number minus its send time. This checks
the stream's own ``latency_p50_ms`` / ``latency_p99_ms`` (which count from the write-ahead
log's acceptance, i.e. the acknowledgement, not from the send).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench._stream_http import Sent

if TYPE_CHECKING:
    from lakebed.catalog import Table

PARTITION = "http"


def commits(table: Table, stream: str, partition: str = PARTITION) -> list[tuple[int, int]]:
    """``(last position, commit time ms)`` of every snapshot ``stream`` committed, in order."""
    key = f"lakebed.stream.{stream}.positions"
    found = []
    for snapshot in table.iceberg.metadata.snapshots:
        summary = snapshot.summary
        text = summary.additional_properties.get(key) if summary is not None else None
        if text is None:
            continue
        position = json.loads(text).get(partition)
        if position is not None:
            found.append((int(position), snapshot.timestamp_ms))
    found.sort()
    return found


def delivery_latencies(sent: Sequence[Sent], committed: Sequence[tuple[int, int]]) -> list[float]:
    """Per record of ``sent``: ms from its send to the first commit covering it (records no
    commit covers are left out; compare the count with what was sent)."""
    positions = [p for p, _ in committed]
    times = [t for _, t in committed]
    out: list[float] = []
    for batch in sent:
        due_ms = batch.due * 1000
        seq = batch.first_seq
        while seq <= batch.last_seq:
            i = bisect.bisect_left(positions, seq)
            if i == len(positions):
                break
            upto = min(batch.last_seq, positions[i])
            out.extend([times[i] - due_ms] * (upto - seq + 1))
            seq = upto + 1
    return out
