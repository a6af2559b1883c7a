"""Lakes and source folders for the ingestion suites."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from tests.servers.s3 import S3Endpoint

import lakebed
from lakebed import Lake


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """A lake on the embedded defaults: a local folder and a SQLite catalog."""
    return lakebed.open(tmp_path / "lake", env={})


@pytest.fixture(
    params=[
        pytest.param("moto", marks=pytest.mark.s3),
        pytest.param("ceph", marks=pytest.mark.ceph),
    ]
)
def s3_lake(request: pytest.FixtureRequest, tmp_path: Path) -> Lake:
    """A lake in a bucket of moto, or of a real Ceph RADOS Gateway, with a SQLite catalog."""
    endpoint: S3Endpoint = request.getfixturevalue(f"{request.param}_s3")
    bucket = endpoint.create_bucket("ingest")
    return lakebed.open(
        f"s3://{bucket}/{uuid.uuid4().hex[:8]}",
        env={},
        s3=endpoint.s3_config().model_dump(),
        catalog=f"sqlite:///{tmp_path / 'catalog.db'}",
    )


def write(folder: Path, name: str, text: str) -> Path:
    """Write ``text`` to ``folder/name`` (creating folders); returns the path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def rows(lake: Lake, table: str, order: str = "id") -> list[dict[str, object]]:
    return lake.sql(f"SELECT * FROM {table} ORDER BY {order}").to_pylist()
