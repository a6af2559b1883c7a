"""The behaviour-suite backend for the write-ahead log works on its own (the shared suite in
tests/streams/sources runs it against every source)."""

from __future__ import annotations

from pathlib import Path

from tests.streams.sources.backends_wal import wal_backend


def test_produce_read_resume_acknowledge(tmp_path: Path) -> None:
    with wal_backend(tmp_path) as backend:
        backend.produce([f"v{i}".encode() * 100 for i in range(30)], key=b"ignored")
        with backend.source() as source:
            source.open({})
            first = source.poll(20, 1.0)
            assert [r.position for r in first] == list(range(1, 21))
            assert {r.partition for r in first} == {"http"}
            source.acknowledge({"http": 20})
        with backend.source() as source:
            source.open({"http": 20})
            assert [r.value for r in source.poll(100, 1.0)] == [
                f"v{i}".encode() * 100 for i in range(20, 30)
            ]
