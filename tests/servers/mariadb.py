"""A real, throw-away MariaDB server for tests.

:func:`run_mariadb` runs ``mariadb-install-db`` and ``mariadbd`` from Debian's ``mariadb-server``
package in a fresh temporary folder, on a free 127.0.0.1 port with its unix socket in that
folder, creates a password-protected user that may do everything, and removes everything
afterwards. The session fixture ``mariadb_server`` wraps it (import it into a conftest). Under
root the server runs as root (``--user=root``). Missing binaries fail the test with the fix
(``scripts/install-system-deps.sh``); they never skip.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.servers.postgres import free_port

USER = "lakebed"
PASSWORD = "lakebed-secret"
_counter = itertools.count()


@dataclass(frozen=True)
class MariaDBServer:
    """A running MariaDB server; ``url()`` gives a SQLAlchemy URL for one of its databases."""

    host: str
    port: int
    socket: Path
    user: str
    password: str
    database: str

    def url(self, database: str | None = None) -> str:
        return (
            f"mysql+pymysql://{self.user}:{self.password}@{self.host}:{self.port}/"
            f"{database or self.database}"
        )

    def connect(self, database: str | None = None) -> Any:
        """A pymysql connection (autocommit) to ``database``, for setting up test data."""
        import pymysql

        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=database or self.database,
            autocommit=True,
        )

    def create_database(self, label: str = "t") -> str:
        """Create a new, uniquely named database and return its name."""
        name = f"{label}_{os.getpid()}_{next(_counter)}"
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE `{name}`")
        finally:
            conn.close()
        return name


def _binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if not found:
        pytest.fail(
            f"MariaDB server binary {name} is not installed; "
            "run scripts/install-system-deps.sh to install the mariadb-server package"
        )
    return found


def _wait_ready(
    socket_path: Path, proc: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    import pymysql

    deadline = time.monotonic() + timeout
    while True:
        try:
            # pymysql leaks its socket when the connect itself is refused, so probe the socket
            # with one we close before handing over to pymysql.
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.connect(str(socket_path))
            pymysql.connect(unix_socket=str(socket_path), user="root").close()
            return
        except (OSError, pymysql.err.OperationalError) as exc:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                pytest.fail(f"MariaDB did not accept connections on {socket_path}: {exc}\n{tail}")
            time.sleep(0.1)


@contextmanager
def run_mariadb(database: str = "lakebed", timeout: float = 60.0) -> Iterator[MariaDBServer]:
    """Start a MariaDB server in a temporary folder; stop and delete it afterwards."""
    install_db, mariadbd = _binary("mariadb-install-db"), _binary("mariadbd")
    root = Path(tempfile.mkdtemp(prefix="lakebed-mariadb-"))
    data, log, sock = root / "data", root / "server.log", root / "mariadb.sock"
    user_args = ["--user=root"] if os.geteuid() == 0 else []
    port = free_port()
    proc: subprocess.Popen[bytes] | None = None
    try:
        init = subprocess.run(
            [
                install_db,
                "--no-defaults",
                f"--datadir={data}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
                *user_args,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",
        )
        if init.returncode != 0:
            pytest.fail(
                f"mariadb-install-db failed ({init.returncode}):\n{init.stdout}\n{init.stderr}"
            )
        with log.open("wb") as log_file:
            proc = subprocess.Popen(
                [
                    mariadbd,
                    "--no-defaults",
                    f"--datadir={data}",
                    f"--socket={sock}",
                    f"--port={port}",
                    "--bind-address=127.0.0.1",
                    f"--pid-file={root / 'mariadbd.pid'}",
                    f"--log-error={log}",
                    "--skip-name-resolve",
                    "--innodb-flush-log-at-trx-commit=0",
                    "--innodb-buffer-pool-size=64M",
                    "--skip-log-bin",
                    *user_args,
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd="/",
            )
        _wait_ready(sock, proc, log, timeout)
        import pymysql

        conn = pymysql.connect(unix_socket=str(sock), user="root", autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'")
                cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'%'")
                cur.execute(f"CREATE DATABASE `{database}`")
        finally:
            conn.close()
        yield MariaDBServer("127.0.0.1", port, sock, USER, PASSWORD, database)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDBServer]:
    """One MariaDB server for the whole test session."""
    with run_mariadb() as server:
        yield server
