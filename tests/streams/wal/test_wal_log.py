"""The write-ahead log: durable appends, rotation, record-id dedupe (also across a reopen),
oversize records, a torn last frame, and the one-writer lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lakebed.errors import ConfigError, StorageError
from lakebed.streams.records import RecordError, StreamRecord
from lakebed.streams.wal import HttpSourceConfig, WalSource, WriteAheadLog


def read_all(directory: Path, after: int | None = None) -> list[StreamRecord]:
    with WalSource(directory) as source:
        source.open({} if after is None else {"http": after})
        out: list[StreamRecord] = []
        while batch := source.poll(1000, 0.05):
            out.extend(batch)
        return out


def segments(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.wal"))


def test_append_returns_sequence_numbers_and_records_read_back(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path / "wal") as wal:
        assert wal.append([b'{"a": 1}', b"", b"\x00\xff"]) == [1, 2, 3]
        assert wal.append([b"four"], ["id-4"]) == [4]
        assert wal.last_sequence == 4
    records = read_all(tmp_path / "wal")
    assert [(r.position, r.value, r.record_id) for r in records] == [
        (1, b'{"a": 1}', None),
        (2, b"", None),
        (3, b"\x00\xff", None),
        (4, b"four", "id-4"),
    ]
    assert {r.partition for r in records} == {"http"}
    assert all(abs(r.timestamp_ms - time.time() * 1000) < 60_000 for r in records)  # type: ignore[operator]


def test_numbering_continues_after_reopen(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path) as wal:
        wal.append([b"a", b"b"])
    with WriteAheadLog(tmp_path) as wal:
        assert wal.last_sequence == 2
        assert wal.append([b"c"]) == [3]
    assert [r.value for r in read_all(tmp_path)] == [b"a", b"b", b"c"]


def test_segments_rotate_at_segment_bytes_and_read_across(tmp_path: Path) -> None:
    payload = b"x" * 500
    with WriteAheadLog(tmp_path, segment_bytes=2048) as wal:
        for _ in range(20):
            wal.append([payload])
    names = segments(tmp_path)
    assert len(names) == 7  # three 526-byte frames fit in 2048 bytes
    assert names[:2] == ["00000000000000000001.wal", "00000000000000000004.wal"]
    assert all((tmp_path / n).stat().st_size <= 2048 for n in names)
    assert [r.position for r in read_all(tmp_path)] == list(range(1, 21))
    assert [r.position for r in read_all(tmp_path, after=11)] == list(range(12, 21))


def test_record_id_dedupes_within_the_batch_across_batches_and_after_reopen(
    tmp_path: Path,
) -> None:
    with WriteAheadLog(tmp_path) as wal:
        assert wal.append([b"a", b"b", b"a-again"], ["A", "B", "A"]) == [1, 2, 1]
        assert wal.append([b"b-retry", b"c"], ["B", None]) == [2, 3]
    with WriteAheadLog(tmp_path) as wal:
        assert wal.append([b"a-after-restart", b"d"], ["A", "D"]) == [1, 4]
    assert [r.value for r in read_all(tmp_path)] == [b"a", b"b", b"c", b"d"]


def test_record_ids_older_than_the_window_are_written_again(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path, dedupe_window_s=0.2) as wal:
        assert wal.append([b"a"], ["A"]) == [1]
        assert wal.append([b"a"], ["A"]) == [1]
        time.sleep(0.3)
        assert wal.append([b"a"], ["A"]) == [2]


def test_oversize_records_get_an_error_in_their_slot(tmp_path: Path) -> None:
    with WriteAheadLog(tmp_path, max_record_bytes=10) as wal:
        result = wal.append([b"ok", b"x" * 11, b"ok too"], ["1", "2", "3"])
        assert result[0] == 1 and result[2] == 2
        error = result[1]
        assert isinstance(error, RecordError) and error.kind == "oversize"
        assert "11 bytes" in error.reason and "max_record_bytes" in error.reason
        long_id = wal.append([b"v"], ["i" * 2000])[0]
        assert isinstance(long_id, RecordError) and "record id" in long_id.reason
        with pytest.raises(ConfigError, match="2 values but 1 record ids"):
            wal.append([b"a", b"b"], ["x"])
    assert [r.value for r in read_all(tmp_path)] == [b"ok", b"ok too"]


@pytest.mark.parametrize("damage", ["short", "bad_crc", "half_header"])
def test_a_torn_last_frame_is_cut_off_on_open(tmp_path: Path, damage: str) -> None:
    with WriteAheadLog(tmp_path) as wal:
        wal.append([b"first", b"second" * 100])
    segment = tmp_path / segments(tmp_path)[0]
    data = segment.read_bytes()
    good = len(data) - (26 + 600)
    if damage == "short":
        segment.write_bytes(data[:-10])
    elif damage == "bad_crc":
        segment.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    else:
        segment.write_bytes(data[: good + 7])
    with WriteAheadLog(tmp_path) as wal:
        assert segment.stat().st_size == good
        assert wal.last_sequence == 1
        assert wal.append([b"new second"]) == [2]
    assert [r.value for r in read_all(tmp_path)] == [b"first", b"new second"]


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path)
    with pytest.raises(StorageError) as caught:
        WriteAheadLog(tmp_path)
    assert str(tmp_path) in str(caught.value) and f"process {os.getpid()}" in str(caught.value)
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from lakebed.streams.wal import WriteAheadLog; WriteAheadLog(sys.argv[1])",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert other.returncode != 0
    assert f"already open for writing by process {os.getpid()}" in other.stderr
    wal.close()
    wal.close()
    with pytest.raises(StorageError, match="closed"):
        wal.append([b"late"])
    with WriteAheadLog(tmp_path) as again:  # the lock went with close()
        assert again.append([b"x"]) == [1]


def test_concurrent_appends_from_threads_get_distinct_numbers(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with WriteAheadLog(tmp_path) as wal:

        def put(i: int) -> list[int | RecordError]:
            return wal.append([f"{i}-{j}".encode() for j in range(5)])

        with ThreadPoolExecutor(8) as pool:
            results = [seq for batch in pool.map(put, range(40)) for seq in batch]
    assert sorted(results) == list(range(1, 201))  # type: ignore[type-var]
    records = read_all(tmp_path)
    assert len({r.value for r in records}) == 200


def test_http_source_config_rejects_unknown_keys_and_opens_the_log(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="extra"):
        HttpSourceConfig.model_validate({"type": "http", "dedupe_windows": 3})
    config = HttpSourceConfig(max_record_bytes=4)
    with config.open_log(tmp_path) as wal:
        assert isinstance(wal.append([b"12345"])[0], RecordError)
        assert wal.append([b"1234"]) == [1]
    with config.open_source("s", tmp_path) as source:
        source.open({})
        assert [r.value for r in source.poll(10, 0.1)] == [b"1234"]
    assert (tmp_path / "wal").is_dir()


def test_a_torn_length_field_does_not_make_open_read_gigabytes(tmp_path: Path) -> None:
    import struct

    from lakebed.streams.wal import format as fmt

    with WriteAheadLog(tmp_path) as wal:
        wal.append([b"a" * 100, b"b" * 100])
    segment = tmp_path / segments(tmp_path)[0]
    good = segment.stat().st_size
    with segment.open("ab") as handle:  # a header claiming a 4 GB payload, then junk
        handle.write(struct.pack("<IIQqH", 0xFFFFFFF0, 0, 3, 0, 0) + b"j" * 500)
    items = list(fmt.scan(segment, chunk_bytes=64))
    assert [f.seq for _, f in items if f] == [1, 2] and items[-1] == (good, None)
    with WriteAheadLog(tmp_path) as wal:
        assert segment.stat().st_size == good and wal.append([b"c"]) == [3]
