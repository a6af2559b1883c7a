"""Reading a plan's parts, several at once, into one stream of batches with bounded memory.

Reader threads put batches on a small queue that the writing thread drains, so reading (CSV
parsing, a database cursor) overlaps fitting and Parquet encoding. Parts that must be applied in
order (CDC) are read by one thread, in plan order. A part that fails is reported as an item
carrying the error; the caller decides whether it fails the load or goes to the quarantine.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow as pa

from lakebed.formats.base import OnBadRecord
from lakebed.ingest.sources.base import Part, Source

#: Batches waiting for the writer, per reader thread.
QUEUE_PER_WORKER = 6


@dataclass
class Item:
    """A batch of a part (``offset``: rows of the part before it), or the part's end/error."""

    part: Part
    offset: int
    batch: pa.RecordBatch | None = None
    error: BaseException | None = None

    @property
    def done(self) -> bool:
        return self.batch is None


def read_parts(
    source: Source, parts: Sequence[Part], on_bad_record: OnBadRecord, workers: int
) -> Iterator[Item]:
    """Every batch of every part, then one ``done`` item per part (with its error, if any)."""
    if not parts:
        return
    workers = 1 if source.ordered else max(1, min(workers, len(parts)))
    items: queue.Queue[Item] = queue.Queue(maxsize=QUEUE_PER_WORKER * workers)
    stop = threading.Event()

    def put(item: Item) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read(part: Part) -> None:
        offset = 0
        try:
            for batch in source.read(part, on_bad_record):
                if not put(Item(part, offset, batch)):
                    return
                offset += batch.num_rows
        except BaseException as exc:  # handed to the writing thread
            put(Item(part, offset, error=exc))
            return
        put(Item(part, offset))

    def read_in_order() -> None:
        for part in parts:
            if stop.is_set():
                return
            read(part)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lakebed-read")
    try:
        if source.ordered:
            pool.submit(read_in_order)
        else:
            for part in parts:
                pool.submit(read, part)
        finished = 0
        while finished < len(parts):
            item = items.get()
            if item.done:
                finished += 1
            yield item
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
