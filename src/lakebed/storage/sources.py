"""What ``put`` accepts (bytes, a binary stream, a file path), read as one stream of chunks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from lakebed.errors import ConfigError

CHUNK = 1 << 20

_FIX = "pass bytes, a file opened in binary mode ('rb') or a pathlib.Path"


@contextmanager
def chunks_of(data: bytes | IO[bytes] | Path) -> Iterator[Iterator[bytes]]:
    """Chunks of ``data`` in order; a file given by path is opened here and closed after."""
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data).cast("B")
        yield (bytes(view[i : i + CHUNK]) for i in range(0, len(view), CHUNK))
    elif isinstance(data, os.PathLike):
        path = Path(data)
        try:
            stream = path.open("rb")
        except FileNotFoundError:
            raise ConfigError(f"file to store {path} does not exist", fix=_FIX) from None
        except IsADirectoryError:
            raise ConfigError(f"file to store {path} is a folder", fix=_FIX) from None
        with stream:
            yield _read_all(stream)
    elif hasattr(data, "read"):
        yield _read_all(data)
    else:
        raise ConfigError(f"cannot store a {type(data).__name__} object", fix=_FIX)


def _read_all(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise ConfigError("the stream given to put returned text, not bytes", fix=_FIX)
        yield bytes(chunk)
