"""A real, throw-away Redis server for tests.

:func:`run_redis` starts ``redis-server`` from Debian's ``redis-server`` package on a free
127.0.0.1 port, with its working folder in a fresh temporary directory and persistence off, and
kills it afterwards. The session fixture ``redis_server`` (its URL, ``redis://127.0.0.1:PORT/0``)
wraps it; register the plugin (``tests.servers.redis``) or import the fixture into a conftest.
A missing binary fails the test with the fix (``scripts/install-system-deps.sh``); it never skips.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def find_redis_server() -> str:
    """The ``redis-server`` binary, or a test failure saying how to install it."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if not found:
        pytest.fail(
            "redis-server is not installed; run scripts/install-system-deps.sh "
            "(apt-get install redis-server)"
        )
    return found


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            pytest.fail(f"redis-server exited with {process.returncode}:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"redis-server did not answer on port {port}:\n{_tail(log)}")
        time.sleep(0.05)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


@contextmanager
def run_redis(timeout: float = 30.0) -> Iterator[str]:
    """Start ``redis-server`` in a temporary folder; yields its URL; kills it and deletes the
    folder afterwards."""
    binary = find_redis_server()
    root = Path(tempfile.mkdtemp(prefix="lakebed-redis-"))
    log = root / "redis.log"
    port = free_port()
    command = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(root),
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--protected-mode", "no",
        "--logfile", str(log),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_ready(port, process, log, timeout)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The URL of one Redis server shared by the whole test session."""
    with run_redis() as url:
        yield url
