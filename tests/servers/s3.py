"""Real S3-compatible servers for tests: moto in server mode and a Ceph RADOS Gateway.

Use the session fixtures ``moto_s3`` and ``ceph_s3`` (import them into a conftest, or list this
module in ``pytest_plugins`` of the root conftest so every package shares one server), or the
context managers :func:`run_moto` / :func:`run_ceph` directly. Each yields an
:class:`S3Endpoint` with the URL and keys; tests create their own buckets with
:meth:`S3Endpoint.create_bucket` (or share one and use a unique prefix per test).

Ceph comes from ``scripts/ceph/start.sh``; if its packages are missing the fixture fails (never
skips) and says to run ``scripts/install-system-deps.sh``.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lakebed.config import S3Config

REPO = Path(__file__).resolve().parents[2]
CEPH_SCRIPTS = REPO / "scripts" / "ceph"
CEPH_TOOLS = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "monmaptool")
_counter = itertools.count()


@dataclass(frozen=True)
class S3Endpoint:
    """A running S3-compatible server: where it is and the keys of a user allowed everything."""

    name: str
    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    region: str = "us-east-1"

    def s3_config(self, **overrides: Any) -> S3Config:
        """lakebed's S3 settings for this server (path-style addressing)."""
        values: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "region": self.region,
            "path_style": True,
        }
        values.update(overrides)
        return S3Config(**values)

    def env(self) -> dict[str, str]:
        """``LAKEBED_S3_*`` variables (and the AWS checksum policy) that point at this server."""
        return {
            "LAKEBED_S3_ENDPOINT_URL": self.endpoint_url,
            "LAKEBED_S3_ACCESS_KEY_ID": self.access_key_id,
            "LAKEBED_S3_SECRET_ACCESS_KEY": self.secret_access_key,
            "LAKEBED_S3_REGION": self.region,
            "AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_REQUIRED",
            "AWS_RESPONSE_CHECKSUM_VALIDATION": "WHEN_REQUIRED",
        }

    def client(self) -> Any:
        """A plain boto3 client for setup and for checking what lakebed wrote."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name=self.region,
            config=Config(
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def create_bucket(self, label: str = "test") -> str:
        """Create a new, uniquely named bucket and return its name."""
        name = unique_bucket_name(label)
        self.client().create_bucket(Bucket=name)
        return name


def unique_bucket_name(label: str = "test") -> str:
    """A valid bucket name no other test uses."""
    clean = "".join(c for c in label.lower() if c.isalnum() or c == "-")[:30].strip("-") or "t"
    return f"{clean}-{next(_counter)}-{uuid.uuid4().hex[:8]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def _answers_http(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False


@contextmanager
def run_moto(workdir: Path, timeout: float = 30.0) -> Iterator[S3Endpoint]:
    """Run ``moto_server`` on a free 127.0.0.1 port until the block ends."""
    executable = Path(sys.executable).with_name("moto_server")
    if not executable.exists():
        found = shutil.which("moto_server")
        if not found:
            pytest.fail(
                "moto_server is not installed; run `uv sync` (moto[server] is a dev dependency)"
            )
        executable = Path(found)
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = workdir / "moto.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(executable), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not _answers_http(url):
            if process.poll() is not None:
                pytest.fail(f"moto_server exited with {process.returncode}:\n{_log_tail(log_path)}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"moto_server did not answer at {url} within {timeout:.0f}s:\n"
                    f"{_log_tail(log_path)}"
                )
            time.sleep(0.1)
        yield S3Endpoint("moto", url, "testing-access-key", "testing-secret-key")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


@contextmanager
def run_ceph(workdir: Path | None = None, timeout: float = 240.0) -> Iterator[S3Endpoint]:
    """Bootstrap a throw-away Ceph cluster with radosgw (``scripts/ceph/start.sh``), then stop it.

    ``workdir`` defaults to a fresh short folder under /tmp (Ceph's admin sockets need short
    paths); a default folder is deleted afterwards, a given one is kept for inspection.
    """
    missing = [tool for tool in CEPH_TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"Ceph is not installed (missing {', '.join(missing)}); "
            "run scripts/install-system-deps.sh to install ceph-mon, ceph-osd, radosgw, ceph-common"
        )
    own_dir = workdir is None
    folder = Path(tempfile.mkdtemp(prefix="lakebed-ceph-")) if workdir is None else workdir
    stop = [str(CEPH_SCRIPTS / "stop.sh"), str(folder)]
    try:
        try:
            started = subprocess.run(
                [str(CEPH_SCRIPTS / "start.sh"), str(folder)],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            output = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr
            pytest.fail(
                f"Ceph did not start within {timeout:.0f}s (scripts/ceph/start.sh {folder}):\n"
                f"{output or ''}\n{_tails(folder)}"
            )
        if started.returncode != 0:
            pytest.fail(
                f"scripts/ceph/start.sh {folder} failed ({started.returncode}):\n"
                f"{started.stdout}\n{started.stderr}"
            )
        env = _read_env(folder / "env")
        yield S3Endpoint(
            "ceph",
            env["CEPH_S3_ENDPOINT"],
            env["CEPH_S3_ACCESS_KEY"],
            env["CEPH_S3_SECRET_KEY"],
        )
    finally:
        subprocess.run(stop, capture_output=True, timeout=60, check=False)
        if own_dir:
            shutil.rmtree(folder, ignore_errors=True)


def _tails(folder: Path) -> str:
    logs = sorted((folder / "log").glob("*.log"))
    return "\n".join(f"--- {log.name}\n{_log_tail(log, 15)}" for log in logs)


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Endpoint]:
    """A moto S3 server for the whole test session."""
    with run_moto(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def ceph_s3() -> Iterator[S3Endpoint]:
    """A real Ceph RADOS Gateway for the whole test session (cold start ~15-30 s)."""
    with run_ceph() as endpoint:
        yield endpoint
