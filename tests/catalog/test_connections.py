"""Opening catalogs: URLs, folders, unreachable servers, and an S3 warehouse."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from tests.servers.postgres import free_port
from tests.servers.s3 import S3Endpoint

from lakebed.catalog import Catalog, Table, s3_io_properties
from lakebed.errors import ConfigError, StorageError

SCHEMA = pa.schema([("id", pa.int64()), ("ts", pa.timestamp("us"))])


def test_bare_paths_and_missing_folders(tmp_path: Path) -> None:
    db_file = tmp_path / "deep" / "er" / "catalog.db"
    with Catalog(str(db_file), str(tmp_path / "wh")) as catalog:
        catalog.create_database("db")
        table = catalog.create_table("db.t", SCHEMA)
        table.append(pa.table({"id": [1], "ts": [datetime(2024, 1, 1)]}, schema=SCHEMA))
        assert table.location.startswith((tmp_path / "wh").as_uri())
    assert db_file.exists()
    with Catalog(f"sqlite:///{db_file}", (tmp_path / "wh").as_uri()) as again:
        assert again.list_tables("db") == ["db.t"]


def test_unsupported_url_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mysql") as err:
        Catalog("mysql://u@localhost/db", str(tmp_path))
    assert "postgresql://" in str(err.value)


def test_unreachable_server_is_transient_storage_error(tmp_path: Path) -> None:
    url = f"postgresql://nobody:secret@127.0.0.1:{free_port()}/none"
    with pytest.raises(StorageError, match="cannot open the catalog database") as err:
        Catalog(url, str(tmp_path))
    assert err.value.transient
    assert "secret" not in str(err.value)


@pytest.mark.s3
def test_s3_warehouse(moto_s3: S3Endpoint, tmp_path: Path) -> None:
    bucket = moto_s3.create_bucket("catalog")
    io = s3_io_properties(moto_s3.s3_config())
    with Catalog(str(tmp_path / "c.db"), f"s3://{bucket}/lake", io_properties=io) as catalog:
        catalog.create_database("db")
        table = catalog.create_table("db.t", SCHEMA, partition_by=["day(ts)"])
        table.append(pa.table({"id": [1, 2], "ts": [datetime(2024, 1, 1), datetime(2024, 1, 2)]}))
        loaded = catalog.load_table("db.t")
        assert isinstance(loaded, Table)
        assert sorted(loaded.scan().column("id").to_pylist()) == [1, 2]
        plan = loaded.plan_files(filter="ts >= '2024-01-02'")
        assert len(plan.files) == 1
        assert plan.files[0].startswith(f"s3://{bucket}/lake/db/t/data/ts_day=2024-01-02/")
    listed = moto_s3.client().list_objects_v2(Bucket=bucket, Prefix="lake/db/t/data/")
    assert len(listed.get("Contents", [])) == 2
