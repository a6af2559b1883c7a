"""What every stream source must do, run against each backend (see conftest.py).

These properties are what exactly-once delivery rests on: records come in order per partition,
positions increase, and a source opened with ``resume_after`` gives exactly the records after
those positions — no duplicates, no gaps — whatever was acknowledged before.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict

from tests.streams.sources.conftest import SourceBackend

from lakebed.streams.records import Position, StreamRecord
from lakebed.streams.sources.base import StreamSource

READ_TIMEOUT = 20.0


def numbered(prefix: str, count: int, start: int = 0) -> list[bytes]:
    return [f"{prefix}-{i:05d}".encode() for i in range(start, start + count)]


def read(source: StreamSource, count: int, timeout: float = READ_TIMEOUT) -> list[StreamRecord]:
    """Poll until ``count`` records came (failing after ``timeout`` s)."""
    records: list[StreamRecord] = []
    deadline = time.monotonic() + timeout
    while len(records) < count:
        assert time.monotonic() < deadline, f"read {len(records)} of {count} records in {timeout} s"
        records += source.poll(count - len(records), 0.2)
    assert len(records) == count, f"asked for {count} records, got {len(records)}"
    return records


def assert_nothing_more(source: StreamSource) -> None:
    extra = source.poll(100, 0.5)
    assert extra == [], f"unexpected extra records: {[r.value for r in extra][:5]}"


def by_partition(records: list[StreamRecord]) -> dict[str, list[StreamRecord]]:
    parts: dict[str, list[StreamRecord]] = defaultdict(list)
    for record in records:
        parts[record.partition].append(record)
    return dict(parts)


def order_key(position: Position) -> tuple[int, ...]:
    """Positions as comparable tuples: ints as they are, ``"ms-seq"`` ids numerically."""
    if isinstance(position, int):
        return (position,)
    return tuple(int(part) for part in position.split("-"))


def last_positions(records: list[StreamRecord]) -> dict[str, Position]:
    return {name: recs[-1].position for name, recs in by_partition(records).items()}


def assert_ordered(records: list[StreamRecord], produced: list[bytes]) -> None:
    """Per partition: values in the order they were produced, positions strictly increasing."""
    rank = {value: i for i, value in enumerate(produced)}
    for name, recs in by_partition(records).items():
        ranks = [rank[r.value] for r in recs]
        assert ranks == sorted(ranks), f"partition {name} out of produce order"
        keys = [order_key(r.position) for r in recs]
        assert all(a < b for a, b in itertools.pairwise(keys)), (
            f"positions in {name} do not increase: {[r.position for r in recs][:10]}"
        )


def test_reads_every_record_once_in_order_per_partition(backend: SourceBackend) -> None:
    produced = numbered("rec", 60)
    backend.produce(produced)
    with backend.source() as source:
        source.open({})
        records = read(source, 60)
        assert_nothing_more(source)
    assert sorted(r.value for r in records) == produced
    assert_ordered(records, produced)
    assert 1 <= len(by_partition(records)) <= backend.partitions
    assert all(isinstance(r.partition, str) and r.partition for r in records)


def test_records_with_one_key_stay_in_order(backend: SourceBackend) -> None:
    first, other, second = numbered("a", 10), numbered("b", 10), numbered("a", 10, start=10)
    backend.produce(first, key=b"user-1")
    backend.produce(other, key=b"user-2")
    backend.produce(second, key=b"user-1")
    with backend.source() as source:
        source.open({})
        records = read(source, 30)
    keyed = [r for r in records if r.value.startswith(b"a-")]
    assert len({r.partition for r in keyed}) == 1
    assert [r.value for r in keyed] == first + second


def test_resume_after_positions_reads_exactly_the_rest(backend: SourceBackend) -> None:
    produced = numbered("rec", 45)
    backend.produce(produced)
    with backend.source() as source:
        source.open({})
        everything = by_partition(read(source, 45))
    # Cut each partition in the middle: the first part counts as delivered.
    cut = {name: recs[(len(recs) - 1) // 2] for name, recs in everything.items()}
    expected = [
        r.value for name, recs in everything.items() for r in recs[(len(recs) - 1) // 2 + 1 :]
    ]
    with backend.source() as source:
        source.open({name: record.position for name, record in cut.items()})
        rest = read(source, len(expected))
        assert_nothing_more(source)
    assert sorted(r.value for r in rest) == sorted(expected)
    for name, recs in by_partition(rest).items():
        assert order_key(recs[0].position) > order_key(cut[name].position)
    assert_ordered(rest, produced)


def test_resume_after_the_last_positions_reads_only_new_records(backend: SourceBackend) -> None:
    backend.produce(numbered("old", 20))
    with backend.source() as source:
        source.open({})
        positions = last_positions(read(source, 20))
    fresh = numbered("new", 10)
    backend.produce(fresh)
    with backend.source() as source:
        source.open(positions)
        records = read(source, 10)
        assert_nothing_more(source)
    assert sorted(r.value for r in records) == fresh


def test_acknowledge_then_reopen_gives_unacknowledged_records_again(
    backend: SourceBackend,
) -> None:
    backend.produce(numbered("acked", 30))
    with backend.source() as source:
        source.open({})
        acked = last_positions(read(source, 30))
        source.acknowledge(acked)
        pending = numbered("pending", 6)
        backend.produce(pending)  # read after the acknowledgement but never acknowledged
        assert sorted(r.value for r in read(source, 6)) == pending
    with backend.source() as source:
        source.open(acked)
        again = read(source, 6)
        assert_nothing_more(source)
    assert sorted(r.value for r in again) == pending
    assert_ordered(again, pending)


def test_records_produced_while_open_are_read(backend: SourceBackend) -> None:
    with backend.source() as source:
        source.open({})
        assert source.poll(10, 0.3) == []
        live = numbered("live", 5)
        backend.produce(live)
        assert sorted(r.value for r in read(source, 5)) == live


def test_empty_poll_returns_an_empty_list_within_the_timeout(backend: SourceBackend) -> None:
    with backend.source() as source:
        source.open({})
        for timeout in (0.0, 0.3, 0.3):
            started = time.monotonic()
            assert source.poll(10, timeout) == []
            assert time.monotonic() - started < timeout + 1.5
        backend.produce(numbered("one", 1))
        read(source, 1)
        started = time.monotonic()
        assert source.poll(10, 0.3) == []
        assert time.monotonic() - started < 1.8


def test_poll_gives_at_most_max_records(backend: SourceBackend) -> None:
    produced = numbered("rec", 25)
    backend.produce(produced)
    with backend.source() as source:
        source.open({})
        records: list[StreamRecord] = []
        deadline = time.monotonic() + READ_TIMEOUT
        while len(records) < 25 and time.monotonic() < deadline:
            batch = source.poll(7, 1.0)
            assert len(batch) <= 7
            records += batch
    assert sorted(r.value for r in records) == produced


def test_lag_is_zero_once_everything_is_read(backend: SourceBackend) -> None:
    backend.produce(numbered("rec", 20))
    with backend.source() as source:
        source.open({})
        read(source, 20)
        deadline = time.monotonic() + 10
        lag = source.lag()
        while any(lag.values()) and time.monotonic() < deadline:
            source.poll(10, 0.2)  # lets the client refresh what it knows of the log's end
            lag = source.lag()
    assert all(isinstance(v, int) for v in lag.values())
    assert lag == dict.fromkeys(lag, 0)


def test_close_is_safe_twice_and_before_open(backend: SourceBackend) -> None:
    unopened = backend.source()
    unopened.close()
    unopened.close()
    backend.produce(numbered("rec", 3))
    source = backend.source()
    source.open({})
    read(source, 3)
    source.close()
    source.close()
