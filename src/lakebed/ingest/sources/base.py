"""What ingestion reads from: a :class:`Source` plans :class:`Part` s and reads each as Arrow.

A source knows nothing of tables, bookmarks' storage or commits. Given the bookmark state of the
last committed load (a JSON-able dict, or None for a first load) it plans what is new — files
not yet loaded, key ranges past the last value — and the state to store once all of it is
committed. The runner reads parts (several at once when the source allows), fits and writes
the rows, and commits data and the new state in one snapshot.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from lakebed.formats.base import OnBadRecord

#: A bookmark's state: plain JSON data (dicts, lists, str, int, float, bool, None).
State = dict[str, Any]


@dataclass(frozen=True)
class Part:
    """One unit of reading: a file, a range of keys.

    ``id`` is stable and readable (a file's URI, ``"id >= 1000 AND id < 2000"``); it names the
    part in progress output and is the quarantine's ``source`` for records met while reading
    it, unless a record names its own. ``size`` estimates the work (bytes of a file, rows of a
    range), for progress bars; ``info`` is the source's own data about the part.
    """

    id: str
    size: int | None = None
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """What a load will read, and the bookmark state once all of it is committed."""

    parts: list[Part]
    #: The bookmark state to commit with the data of every part; None when the source keeps
    #: no bookmark (a load that is not incremental).
    state: State | None
    #: The rows' schema when the source knows it up front (a database), else None (inferred).
    schema: pa.Schema | None = None
    #: Human-readable notes for the run summary ("12 files already loaded were skipped").
    notes: list[str] = field(default_factory=list)


class Source(ABC):
    """Something to load rows from: files under a prefix, a database table or query."""

    #: Short kind name: ``"files"``, ``"database"``.
    kind: str = ""

    @property
    @abstractmethod
    def uri(self) -> str:
        """Where the rows come from, as shown to people (passwords hidden)."""

    @property
    def bookmark_key(self) -> str:
        """What identifies this source's bookmark when the user names none: stable across
        runs for the same source, different for different ones (e.g. the URI and query)."""
        return self.uri

    #: True when parts must be read and applied in plan order (CDC files); False lets the
    #: runner read several parts at once.
    ordered: bool = False

    #: Columns that identify a row in the source (a primary key), used to locate a bad row
    #: (``"id=42"``) in the quarantine; empty when there are none.
    key_columns: tuple[str, ...] = ()

    @abstractmethod
    def plan(self, state: State | None) -> Plan:
        """The parts to read after the load whose bookmark ``state`` was last committed."""

    @abstractmethod
    def read(self, part: Part, on_bad_record: OnBadRecord) -> Iterator[pa.RecordBatch]:
        """The rows of ``part``, batch by batch (bounded memory). A record that cannot be read
        goes to ``on_bad_record`` with its location; the rest go on. An error that makes the
        whole part unreadable is raised (a :class:`lakebed.errors.LakebedError`)."""

    def describe_state(self, state: State | None) -> str:
        """A bookmark state in words, for ``lakebed bookmarks``."""
        return "nothing loaded yet" if state is None else str(state)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; called once the load is over."""
