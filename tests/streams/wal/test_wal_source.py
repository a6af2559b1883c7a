"""``WalSource``: tails the log from another process, resumes after a position, reads only
durable records, and discards acknowledged segments (never the one being written)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from lakebed.streams.wal import WalSource, WriteAheadLog
from lakebed.streams.wal import format as fmt


def test_resume_after_a_position_and_lag(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path, segment_bytes=1024) as wal:
        wal.append([f"r{i}".encode() * 40 for i in range(1, 31)])
        wal.append([f"s{i}".encode() * 40 for i in range(1, 11)])
        with WalSource(tmp_path) as source:
            source.open({"http": 25, "other": 3})
            assert source.lag() == {"http": 15}
            first = source.poll(10, 0.1)
            assert [r.position for r in first] == list(range(26, 36))
            assert source.lag() == {"http": 5}
            assert [r.position for r in source.poll(100, 0.1)] == list(range(36, 41))
            assert source.poll(100, 0.05) == []
            assert source.lag() == {"http": 0}


def test_poll_waits_for_records_written_by_another_process(tmp_path: Path) -> None:
    writer = textwrap.dedent(
        """
        import sys, time
        from lakebed.streams.wal import WriteAheadLog
        with WriteAheadLog(sys.argv[1], segment_bytes=4096) as wal:
            for i in range(50):
                wal.append([f"{i}-{j}".encode() * 20 for j in range(4)])
                time.sleep(0.005)
        """
    )
    with WalSource(tmp_path) as source:
        source.open({})
        assert source.poll(10, 0.05) == []  # nothing there yet: waits, then returns empty
        child = subprocess.Popen([sys.executable, "-c", writer, str(tmp_path)])
        records = []
        deadline = time.monotonic() + 30
        while len(records) < 200 and time.monotonic() < deadline:
            records.extend(source.poll(64, 0.5))
        assert child.wait(30) == 0
        assert [r.position for r in records] == list(range(1, 201))
        assert records[-1].value == b"49-3" * 20
        assert len(list(tmp_path.glob("*.wal"))) == 6  # 9 batches of 424 bytes per segment


def test_records_past_the_durable_mark_are_not_read(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path) as wal:
        wal.append([b"synced"])
        # A frame already in the file but not yet fsynced and published (as mid-append).
        segment = tmp_path / fmt.segment_name(1)
        with segment.open("ab") as handle:
            handle.write(fmt.encode(2, 0, None, b"in flight"))
        with WalSource(tmp_path) as source:
            source.open({})
            assert [r.value for r in source.poll(10, 0.05)] == [b"synced"]
            assert source.poll(10, 0.05) == []


def test_a_record_larger_than_the_read_chunk(tmp_path: Path) -> None:
    big = os.urandom(300_000)
    with WriteAheadLog(tmp_path) as wal:
        wal.append([b"small", big, b"after"])
    with WalSource(tmp_path, chunk_bytes=65536) as source:
        source.open({})
        assert [r.value for r in source.poll(10, 0.1)] == [b"small", big, b"after"]


def test_acknowledge_deletes_delivered_segments_but_never_the_active_one(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path, segment_bytes=1024, dedupe_window_s=0) as wal:
        for i in range(12):
            wal.append([bytes([65 + i]) * 400])  # two frames per segment
        names = sorted(p.name for p in tmp_path.glob("*.wal"))
        assert len(names) == 6
        with WalSource(tmp_path, dedupe_window_s=0) as source:
            source.open({})
            assert len(source.poll(100, 0.1)) == 12
            source.acknowledge({"http": 5})  # segments 1-2 and 3-4 are wholly delivered
            assert sorted(p.name for p in tmp_path.glob("*.wal")) == names[2:]
            source.acknowledge({"http": 12})
            assert sorted(p.name for p in tmp_path.glob("*.wal")) == names[-1:]
        assert wal.append([b"still writable"]) == [13]
        with WalSource(tmp_path) as source:
            source.open({"http": 12})
            assert [r.value for r in source.poll(10, 0.1)] == [b"still writable"]
        # Resuming from before what was deleted starts at the oldest record still there.
        with WalSource(tmp_path) as source:
            source.open({"http": 3})
            assert [r.position for r in source.poll(10, 0.1)] == [11, 12, 13]


def test_segments_within_the_dedupe_window_are_kept_until_it_passes(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path, segment_bytes=1024, dedupe_window_s=300) as wal:
        for i in range(6):
            wal.append([b"z" * 400], [f"id-{i}"])
        with WalSource(tmp_path, dedupe_window_s=300) as source:
            source.open({})
            source.poll(100, 0.1)
            source.acknowledge({"http": 6})
            assert len(list(tmp_path.glob("*.wal"))) == 3
    # A client retry after a restart is still recognised, from the kept segments.
    with WriteAheadLog(tmp_path, segment_bytes=1024) as wal:
        assert wal.append([b"z" * 400], ["id-0"]) == [1]
