"""Object storage: one interface, a backend per kind of store, chosen by URL scheme.

``open_store("./lake")`` or ``open_store("file:///data/lake")`` gives a :class:`LocalStore`;
``open_store("s3://bucket/prefix", S3Config(...))`` an S3 store (boto3 is imported only then).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from lakebed.errors import ConfigError
from lakebed.storage.base import ObjectInfo, ObjectStore, Progress

if TYPE_CHECKING:
    from lakebed.config import S3Config

__all__ = ["ObjectInfo", "ObjectStore", "Progress", "known_schemes", "open_store"]


def _local(location: str, s3: S3Config | None) -> ObjectStore:
    from lakebed.storage.local import LocalStore

    return LocalStore(location)


def _s3(location: str, s3: S3Config | None) -> ObjectStore:
    from lakebed.storage.s3 import S3Store

    return S3Store(location, s3)


#: URL scheme -> factory of its backend; each imports its module (and SDK) on first use.
_BACKENDS: dict[str, Callable[[str, S3Config | None], ObjectStore]] = {
    "file": _local,
    "s3": _s3,
}


def known_schemes() -> list[str]:
    """The URL schemes ``open_store`` understands (a plain path means ``file``)."""
    return sorted(_BACKENDS)


def open_store(url_or_path: str | os.PathLike[str], s3: S3Config | None = None) -> ObjectStore:
    """The object store at a folder path, ``file://`` URL or ``s3://bucket/prefix`` URL.

    ``s3`` holds the endpoint, credentials and transfer settings for ``s3://`` URLs; it is
    ignored for local stores.
    """
    target = os.fspath(url_or_path)
    if not isinstance(target, str):
        raise ConfigError(f"storage location {target!r} must be text, not bytes")
    scheme, sep, rest = target.partition("://")
    if not sep:
        return _local(target, s3)
    scheme = scheme.lower()
    if scheme not in _BACKENDS:
        raise ConfigError(
            f"unknown storage URL scheme {scheme!r} in {target!r}",
            fix=f"use a folder path or one of: {', '.join(s + '://' for s in known_schemes())}",
        )
    if scheme == "file":
        if rest.startswith("localhost/"):
            rest = rest.removeprefix("localhost")
        if not rest.startswith("/"):
            raise ConfigError(
                f"file URL {target!r} must hold an absolute path (file:///abs/path)",
                fix="write file:///absolute/path, or give the folder path without file://",
            )
        return _local(rest, s3)
    return _BACKENDS[scheme](target, s3)
