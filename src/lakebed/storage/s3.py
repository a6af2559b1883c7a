"""The object store on any S3-compatible server (AWS S3, Ceph RADOS Gateway, moto, ...).

``S3Store("s3://bucket/prefix", S3Config(...))`` keeps objects under ``prefix/`` in ``bucket``.
boto3 does the object operations: puts go through boto3's transfer manager, which switches to
a concurrent multipart upload at ``multipart_threshold_mb``. Each object carries its
``sha256`` as user metadata (``x-amz-meta-sha256``), computed before the upload starts.

Request and response checksums are sent only when an operation requires them: newer botocore
adds CRC checksums by default, which Ceph and other self-hosted stores reject (HTTP 411).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from lakebed.config import S3Config
from lakebed.errors import ConfigError, NotFoundError
from lakebed.storage import content_types
from lakebed.storage.base import ObjectInfo, ObjectStore, Progress
from lakebed.storage.keys import validate_key, validate_prefix
from lakebed.storage.s3_errors import Where, error_code, missing_bucket, translate
from lakebed.storage.s3_reader import RangedReader
from lakebed.storage.sources import chunks_of

if TYPE_CHECKING:
    import pyarrow.fs

_MIN_PART = 5 << 20  # S3's smallest part (except the last)
_SPOOL_IN_MEMORY = 16 << 20
_READ_BUFFER = 1 << 20
_CHECKSUM_ENV = ("AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION")


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split ``s3://bucket/prefix`` into bucket and prefix (no slashes at either end)."""
    parts = urlsplit(url)
    fix = "write the storage URL as s3://bucket or s3://bucket/some/prefix"
    if parts.scheme != "s3" or parts.query or parts.fragment:
        raise ConfigError(f"{url!r} is not an s3://bucket/prefix URL", fix=fix)
    bucket, prefix = parts.netloc, parts.path.strip("/")
    valid = (
        3 <= len(bucket) <= 63
        and all(c.islower() or c.isdigit() or c in ".-" for c in bucket)
        and bucket[0].isalnum()
        and bucket[-1].isalnum()
        and bucket.isascii()
    )
    if not valid:
        raise ConfigError(
            f"invalid bucket name {bucket!r} in {url!r}",
            fix="bucket names are 3-63 characters: lowercase letters, digits, '.' and '-'",
        )
    if prefix:
        validate_key(prefix)
    return bucket, prefix


class S3Store(ObjectStore):
    """Objects under a prefix of one S3 bucket. Connects lazily, on the first operation."""

    def __init__(self, url: str, config: S3Config | None = None) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.url = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        self.config = config or S3Config()
        self.endpoint = self.config.endpoint_url or "AWS S3"
        self._root = f"{self.prefix}/" if self.prefix else ""
        self._client: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Store({self.url!r}, endpoint={self.endpoint!r})"

    @property
    def client(self) -> Any:
        """The boto3 S3 client (created on first use; thread-safe)."""
        with self._lock:
            if self._client is None:
                self._client = _make_client(self.config)
            return self._client

    @property
    def transfer_config(self) -> TransferConfig:
        """Multipart thresholds and concurrency from the S3 configuration."""
        cfg = self.config
        return TransferConfig(
            multipart_threshold=max(cfg.multipart_threshold_mb << 20, _MIN_PART),
            multipart_chunksize=max(cfg.multipart_chunk_mb << 20, _MIN_PART),
            max_concurrency=max(cfg.max_concurrency, 1),
            use_threads=cfg.max_concurrency > 1,
        )

    def _full(self, key: str) -> str:
        return self._root + validate_key(key)

    @contextmanager
    def _errors(self, operation: str, key: str | None = None) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            raise translate(exc, self._where(operation, key)) from exc

    def _where(self, operation: str, key: str | None = None) -> Where:
        return Where(self.endpoint, self.bucket, operation, key)

    # -- writing ---------------------------------------------------------------------------

    def put(
        self,
        key: str,
        data: bytes | IO[bytes] | Path,
        *,
        content_type: str | None = None,
        progress: Progress | None = None,
    ) -> ObjectInfo:
        full = self._full(key)
        with _prepared(data) as (body, checksum, head):
            extra = {
                "ContentType": content_type or content_types.guess(key, head),
                "Metadata": {"sha256": checksum},
            }
            with self._errors("put", key):
                self.client.upload_fileobj(
                    body,
                    self.bucket,
                    full,
                    ExtraArgs=extra,
                    Callback=progress,
                    Config=self.transfer_config,
                )
        return self.head(key)

    def delete(self, key: str) -> None:
        full = self._full(key)
        self.head(key)  # S3 deletes of missing keys succeed silently; the interface says raise.
        with self._errors("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=full)

    def ensure_bucket(self) -> bool:
        """Create the bucket if it does not exist; True if it was created now."""
        with self._errors("check"):
            try:
                self.client.head_bucket(Bucket=self.bucket)
                return False
            except ClientError as exc:
                if error_code(exc)[1] != 404:
                    raise
        region = self.config.region
        with self._errors("create"):
            try:
                if region == "us-east-1":
                    self.client.create_bucket(Bucket=self.bucket)
                else:
                    self.client.create_bucket(
                        Bucket=self.bucket,
                        CreateBucketConfiguration={"LocationConstraint": region},
                    )
            except ClientError as exc:
                code = error_code(exc)[0]
                if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    return False
                if code != "InvalidLocationConstraint":
                    raise
                # Self-hosted stores often name their regions differently; use their default.
                self.client.create_bucket(Bucket=self.bucket)
        return True

    # -- reading ---------------------------------------------------------------------------

    def head(self, key: str) -> ObjectInfo:
        return _info(key, self._head(key))

    def _head(self, key: str) -> dict[str, Any]:
        full = self._full(key)
        try:
            with self._errors("head", key):
                response: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=full)
                return response
        except NotFoundError:
            # HEAD has no error body: tell a missing bucket from a missing key.
            if not self._bucket_exists():
                raise missing_bucket(self._where("head", key)) from None
            raise

    def _bucket_exists(self) -> bool:
        with self._errors("check"):
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if error_code(exc)[1] == 404:
                    return False
                raise
        return True

    def open(self, key: str) -> IO[bytes]:
        head = self._head(key)
        raw = RangedReader(
            self.client,
            self.bucket,
            self._full(key),
            int(head["ContentLength"]),
            str(head["ETag"]),
            lambda: self._where("read", key),
        )
        return io.BufferedReader(raw, buffer_size=_READ_BUFFER)

    def get(self, key: str) -> bytes:
        full = self._full(key)
        with self._errors("get", key):
            data: bytes = self.client.get_object(Bucket=self.bucket, Key=full)["Body"].read()
        return data

    def download(self, key: str, path: Path, *, progress: Progress | None = None) -> ObjectInfo:
        info = self.head(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as sink, self._errors("download", key):
                self.client.download_fileobj(
                    self.bucket,
                    self._full(key),
                    sink,
                    Callback=progress,
                    Config=self.transfer_config,
                )
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return info

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        validate_prefix(prefix)
        start = len(self._root)
        with self._errors("list"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._root + prefix
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    key = item["Key"][start:]
                    if key.endswith("/"):  # folder markers some tools write; not objects
                        continue
                    yield ObjectInfo(
                        key=key, size=int(item["Size"]), modified=_utc(item["LastModified"])
                    )

    def arrow_filesystem(self) -> tuple[pyarrow.fs.FileSystem, str]:
        """A pyarrow S3 filesystem with the same endpoint and credentials, and ``bucket/prefix``.

        pyarrow's AWS SDK reads its checksum policy only from the environment, so this sets
        ``AWS_REQUEST_CHECKSUM_CALCULATION`` / ``AWS_RESPONSE_CHECKSUM_VALIDATION`` to
        ``WHEN_REQUIRED`` unless they are already set (self-hosted stores answer 411 otherwise).
        """
        import pyarrow.fs

        for name in _CHECKSUM_ENV:
            os.environ.setdefault(name, "WHEN_REQUIRED")
        cfg = self.config
        options: dict[str, Any] = {"region": cfg.region}
        if cfg.endpoint_url:
            endpoint = urlsplit(cfg.endpoint_url)
            options["scheme"] = endpoint.scheme or "https"
            options["endpoint_override"] = endpoint.netloc + endpoint.path.rstrip("/")
            options["force_virtual_addressing"] = not cfg.path_style
        if cfg.access_key_id and cfg.secret_access_key:
            options["access_key"] = cfg.access_key_id
            options["secret_key"] = cfg.secret_access_key
            options["session_token"] = cfg.session_token
        root = f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket
        return pyarrow.fs.S3FileSystem(**options), root


def _make_client(cfg: S3Config) -> Any:
    session = boto3.session.Session(
        aws_access_key_id=cfg.access_key_id,
        aws_secret_access_key=cfg.secret_access_key,
        aws_session_token=cfg.session_token,
        region_name=cfg.region,
    )
    botocore_config = Config(
        s3={"addressing_style": "path" if cfg.path_style else "virtual"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 4, "mode": "standard"},
        connect_timeout=10,
        read_timeout=120,
        max_pool_connections=max(10, cfg.max_concurrency + 2),
    )
    return session.client("s3", endpoint_url=cfg.endpoint_url, config=botocore_config)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _info(key: str, head: dict[str, Any]) -> ObjectInfo:
    metadata = head.get("Metadata") or {}
    return ObjectInfo(
        key=key,
        size=int(head["ContentLength"]),
        modified=_utc(head["LastModified"]),
        content_type=head.get("ContentType"),
        checksum=metadata.get("sha256"),
    )


@contextmanager
def _prepared(data: bytes | IO[bytes] | Path) -> Iterator[tuple[IO[bytes], str, bytes]]:
    """A seekable body for ``data`` with its ``sha256:<hex>`` and first bytes.

    The checksum goes in the request headers, so it must be known before the upload starts: a
    file or seekable stream is read twice (from its current position), and any other stream is
    copied to a spool file (in memory while small).
    """
    digest = hashlib.sha256()
    if isinstance(data, bytes | bytearray | memoryview):
        digest.update(data)
        yield io.BytesIO(data), f"sha256:{digest.hexdigest()}", bytes(data[:4096])
        return
    if isinstance(data, os.PathLike):
        with chunks_of(data) as chunks:
            for chunk in chunks:
                digest.update(chunk)
        with Path(data).open("rb") as body:
            head = body.read(4096)
            body.seek(0)
            yield body, f"sha256:{digest.hexdigest()}", head
        return
    seekable = getattr(data, "seekable", None)
    if callable(seekable) and seekable():
        start = data.tell()
        with chunks_of(data) as chunks:
            for chunk in chunks:
                digest.update(chunk)
        data.seek(start)
        head = data.read(4096)
        data.seek(start)
        yield data, f"sha256:{digest.hexdigest()}", head
        return
    with (
        tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool,
        chunks_of(data) as chunks,
    ):
        head = b""
        for chunk in chunks:
            head = head or chunk[:4096]
            digest.update(chunk)
            spool.write(chunk)
        spool.seek(0)
        yield spool, f"sha256:{digest.hexdigest()}", head
