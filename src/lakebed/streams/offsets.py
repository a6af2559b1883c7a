"""Stream positions, committed in the same snapshot as the rows they cover.

Every delivery commit of stream ``s`` puts into its snapshot summary:

- ``lakebed.stream.s.positions``: JSON ``{partition: last position delivered}``, for every
  partition the stream has ever read (so the newest such snapshot says it all);
- ``lakebed.stream.s.batch``: the id of the delivery, to tell after an ambiguous commit
  failure whether it landed;
- ``lakebed.bookmark.stream.s``: the stream's checkpoint as a table bookmark (see
  :mod:`lakebed.ingest.bookmarks`): the positions plus, for a windowed stream, the state of its
  open windows; a big state goes to a file under the table's ``metadata/`` folder, which the
  orphan-file sweep keeps while a snapshot or the table properties name it. The same value is
  set as a table property in the same commit, so it survives snapshot expiry.

:func:`read_checkpoint` walks back from the current snapshot through its ancestors (other
writers may have committed since), so a table rolled back to an older snapshot resumes the
stream from what that snapshot holds; only when no ancestor carries the stream (its snapshots
were expired) does it fall back to the table property.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lakebed.ingest.bookmarks import PREFIX as BOOKMARK_PREFIX
from lakebed.ingest.bookmarks import Bookmarks
from lakebed.streams.records import Position

if TYPE_CHECKING:
    from pyiceberg.table.snapshots import Snapshot

    from lakebed.catalog import Table

#: Summary key naming the stream that wrote a snapshot.
STREAM_KEY = "lakebed.stream"
_RANGE_ID = re.compile(r"(\d+)-(\d+)")


def positions_key(stream: str) -> str:
    return f"lakebed.stream.{stream}.positions"


def batch_key(stream: str) -> str:
    return f"lakebed.stream.{stream}.batch"


def bookmark_name(stream: str) -> str:
    return f"stream.{stream}"


def position_order(position: Position) -> tuple[int, ...] | tuple[str]:
    """A sort key for positions of one partition: numbers, Redis-style ``ms-seq`` ids by
    both parts, anything else as text."""
    if isinstance(position, int):
        return (position,)
    match = _RANGE_ID.fullmatch(position)
    if match:
        return (int(match[1]), int(match[2]))
    return (position,)


def is_after(position: Position, mark: Position | None) -> bool:
    """Whether ``position`` comes after ``mark`` in its partition (anything is after None)."""
    if mark is None:
        return True
    a, b = position_order(position), position_order(mark)
    if type(a[0]) is not type(b[0]):
        return str(position) > str(mark)
    return a > b  # type: ignore[operator]


def merge_positions(into: dict[str, Position], more: Mapping[str, Position]) -> dict[str, Position]:
    """``into`` updated with the later of its and ``more``'s position per partition."""
    for partition, position in more.items():
        if is_after(position, into.get(partition)):
            into[partition] = position
    return into


@dataclass
class Checkpoint:
    """What a stream committed last: positions, window state and the delivery's id."""

    positions: dict[str, Position] = field(default_factory=dict)
    window_state: bytes | None = None
    batch_id: str | None = None
    snapshot_id: int | None = None


def _ancestors(table: Table) -> Iterator[Snapshot]:
    metadata = table.iceberg.metadata
    snap = metadata.current_snapshot()
    while snap is not None:
        yield snap
        parent = snap.parent_snapshot_id
        snap = None if parent is None else metadata.snapshot_by_id(parent)


def _summary(snap: Snapshot) -> Mapping[str, str]:
    return {} if snap.summary is None else snap.summary.additional_properties


def _state(table: Table, pointer_text: str) -> dict[str, Any]:
    pointer = json.loads(pointer_text)
    if "file" in pointer:
        with table.iceberg.io.new_input(pointer["file"]).open() as stream:
            return dict(json.loads(stream.read()))
    return dict(pointer.get("state") or {})


def _checkpoint(state: Mapping[str, Any], snapshot_id: int | None) -> Checkpoint:
    window = state.get("window_state")
    return Checkpoint(
        positions=dict(state.get("positions") or {}),
        window_state=None if window is None else base64.b64decode(window),
        batch_id=state.get("batch"),
        snapshot_id=snapshot_id,
    )


def read_checkpoint(table: Table | None, stream: str) -> Checkpoint:
    """The checkpoint stream ``stream`` last committed to ``table`` (empty when none)."""
    if table is None:
        return Checkpoint()
    table.refresh()
    bookmark_key = BOOKMARK_PREFIX + bookmark_name(stream)
    plain_key = positions_key(stream)
    for snap in _ancestors(table):
        summary = _summary(snap)
        if bookmark_key in summary:
            return _checkpoint(_state(table, summary[bookmark_key]), snap.snapshot_id)
        if plain_key in summary:  # an error-output snapshot: positions only
            return Checkpoint(
                positions=json.loads(summary[plain_key]),
                batch_id=summary.get(batch_key(stream)),
                snapshot_id=snap.snapshot_id,
            )
    pointer = table.properties.get(bookmark_key)
    return Checkpoint() if pointer is None else _checkpoint(_state(table, pointer), None)


def committed_positions(table: Table | None, stream: str) -> dict[str, Position]:
    """The last position per partition that stream ``stream`` committed to ``table``."""
    return read_checkpoint(table, stream).positions


def landed(table: Table, stream: str, batch_id: str) -> bool:
    """Whether the delivery ``batch_id`` of ``stream`` is in ``table``: true when the newest
    snapshot of the stream carries it (a delivery never commits before its predecessor)."""
    return read_checkpoint(table, stream).batch_id == batch_id


def plain_properties(
    stream: str, positions: Mapping[str, Position], batch_id: str
) -> dict[str, str]:
    """The summary entries saying which stream committed a snapshot and how far it got."""
    return {
        STREAM_KEY: stream,
        positions_key(stream): json.dumps(dict(positions), separators=(",", ":")),
        batch_key(stream): batch_id,
    }


def checkpoint_properties(
    table: Table,
    stream: str,
    positions: Mapping[str, Position],
    batch_id: str,
    window_state: bytes | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """``(snapshot summary, table properties)`` to commit with a delivery's rows. A large
    window state is written to its file now (an orphan if the commit never happens)."""
    state: dict[str, Any] = {"kind": "stream", "positions": dict(positions), "batch": batch_id}
    if window_state is not None:
        state["window_state"] = base64.b64encode(window_state).decode()
    parts = len(positions)
    words = f"{parts} partition{'s' if parts != 1 else ''} delivered up to the positions"
    bookmark = Bookmarks(table).prepare(
        bookmark_name(stream), state, source=f"stream {stream}", summary=words
    )
    return {**plain_properties(stream, positions, batch_id), **bookmark}, bookmark
