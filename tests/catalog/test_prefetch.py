"""prefetched: read-ahead that passes items, errors and early stops across the thread."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from lakebed.catalog.prefetch import prefetched


def test_items_arrive_in_order() -> None:
    assert list(prefetched(range(1000), depth=2)) == list(range(1000))


def test_a_producer_error_is_raised_in_the_consumer() -> None:
    def broken() -> Iterator[int]:
        yield 1
        raise ValueError("corrupt block 2")

    seen = []
    with pytest.raises(ValueError, match="corrupt block 2"):
        for item in prefetched(broken()):
            seen.append(item)
    assert seen == [1]


def test_stopping_early_closes_the_source() -> None:
    closed = []

    def source() -> Iterator[int]:
        try:
            yield from range(10_000)
        finally:
            closed.append(True)

    with contextlib.closing(prefetched(source())) as items:
        for item in items:
            if item == 3:
                break
    assert closed == [True]
