"""Choosing a backend by URL, and the storage package's public surface."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import lakebed.storage
from lakebed.config import S3Config
from lakebed.errors import ConfigError
from lakebed.storage import open_store
from lakebed.storage.local import LocalStore
from lakebed.storage.s3 import S3Store


def test_paths_and_file_urls_open_local_stores(tmp_path: Path) -> None:
    by_path = open_store(str(tmp_path / "lake"))
    by_url = open_store(f"file://{tmp_path}/lake")
    by_pathlike = open_store(tmp_path / "lake")
    for store in (by_path, by_url, by_pathlike):
        assert isinstance(store, LocalStore)
        assert store.url == f"file://{tmp_path.resolve()}/lake"
    by_path.put("k", b"v")
    assert by_url.get("k") == b"v"


def test_s3_urls_open_s3_stores_with_their_config() -> None:
    config = S3Config(endpoint_url="http://127.0.0.1:9", region="eu-west-1")
    store = open_store("s3://bucket/some/prefix/", config)
    assert isinstance(store, S3Store)
    assert store.url == "s3://bucket/some/prefix"
    assert store.config is config
    assert store.uri("a.csv") == "s3://bucket/some/prefix/a.csv"


def test_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown storage URL scheme 'gs'") as raised:
        open_store("gs://bucket/x")
    assert "file://" in str(raised.value) and "s3://" in str(raised.value)


def test_relative_file_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="absolute path"):
        open_store("file://relative/lake")


def test_public_names() -> None:
    assert sorted(lakebed.storage.__all__) == [
        "ObjectInfo",
        "ObjectStore",
        "Progress",
        "known_schemes",
        "open_store",
    ]
    for name in lakebed.storage.__all__:
        assert hasattr(lakebed.storage, name)
    assert lakebed.storage.known_schemes() == ["file", "s3"]


def test_boto3_is_imported_only_for_s3(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from lakebed.storage import open_store\n"
        f"open_store({str(tmp_path)!r}).put('k', b'v')\n"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules\n"
        "open_store('s3://bucket')\n"
        "assert 'boto3' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
