"""A real, throw-away PostgreSQL server for tests.

:func:`run_postgres` runs ``initdb`` and ``pg_ctl`` from Debian's ``postgresql`` package in a
fresh temporary folder, on a free 127.0.0.1 port with trust authentication, creates a database,
and removes everything afterwards. The session fixture ``postgres_server`` wraps it (import it
into a conftest). ``initdb`` refuses to run as root, so under root the cluster runs as the
``postgres`` system user (created by the Debian package). Missing binaries fail the test with
the fix (``scripts/install-system-deps.sh``); they never skip.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "postgres"
_counter = itertools.count()


@dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL server; ``url()`` gives a SQLAlchemy URL for one of its databases."""

    host: str
    port: int
    user: str
    database: str

    def url(self, database: str | None = None) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database or self.database}"

    def create_database(self, label: str = "t") -> str:
        """Create a new, uniquely named database and return its name."""
        import psycopg2

        name = f"{label}_{os.getpid()}_{next(_counter)}"
        conn = psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname="postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return name


def find_bin_dir() -> Path:
    """The folder with ``initdb`` and ``pg_ctl``: Debian's newest version, else the PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
    )
    for folder in reversed(candidates):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    pytest.fail(
        "PostgreSQL server binaries (initdb, pg_ctl) are not installed; "
        "run scripts/install-system-deps.sh to install the postgresql package"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_user_prefix() -> list[str]:
    """Command prefix that runs the server as an unprivileged user when we are root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        pytest.fail(
            "running as root but there is no 'postgres' system user to run PostgreSQL as; "
            "run scripts/install-system-deps.sh (the postgresql package creates it)"
        )
    runuser = shutil.which("runuser")
    return [runuser, "-u", SUPERUSER, "--"] if runuser else ["su", SUPERUSER, "-s", "/bin/sh", "-c"]


def _run(prefix: list[str], args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    if prefix and prefix[0] == "su":  # su takes one shell command string
        import shlex

        command = [*prefix, " ".join(shlex.quote(a) for a in args)]
    else:
        command = [*prefix, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd="/")


def _wait_ready(port: int, log: Path, timeout: float) -> None:
    import psycopg2

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg2.connect(host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres").close()
            return
        except psycopg2.OperationalError as exc:
            if time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                pytest.fail(f"PostgreSQL did not accept connections on {port}: {exc}\n{tail}")
            time.sleep(0.1)


@contextmanager
def run_postgres(database: str = "lakebed", timeout: float = 60.0) -> Iterator[PostgresServer]:
    """Start a PostgreSQL cluster in a temporary folder; stop and delete it afterwards."""
    bin_dir = find_bin_dir()
    prefix = _as_user_prefix()
    # Not under pytest's tmp_path: that is private to root, and the server may run as postgres.
    root = Path(tempfile.mkdtemp(prefix="lakebed-pg-"))
    data, log = root / "data", root / "server.log"
    data.mkdir()
    if prefix:
        entry = pwd.getpwnam(SUPERUSER)
        for path in (root, data):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = free_port()
    started = False
    try:
        init = _run(
            prefix,
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ],
            timeout,
        )
        if init.returncode != 0:
            pytest.fail(f"initdb failed ({init.returncode}):\n{init.stdout}\n{init.stderr}")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        start = _run(
            prefix,
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ],
            timeout + 10,
        )
        started = True
        if start.returncode != 0:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            pytest.fail(f"pg_ctl start failed ({start.returncode}):\n{start.stderr}\n{tail}")
        _wait_ready(port, log, timeout)
        server = PostgresServer("127.0.0.1", port, SUPERUSER, database)
        import psycopg2

        conn = psycopg2.connect(host=server.host, port=port, user=SUPERUSER, dbname="postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{database}"')
        finally:
            conn.close()
        yield server
    finally:
        if started:
            _run(
                prefix,
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                60,
            )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole test session."""
    with run_postgres() as server:
        yield server
