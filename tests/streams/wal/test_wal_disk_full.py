"""A full disk under the write-ahead log: the append fails with a StorageError naming the
directory and the fix, nothing of the failed batch is kept, and the log stays readable and
reopens cleanly. Two real ways to fill it: a 1 MiB tmpfs (needs root to mount) and a file-size
limit (RLIMIT_FSIZE, EFBIG) in a child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakebed.errors import StorageError
from lakebed.streams.wal import WalSource, WriteAheadLog


def read_all(directory: Path) -> list[tuple[int, bytes]]:
    with WalSource(directory) as source:
        source.open({})
        out = []
        while batch := source.poll(1000, 0.05):
            out.extend((int(r.position), r.value) for r in batch)
        return out


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; test_file_size_limit covers the same path")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)])
    if done.returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_full_tmpfs(tiny_disk: Path) -> None:
    directory = tiny_disk / "wal"
    ballast = tiny_disk / "ballast"
    ballast.write_bytes(b"\0" * 200_000)
    written: list[tuple[int, bytes]] = []
    with WriteAheadLog(directory, segment_bytes=300_000) as wal:
        with pytest.raises(StorageError) as caught:
            for i in range(100):
                batch = [bytes([i % 256]) * 30_000, bytes([i % 256]) * 20_000]
                seqs = wal.append(batch)
                written.extend((int(s), v) for s, v in zip(seqs, batch, strict=True))  # type: ignore[arg-type]
        error = caught.value
        assert str(directory) in error.message and "full" in error.message
        assert error.fix and "free disk space" in error.fix and error.transient
        assert len(written) > 10
        assert read_all(directory) == written
        # Space comes back: the log goes on from where it was, numbering included.
        ballast.unlink()
        assert wal.append([b"after"]) == [len(written) + 1]
    with WriteAheadLog(directory) as wal:
        assert wal.last_sequence == len(written) + 1
    assert read_all(directory) == [*written, (len(written) + 1, b"after")]


CHILD = textwrap.dedent(
    """
    import json, resource, signal, sys
    from lakebed.errors import StorageError
    from lakebed.streams.wal import WriteAheadLog
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))
    done = []
    with WriteAheadLog(sys.argv[1]) as wal:
        try:
            for i in range(100):
                done.extend(wal.append([str(i).encode() * 5000, b"tail" * 1000]))
        except StorageError as exc:
            print(json.dumps({"seqs": done, "message": exc.message, "fix": exc.fix}))
    """
)


def test_file_size_limit(tmp_path: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True, check=True
    )
    report = json.loads(child.stdout)
    assert str(tmp_path) in report["message"] and "full" in report["message"]
    assert "free disk space" in report["fix"]
    seqs = report["seqs"]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) > 4
    segment = next(tmp_path.glob("*.wal"))
    assert segment.stat().st_size < 150_000  # the partial frame was cut off
    with WriteAheadLog(tmp_path) as wal:
        assert wal.last_sequence == len(seqs)
    assert [seq for seq, _ in read_all(tmp_path)] == seqs
