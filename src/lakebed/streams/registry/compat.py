"""Compatibility modes, and the reader/writer pair every format's rules are written against.

A format module checks one direction only: "can ``reader`` read data written with ``writer``".
The modes combine directions: BACKWARD has the new schema read the old one's data (consumers
upgrade first), FORWARD the old schema read the new one's data (producers upgrade first), FULL
both; the ``_TRANSITIVE`` forms check every earlier version instead of only the latest one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

Mode = Literal[
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
]
MODES: tuple[Mode, ...] = (
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
)
DEFAULT_MODE: Mode = "BACKWARD"

S = TypeVar("S")


@dataclass(frozen=True)
class Pair(Generic[S]):
    """A reader and a writer schema, knowing which of them is the schema being registered.

    ``other`` is the registered version the new schema is compared with, so that reasons can
    say "changed type from double to string" in old-to-new order whichever side reads.
    """

    reader: S
    writer: S
    reader_is_new: bool
    other: int

    def describe(self, reader_text: str, writer_text: str) -> str:
        """``"<old> to <new>"`` from the reader's and the writer's description of a type."""
        if self.reader_is_new:
            return f"{writer_text} to {reader_text}"
        return f"{reader_text} to {writer_text}"


def directions(mode: Mode) -> tuple[bool, bool, bool]:
    """(new reads old, old reads new, against every version) for a mode."""
    if mode == "NONE":
        return (False, False, False)
    base = mode.removesuffix("_TRANSITIVE")
    transitive = mode.endswith("_TRANSITIVE")
    return (base in ("BACKWARD", "FULL"), base in ("FORWARD", "FULL"), transitive)
