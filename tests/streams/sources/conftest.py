"""The ``backend`` fixture of the shared stream-source behaviour suite.

Every :class:`~lakebed.streams.sources.base.StreamSource` backend is tested by the same suite
(``test_source_behaviour.py``), against its real server. A backend is an object with:

- ``partitions: int`` — how many partitions the log it writes to has;
- ``produce(values: list[bytes], *, key: bytes | None = None) -> None`` — append ``values``, in
  order, durably (a reader opened afterwards sees them);
- ``source() -> StreamSource`` — a new, *unopened* source over the same log, configured to start
  from the earliest record; the suite calls ``open(resume_after)`` itself. Sources of one backend
  share any consumer group, so acknowledging in one is visible to the next;
- ``close() -> None``.

Backend modules (``backends_<name>.py``) are imported only when their parameter runs, and each
asks for its server fixture only then: ``kafka_mock`` from ``tests.servers.kafka``,
``redis_server`` from ``tests.servers.redis`` (plugins registered in ``tests/conftest.py``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from lakebed.streams.sources.base import StreamSource

BACKENDS = ["kafka", "redis", "wal"]


class SourceBackend(Protocol):
    """What the behaviour suite needs from a backend (see the module docstring)."""

    partitions: int

    def produce(self, values: list[bytes], *, key: bytes | None = None) -> None: ...

    def source(self) -> StreamSource: ...

    def close(self) -> None: ...


def _open_backend(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """The context manager that gives backend ``name`` (its module imported lazily)."""
    module = importlib.import_module(f"tests.streams.sources.backends_{name}")
    if name == "kafka":
        return module.kafka_backend(request.getfixturevalue("kafka_mock"))
    if name == "redis":
        return module.redis_backend(request.getfixturevalue("redis_server"))
    if name == "wal":
        return module.wal_backend(tmp_path)
    raise AssertionError(f"no backend {name!r}")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SourceBackend]:
    """One fresh, empty log of each backend kind in turn."""
    with _open_backend(request.param, request, tmp_path) as opened:
        yield opened
