"""What only the S3 backend does: buckets, server errors, multipart, metadata on the wire."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.servers.s3 import S3Endpoint, free_port, unique_bucket_name

from lakebed.errors import ConfigError, NotFoundError, StorageError
from lakebed.storage.s3 import S3Store, parse_s3_url


def test_missing_bucket_says_to_create_it(s3_server: S3Endpoint) -> None:
    store = S3Store(f"s3://{unique_bucket_name('absent')}/data", s3_server.s3_config())
    for action in (
        lambda: store.put("k.txt", b"x"),
        lambda: store.head("k.txt"),
        lambda: store.get("k.txt"),
        lambda: list(store.list()),
    ):
        with pytest.raises(NotFoundError, match=r"bucket .* does not exist") as raised:
            action()
        assert "create it" in str(raised.value)


def test_ensure_bucket_creates_once(s3_server: S3Endpoint) -> None:
    store = S3Store(f"s3://{unique_bucket_name('ensure')}", s3_server.s3_config())
    assert store.ensure_bucket() is True
    assert store.ensure_bucket() is False
    store.put("at-root.txt", b"root")
    assert [info.key for info in store.list()] == ["at-root.txt"]
    assert store.uri("at-root.txt") == f"s3://{store.bucket}/at-root.txt"


def test_objects_carry_type_and_checksum_on_the_wire(
    s3_server: S3Endpoint, make_s3_store: Callable[..., S3Store]
) -> None:
    store = make_s3_store(s3_server)
    data = b'{"a": 1}\n{"a": 2}\n'
    store.put("events/part-0.jsonl", data)
    raw = s3_server.client().head_object(
        Bucket=store.bucket, Key=f"{store.prefix}/events/part-0.jsonl"
    )
    assert raw["ContentType"] == "application/jsonl"
    assert raw["Metadata"]["sha256"] == "sha256:" + hashlib.sha256(data).hexdigest()


def test_large_put_is_a_multipart_upload(
    s3_server: S3Endpoint, make_s3_store: Callable[..., S3Store], tmp_path: Path
) -> None:
    store = make_s3_store(s3_server)  # 8 MB threshold and parts
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(20 << 20))
    store.put("big.bin", source)
    raw = s3_server.client().head_object(Bucket=store.bucket, Key=f"{store.prefix}/big.bin")
    assert raw["ETag"].strip('"').endswith("-3")  # 8 + 8 + 4 MB


def test_reader_fails_rather_than_mixing_versions(
    s3_server: S3Endpoint, make_s3_store: Callable[..., S3Store]
) -> None:
    store = make_s3_store(s3_server)
    store.put("v.bin", b"1" * (3 << 20))
    stream = store.open("v.bin")
    assert stream.read(10) == b"1" * 10
    store.put("v.bin", b"2" * (3 << 20))
    stream.seek(2 << 20)
    with pytest.raises(StorageError, match="changed while it was being read") as raised:
        stream.read(10)
    assert raised.value.transient
    stream.close()


def test_unreachable_endpoint_is_a_transient_error() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    config = S3Endpoint("nothing", endpoint, "key", "secret").s3_config()
    store = S3Store("s3://some-bucket/x", config.model_copy(update={"region": "us-east-1"}))
    with pytest.raises(StorageError, match="cannot reach the S3 endpoint") as raised:
        store.get("k")
    assert endpoint in str(raised.value)
    assert raised.value.transient


@pytest.mark.ceph
def test_wrong_credentials_say_to_check_them(ceph_s3: S3Endpoint) -> None:
    bucket = ceph_s3.create_bucket("denied")
    wrong = ceph_s3.s3_config(secret_access_key="not-the-secret")
    store = S3Store(f"s3://{bucket}", wrong)
    with pytest.raises(StorageError, match="access denied") as raised:
        store.put("k.txt", b"x")
    assert "check the S3 credentials" in str(raised.value)
    assert not raised.value.transient


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://bucket", "bucket", ""),
        ("s3://bucket/", "bucket", ""),
        ("s3://my.bucket-1/a/b/", "my.bucket-1", "a/b"),
    ],
)
def test_parse_s3_url(url: str, bucket: str, prefix: str) -> None:
    assert parse_s3_url(url) == (bucket, prefix)


@pytest.mark.parametrize(
    "url", ["s3://Bucket/x", "s3://ab", "s3://-bucket", "s3://bucket/../x", "gs://bucket", "s3://"]
)
def test_bad_s3_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError, match=r"s3://|bucket|object key"):
        S3Store(url)
