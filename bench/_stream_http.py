"""The HTTP side of ``stream_http``: the server process, the load generator and the fsync peer.

The server is ``lakebed --lake ROOT serve`` in a process of its own on a free port, so client
threads in this process do not share its interpreter. Request bodies are built before timing:
Firehose-style ``{"Records": [{"Data": "<base64>"}, ...]}``, :data:`BATCH` records of 1 KiB.

A load is a list of *sends* spread over client threads. Closed loop (``interval_s=None``): each
thread sends its next batch when the last is acknowledged (maximum throughput). Open loop
(``interval_s``): batch ``k`` is due at ``start + k * interval_s`` whoever sends it, and its
latency counts from when it was due, so a slow answer that delays later sends is charged to
them too (no coordinated omission).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from bench import _stream_data
from bench.common import REPO_ROOT

BATCH = 500
CLIENTS = 4
_SERVE = "import sys; from lakebed.cli import main; sys.exit(main(sys.argv[1:]))"


@dataclass(frozen=True)
class Batch:
    """One PutRecordBatch body and the same records as a length-prefixed blob for the peer."""

    body: bytes
    blob: bytes
    records: int


def make_batches(count: int, size: int = BATCH) -> list[Batch]:
    """``count`` distinct batches of ``size`` records (records ``0 .. count*size-1``)."""
    out = []
    for n in range(count):
        values = _stream_data.encoded(n * size, size)
        body = json.dumps({"Records": [{"Data": base64.b64encode(v).decode()} for v in values]})
        blob = b"".join(len(v).to_bytes(4, "little") + v for v in values)
        out.append(Batch(body.encode(), blob, size))
    return out


@dataclass
class Sent:
    """One acknowledged batch: when it was due and answered (epoch s), its sequence numbers."""

    due: float
    acked: float
    first_seq: int = 0
    last_seq: int = 0

    @property
    def latency_ms(self) -> float:
        return (self.acked - self.due) * 1000


@dataclass
class Load:
    """What one load produced: every acknowledged batch, wall seconds, and failures."""

    sent: list[Sent] = field(default_factory=list)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(s.last_seq - s.first_seq + 1 for s in self.sent) if self.sent else 0


#: Sends batch ``index``; returns (first, last) sequence numbers (the peer: a counter).
Sender = Callable[[Batch], tuple[int, int]]
#: Makes one client thread's sender and the function that closes it.
SenderFactory = Callable[[], tuple[Sender, Callable[[], None]]]


def drive(
    make_sender: SenderFactory,
    batches: list[Batch],
    total: int,
    *,
    clients: int = CLIENTS,
    interval_s: float | None = None,
) -> Load:
    """Send ``total`` batches (cycling through ``batches``) from ``clients`` threads; each
    thread gets its own sender from ``make_sender`` (which also returns how to close it)."""
    load = Load()
    lock = threading.Lock()
    counter = iter(range(total))
    start = time.time() + 0.05

    def worker() -> None:
        send, close = make_sender()
        try:
            while True:
                with lock:
                    k = next(counter, None)
                if k is None or load.errors:
                    return
                due = time.time() if interval_s is None else start + k * interval_s
                if interval_s is not None and (wait := due - time.time()) > 0:
                    time.sleep(wait)
                try:
                    first, last = send(batches[k % len(batches)])
                except Exception as exc:
                    with lock:
                        load.errors.append(f"batch {k}: {type(exc).__name__}: {exc}")
                    return
                acked = time.time()
                with lock:
                    load.sent.append(Sent(due, acked, first, last))
        finally:
            close()

    threads = [threading.Thread(target=worker, name=f"bench-client-{i}") for i in range(clients)]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.seconds = time.perf_counter() - begin
    return load


def http_sender(base_url: str, stream: str) -> tuple[Sender, Callable[[], None]]:
    """A PutRecordBatch client (one keep-alive connection) for ``stream``."""
    import httpx2 as httpx

    client = httpx.Client(base_url=base_url, timeout=60.0)
    url = f"/streams/{stream}/records:batch"
    headers = {"Content-Type": "application/json"}

    def send(batch: Batch) -> tuple[int, int]:
        answer = client.post(url, content=batch.body, headers=headers)
        if answer.status_code != 200:
            raise RuntimeError(f"HTTP {answer.status_code}: {answer.text[:200]}")
        data = answer.json()
        if data["FailedPutCount"]:
            raise RuntimeError(
                f"{data['FailedPutCount']} records failed: {data['RequestResponses'][:1]}"
            )
        seqs = [r["SequenceNumber"] for r in data["RequestResponses"]]
        return min(seqs), max(seqs)

    return send, client.close


class FsyncFile:
    """The peer: append each batch to one file and fsync before answering."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.count = 0
        self.lock = threading.Lock()

    def sender(self) -> tuple[Sender, Callable[[], None]]:
        def send(batch: Batch) -> tuple[int, int]:
            os.write(self.fd, batch.blob)
            os.fsync(self.fd)
            with self.lock:
                first = self.count + 1
                self.count += batch.records
            return first, first + batch.records - 1

        return send, lambda: None

    def close(self) -> None:
        os.close(self.fd)


@contextmanager
def serve(root: Path, port: int, timeout: float = 60.0) -> Iterator[str]:
    """``lakebed --lake root serve --port port`` in its own process; yields its base URL."""
    import httpx2 as httpx

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_ROOT / "src"), env.get("PYTHONPATH")])
    )
    log_path = root.parent / f"serve-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", _SERVE, "--lake", str(root), "serve", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"lakebed serve exited ({proc.returncode}): {_tail(log_path)}")
            with suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"lakebed serve did not answer within {timeout:.0f} s: {_tail(log_path)}"
                )
            time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-1500:] if path.exists() else "(no output)"
