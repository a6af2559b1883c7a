"""Read ahead on a background thread, so producing a stream overlaps consuming it.

Writing a table from a file is two heavy stages: parsing and conforming the source, and encoding
Parquet. pyarrow releases the GIL in both, so running them on two threads uses both cores
instead of one. The queue between them is bounded, so memory stays bounded too.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import TypeVar

T = TypeVar("T")

_ITEM, _DONE, _ERROR = range(3)


def prefetched(items: Iterable[T], *, depth: int = 1) -> Generator[T, None, None]:
    """The items of ``items``, produced up to ``depth`` ahead on a background thread.

    An error in the producer is raised in the consumer. Closing the returned generator (or
    leaving a ``for`` loop over it by an exception, within ``contextlib.closing``) stops the
    producer and closes ``items`` on the producer's own thread.
    """
    pending: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(message: tuple[int, object]) -> bool:
        while not stop.is_set():
            try:
                pending.put(message, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        source = iter(items)
        try:
            for item in source:
                if not put((_ITEM, item)):
                    return
            put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put((_ERROR, exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="lakebed-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = pending.get()
            if kind == _ITEM:
                yield value  # type: ignore[misc]
            elif kind == _ERROR:
                raise value  # type: ignore[misc]
            else:
                return
    finally:
        stop.set()
        thread.join()
