"""Object keys: the one set of rules every backend enforces, so a key that works on a local
folder also works on S3 and the other way round.

A key is a relative, ``/``-separated path: not empty, at most 1024 bytes of UTF-8 (the S3
limit), no leading ``/``, no empty, ``.`` or ``..`` segments, no backslashes or control
characters, and no segment starting with ``.lakebed-`` (reserved for the store's own files).
"""

from __future__ import annotations

from lakebed.errors import ConfigError

#: Segments starting with this are the store's own (temporary files, metadata); never keys.
RESERVED_PREFIX = ".lakebed-"
MAX_KEY_BYTES = 1024

_FIX = "use a relative key like 'raw/2024/data.csv': '/' separators, no '..' or empty parts"


def _problem(key: str) -> str | None:
    if not key:
        return "is empty"
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return f"is longer than {MAX_KEY_BYTES} bytes"
    if key.startswith("/"):
        return "is absolute (starts with '/')"
    if "\\" in key:
        return "contains a backslash"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in key):
        return "contains a control character"
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            return f"has a {segment or 'empty'!r} path segment"
        if segment.startswith(RESERVED_PREFIX):
            return f"uses the reserved name prefix {RESERVED_PREFIX!r}"
    return None


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a valid object key, else raise ConfigError naming it."""
    if not isinstance(key, str):
        raise ConfigError(f"object key {key!r} is not a string", fix=_FIX)
    problem = _problem(key)
    if problem:
        raise ConfigError(f"invalid object key {key!r}: it {problem}", fix=_FIX)
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it can start a valid key ('' and a trailing '/' are allowed)."""
    if prefix == "":
        return prefix
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix
