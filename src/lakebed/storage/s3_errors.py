"""Translate botocore failures into lakebed errors that say what went wrong and what to do.

Part of the S3 backend: botocore is imported only by the S3 modules.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    IncompleteReadError,
    NoCredentialsError,
    PartialCredentialsError,
)

from lakebed.errors import ConfigError, LakebedError, NotFoundError, StorageError

_MISSING_KEY = frozenset({"NoSuchKey", "NotFound", "404", "NoSuchUpload"})
_DENIED = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden", "403"}
)
_BUSY = frozenset(
    {"SlowDown", "RequestTimeout", "ServiceUnavailable", "InternalError", "Throttling"}
)
_CREDENTIALS_FIX = (
    "check the S3 credentials (s3.access_key_id and s3.secret_access_key in lakebed.toml, or "
    "LAKEBED_S3_ACCESS_KEY_ID / LAKEBED_S3_SECRET_ACCESS_KEY) and the bucket's permissions"
)


@dataclass(frozen=True)
class Where:
    """What an S3 call was about, so errors can name it."""

    endpoint: str
    bucket: str
    operation: str
    key: str | None = None

    def target(self) -> str:
        return f"object {self.key!r} in s3://{self.bucket}" if self.key else f"s3://{self.bucket}"


def error_code(exc: ClientError) -> tuple[str, int]:
    """The S3 error code and HTTP status of a failed call."""
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return str(error.get("Code", "")), int(status or 0)


def missing_bucket(where: Where) -> NotFoundError:
    return NotFoundError(
        f"bucket {where.bucket!r} does not exist at {where.endpoint}",
        fix="create it (`lakebed init` does, or S3Store.ensure_bucket()) or fix the storage URL",
    )


def translate(exc: Exception, where: Where) -> LakebedError:
    """The lakebed error for a failure of ``where.operation``."""
    if isinstance(exc, LakebedError):
        return exc
    if isinstance(exc, ClientError):
        return _client_error(exc, where)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ConfigError(f"no usable S3 credentials for {where.endpoint}", fix=_CREDENTIALS_FIX)
    if isinstance(exc, ConnectionError | HTTPClientError | IncompleteReadError):
        return StorageError(
            f"cannot reach the S3 endpoint {where.endpoint} to {where.operation} "
            f"{where.target()}: {exc}",
            fix="check that the server is running and s3.endpoint_url is right, then retry",
            transient=True,
        )
    if isinstance(exc, BotoCoreError):
        return StorageError(f"S3 {where.operation} of {where.target()} failed: {exc}")
    return StorageError(f"S3 {where.operation} of {where.target()} failed: {exc!r}")


def _client_error(exc: ClientError, where: Where) -> LakebedError:
    code, status = error_code(exc)
    message = exc.response.get("Error", {}).get("Message") or code or f"HTTP {status}"
    if code == "NoSuchBucket":
        return missing_bucket(where)
    if code in _MISSING_KEY or status == 404:
        if where.key is None:
            return missing_bucket(where)
        return NotFoundError(
            f"object {where.key!r} does not exist in s3://{where.bucket}",
            fix="check the key (list the store to see what is there)",
        )
    if code in _DENIED or status == 403:
        return StorageError(
            f"access denied to {where.target()} at {where.endpoint} ({where.operation}): {message}",
            fix=_CREDENTIALS_FIX,
        )
    if code == "PreconditionFailed" or status == 412:
        return StorageError(
            f"{where.target()} changed while it was being read",
            fix="open it again to read the new version",
            transient=True,
        )
    if code in _BUSY or status >= 500:
        return StorageError(
            f"the S3 server at {where.endpoint} failed to {where.operation} {where.target()}: "
            f"{message}",
            fix="retry; if it persists, check the server's health and logs",
            transient=True,
        )
    return StorageError(
        f"S3 {where.operation} of {where.target()} failed: {code or status}: {message}",
        fix="check the storage URL and the S3 settings (endpoint_url, region, path_style)",
    )
