"""The three maintenance jobs on a lake in S3 (moto's server): same behaviour as on disk."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from tests.servers.s3 import S3Endpoint

import lakebed
from lakebed.catalog import Table
from lakebed.maintenance import expire_snapshots, optimize, remove_orphan_files

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])


def _keys(endpoint: S3Endpoint, bucket: str, prefix: str) -> set[str]:
    client = endpoint.client()
    keys: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


@pytest.mark.s3
def test_optimize_expire_and_remove_orphans_on_s3(moto_s3: S3Endpoint, tmp_path: Path) -> None:
    bucket = moto_s3.create_bucket("maint")
    root = uuid.uuid4().hex[:8]
    lake = lakebed.open(
        f"s3://{bucket}/{root}",
        env={},
        s3=moto_s3.s3_config().model_dump(),
        catalog=f"sqlite:///{tmp_path / 'catalog.db'}",
    )
    lake.init()
    table = lake.create_table("db.items", schema=SCHEMA)
    assert isinstance(table, Table)
    for i in range(8):
        table.append(pa.table({"id": [i], "name": [f"n{i}"]}, schema=SCHEMA))
    before = table.scan().sort_by("id")
    assert table.location.startswith(f"s3://{bucket}/")
    prefix = table.location.removeprefix(f"s3://{bucket}/") + "/"

    compacted = optimize(table)
    assert (compacted.files_before, compacted.files_after) == (8, 1)
    assert table.scan().sort_by("id") == before

    parquet_before = {k for k in _keys(moto_s3, bucket, prefix) if k.endswith(".parquet")}
    assert len(parquet_before) == 9
    expired = expire_snapshots(table, older_than=timedelta(0))
    assert expired.deleted_data_files == 8
    parquet_after = {k for k in _keys(moto_s3, bucket, prefix) if k.endswith(".parquet")}
    assert len(parquet_after) == 1 and parquet_after < parquet_before

    stray = f"{prefix}data/stray-{uuid.uuid4().hex}.parquet"
    moto_s3.client().put_object(Bucket=bucket, Key=stray, Body=b"orphan")
    kept = remove_orphan_files(table)  # everything is seconds old: nothing goes
    assert kept.deleted == [] and f"s3://{bucket}/{stray}" in kept.too_recent
    removed = remove_orphan_files(table, older_than=timedelta(0))
    assert removed.deleted == [f"s3://{bucket}/{stray}"]
    assert stray not in _keys(moto_s3, bucket, prefix)
    assert table.scan().sort_by("id") == before
