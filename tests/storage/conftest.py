"""Fixtures for the storage suites: one ``store`` fixture over every backend.

``store`` is a fresh, empty store per test: a temporary folder, or a unique prefix in a bucket
on moto (marked ``s3``) or on a real Ceph RADOS Gateway (marked ``ceph``). A small multipart
threshold makes the large-object test exercise concurrent multipart uploads.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.servers.s3 import S3Endpoint

from lakebed.storage import ObjectStore
from lakebed.storage.local import LocalStore
from lakebed.storage.s3 import S3Store

S3_BACKENDS = [
    pytest.param("moto", marks=pytest.mark.s3),
    pytest.param("ceph", marks=pytest.mark.ceph),
]
BACKENDS = [pytest.param("local"), *S3_BACKENDS]

#: Small enough that the 40 MB test object goes up in several concurrent parts.
MULTIPART = {"multipart_threshold_mb": 8, "multipart_chunk_mb": 8, "max_concurrency": 4}


@pytest.fixture(scope="session")
def shared_buckets() -> dict[str, str]:
    """One bucket per S3 server for the session (creating buckets on Ceph takes seconds)."""
    return {}


@pytest.fixture
def make_s3_store(
    shared_buckets: dict[str, str],
) -> Callable[..., S3Store]:
    """Build an S3 store at a unique prefix of the server's shared bucket."""

    def make(endpoint: S3Endpoint, **config: object) -> S3Store:
        if endpoint.name not in shared_buckets:
            shared_buckets[endpoint.name] = endpoint.create_bucket("storage")
        bucket = shared_buckets[endpoint.name]
        prefix = f"tests/{uuid.uuid4().hex[:12]}"
        return S3Store(f"s3://{bucket}/{prefix}", endpoint.s3_config(**{**MULTIPART, **config}))

    return make


@pytest.fixture(params=BACKENDS)
def store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    make_s3_store: Callable[..., S3Store],
) -> ObjectStore:
    """An empty store on each backend in turn."""
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    endpoint: S3Endpoint = request.getfixturevalue(f"{request.param}_s3")
    return make_s3_store(endpoint)


@pytest.fixture(params=S3_BACKENDS)
def s3_server(request: pytest.FixtureRequest) -> S3Endpoint:
    """Each S3 server in turn (for S3-only behaviour)."""
    endpoint: S3Endpoint = request.getfixturevalue(f"{request.param}_s3")
    return endpoint
