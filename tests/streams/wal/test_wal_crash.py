"""SIGKILL a writer mid-batch, again and again: every sequence number ``append`` returned is
readable afterwards, exactly once, with its payload; the log reopens cleanly each time; and a
client that retries its unacknowledged batch with the same record ids gets no duplicates."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from lakebed.streams.wal import WalSource, WriteAheadLog
from lakebed.streams.wal import format as fmt

CHILD = textwrap.dedent(
    """
    import sys
    from lakebed.streams.wal import WriteAheadLog

    def batch(round_, n):
        ids = [f"{round_}-{n}-{i}" for i in range(150)]
        return [(rid + ":").encode() + b"p" * (500 + 37 * i) for i, rid in enumerate(ids)], ids

    directory, round_, retry = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    wal = WriteAheadLog(directory, segment_bytes=1 << 20)
    if retry != "-":  # the batch the previous run never got an answer for, sent again
        r, n = retry.split("/")
        values, ids = batch(r, n)
        print("ack", r, n, *wal.append(values, ids), flush=True)
    print("ready", flush=True)
    n = 0
    while True:
        values, ids = batch(round_, n)
        print("ack", round_, n, *wal.append(values, ids), flush=True)
        n += 1
    """
)


def on_disk(directory: Path) -> int:
    """The highest sequence number in whole frames on disk, durable-published or not."""
    return max(
        (
            frame.seq
            for _, path in fmt.list_segments(directory)
            for _, frame in fmt.scan(path)
            if frame
        ),
        default=0,
    )


def test_sigkill_mid_batch_loses_no_acknowledged_record(tmp_path: Path) -> None:
    rng = random.Random(7)
    acknowledged: dict[int, str] = {}  # sequence number -> record id
    retry = "-"
    caught_mid_append = 0
    for round_ in range(8):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path), str(round_), retry],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        lines = []
        while (line := child.stdout.readline()) and not line.startswith("ready"):
            lines.append(line)
        assert line.startswith("ready"), "the writer did not start"
        time.sleep(rng.uniform(0.05, 0.25))
        child.send_signal(signal.SIGKILL)
        lines.extend(child.stdout.readlines())
        child.stdout.close()
        assert child.wait() == -signal.SIGKILL
        last = -1
        for line in lines:
            if not line.endswith("\n"):
                continue  # cut off by the kill: the client never got this answer
            _ack, r, n, *seqs = line.split()
            ids = [f"{r}-{n}-{i}" for i in range(150)]
            for seq, rid in zip(seqs, ids, strict=True):
                assert acknowledged.setdefault(int(seq), rid) == rid
            if int(r) == round_:
                last = int(n)
        retry = f"{round_}/{last + 1}"  # the in-flight batch at the kill
        if on_disk(tmp_path) > max(acknowledged):
            caught_mid_append += 1  # written, not yet answered: the kill hit inside append()

    with WriteAheadLog(tmp_path) as wal:  # reopens cleanly after the last kill
        final = wal.last_sequence
    with WalSource(tmp_path) as source:
        source.open({})
        records = []
        while batch := source.poll(5000, 0.05):
            records.extend(batch)
    positions = [int(r.position) for r in records]
    assert positions == list(range(1, final + 1))  # each once, in order, no gaps
    by_seq = {int(r.position): r for r in records}
    for seq, rid in acknowledged.items():
        assert by_seq[seq].record_id == rid
        assert by_seq[seq].value.startswith(f"{rid}:".encode())
    ids = [r.record_id for r in records]
    assert len(ids) == len(set(ids)), "a retried record was written twice"
    assert len(acknowledged) > 1000
    assert caught_mid_append > 0, "no kill landed inside append(); the test proved nothing"
    assert len(list(tmp_path.glob("*.wal"))) > 1  # the kills also hit across rotations
