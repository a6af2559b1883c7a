"""Bookmarks: how far an incremental load got, committed in the same snapshot as its rows.

A bookmark is a named JSON state (:data:`~lakebed.ingest.sources.base.State`) kept in the
table's metadata under ``lakebed.bookmark.<name>``, both as a table property (the current
value, which survives snapshot expiry) and in the summary of the snapshot that committed it
(history, for rewinding). The property changes in the same catalog commit as the snapshot, so a
crash can never leave rows without their bookmark or a bookmark without its rows.

A big state (the list of files loaded) goes to a JSON file under the table's
``metadata/lakebed-bookmarks/`` written before the commit; the property then holds
``{"file": URI, ...}``. A file written by a load that never committed is an orphan, which
``remove_orphan_files`` sweeps; a referenced one is kept.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lakebed.errors import ConfigError, NotFoundError
from lakebed.ingest.sources.base import State

if TYPE_CHECKING:
    from lakebed.catalog import Table

PREFIX = "lakebed.bookmark."
#: States longer than this (as JSON) are kept in a file rather than in the property.
INLINE_LIMIT = 2048
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f"invalid bookmark name {name!r}",
            fix="use letters, digits, '.', '_' and '-' (at most 128)",
        )
    return name


def default_name(kind: str, key: str) -> str:
    """A stable bookmark name for a source: its kind and a hash of what identifies it."""
    return f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


@dataclass(frozen=True)
class BookmarkInfo:
    """One bookmark of a table, as ``lakebed bookmarks`` lists it."""

    name: str
    source: str
    kind: str
    summary: str
    updated_at: datetime | None


class Bookmarks:
    """The bookmarks of one Iceberg table."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def _pointer(self, name: str) -> dict[str, Any] | None:
        raw = self.table.properties.get(PREFIX + check_name(name))
        return None if raw is None else json.loads(raw)

    def get(self, name: str) -> State | None:
        """The committed state of bookmark ``name`` (None when there is none)."""
        pointer = self._pointer(name)
        return None if pointer is None else self._load(pointer)

    def _load(self, pointer: dict[str, Any]) -> State:
        if "file" not in pointer:
            return dict(pointer["state"])
        with self.table.iceberg.io.new_input(pointer["file"]).open() as stream:
            return dict(json.loads(stream.read()))

    def prepare(self, name: str, state: State, *, source: str, summary: str) -> dict[str, str]:
        """The property to commit with a load's rows: ``{key: value}`` for both the table
        properties and the snapshot summary. A big state is written to its file now."""
        text = json.dumps(state, separators=(",", ":"), default=str)
        pointer: dict[str, Any] = {
            "source": source,
            "kind": state.get("kind", ""),
            "summary": summary,
            "at": datetime.now(UTC).isoformat(),
        }
        if len(text) <= INLINE_LIMIT:
            pointer["state"] = state
        else:
            location = self.table.location.rstrip("/")
            uri = f"{location}/metadata/lakebed-bookmarks/{name}-{uuid.uuid4().hex}.json"
            with self.table.iceberg.io.new_output(uri).create(overwrite=True) as out:
                out.write(text.encode())
            pointer["file"] = uri
        return {PREFIX + check_name(name): json.dumps(pointer, separators=(",", ":"))}

    def list(self) -> list[BookmarkInfo]:
        """Every bookmark the table has, by name."""
        found = []
        for key, raw in sorted(self.table.properties.items()):
            if not key.startswith(PREFIX):
                continue
            pointer = json.loads(raw)
            at = pointer.get("at")
            found.append(
                BookmarkInfo(
                    name=key.removeprefix(PREFIX),
                    source=pointer.get("source", ""),
                    kind=pointer.get("kind", ""),
                    summary=pointer.get("summary", ""),
                    updated_at=datetime.fromisoformat(at) if at else None,
                )
            )
        return found

    def _require(self, name: str) -> None:
        if self._pointer(name) is None:
            names = [b.name for b in self.list()]
            raise NotFoundError(
                f"table {self.table.ident} has no bookmark {name!r}",
                fix=f"use one of: {', '.join(names)}" if names else "it has no bookmarks yet",
            )

    def reset(self, name: str) -> None:
        """Forget bookmark ``name``: the next incremental load starts from the beginning."""
        self._require(name)
        self.table.refresh()
        with self.table.iceberg.transaction() as txn:
            txn.remove_properties(PREFIX + name)

    def rewind_to_value(self, name: str, value: str | int) -> str:
        """Set a column bookmark (a database load's) to ``value``: the next load reads the rows
        past it again. Returns the state in words."""
        from lakebed.ingest.sources.drivers.ranges import normalise, to_state

        self._require(name)
        pointer = self._pointer(name) or {}
        state = self._load(pointer)
        if state.get("kind") != "column":
            raise ConfigError(
                f"bookmark {name!r} of table {self.table.ident} tracks files, not a column value",
                fix="rewind it to a snapshot instead (--to SNAPSHOT_ID)",
            )
        kind = state.get("type", "int")
        try:
            state["value"] = to_state(normalise(value, kind), kind)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{value!r} is not a valid {kind} for column {state.get('column')!r}",
                fix="give a value of the column's type, e.g. 1000 or 2026-11-01T00:00:00",
            ) from None
        words = f"rows with {state['column']} <= {state['value']} loaded"
        props = self.prepare(name, state, source=pointer.get("source", ""), summary=words)
        self.table.refresh()
        with self.table.iceberg.transaction() as txn:
            txn.set_properties(props)
        return words

    def rewind(self, name: str, *, snapshot_id: int) -> str:
        """Set bookmark ``name`` back to what it was when ``snapshot_id`` was committed; the
        next load reloads what came after. Returns the state in words.

        The state comes from the newest summary carrying the bookmark in the snapshot's
        ancestry. When expiry cut that ancestry before one was found, it is the current
        property if no retained snapshot since ``snapshot_id`` moved the bookmark (rewinding
        to the current snapshot, e.g. an ``optimize`` after expiry, changes nothing). Otherwise
        the state is unknown, and a :class:`NotFoundError` says so: forgetting the bookmark
        would make the next load read everything again."""
        self._require(name)
        key = PREFIX + name
        self.table.refresh()
        metadata = self.table.iceberg.metadata
        target = metadata.snapshot_by_id(snapshot_id)
        if target is None:
            self.table.snapshot(snapshot_id)  # raises NotFoundError listing recent ids
        value, cut = self._in_ancestry(key, snapshot_id)
        if value is None and cut:
            if not self._unmoved_since(key, snapshot_id):
                raise NotFoundError(
                    f"the state of bookmark {name!r} at snapshot {snapshot_id} of table "
                    f"{self.table.ident} is unknown: the snapshots that moved it up to then "
                    "were expired",
                    fix="rewind to a later retained snapshot that a load committed (`lakebed "
                    f"runs --table {self.table.ident}` lists them), rewind a database bookmark "
                    f"to a value (--to-value), or reset it explicitly (--reset {name}) to load "
                    "everything again",
                )
            value = self.table.properties[key]
        with self.table.iceberg.transaction() as txn:
            if value is None:
                txn.remove_properties(key)
            else:
                txn.set_properties({key: value})
        return "nothing loaded" if value is None else json.loads(value).get("summary", "")

    def _in_ancestry(self, key: str, snapshot_id: int) -> tuple[str | None, bool]:
        """The newest value of ``key`` in the summaries from ``snapshot_id`` back, and whether
        the walk was cut by expiry (True) rather than ending at the table's first snapshot.

        Expiry may leave the oldest retained snapshot without a parent id, so the first
        snapshot is told by its sequence number (1); a table without sequence numbers (format
        v1) cannot tell, and counts as cut."""
        metadata = self.table.iceberg.metadata
        snap = metadata.snapshot_by_id(snapshot_id)
        while snap is not None:
            if snap.summary is not None and key in snap.summary.additional_properties:
                return snap.summary.additional_properties[key], False
            parent = snap.parent_snapshot_id
            if parent is None:
                return None, snap.sequence_number != 1
            snap = metadata.snapshot_by_id(parent)
        return None, True

    def _unmoved_since(self, key: str, snapshot_id: int) -> bool:
        """Whether the current snapshot descends from ``snapshot_id`` through retained
        snapshots none of which moved bookmark ``key``: then its state at ``snapshot_id`` is
        the current property."""
        metadata = self.table.iceberg.metadata
        snap = self.table.iceberg.current_snapshot()
        while snap is not None and snap.snapshot_id != snapshot_id:
            if snap.summary is not None and key in snap.summary.additional_properties:
                return False
            parent = snap.parent_snapshot_id
            snap = None if parent is None else metadata.snapshot_by_id(parent)
        return snap is not None
