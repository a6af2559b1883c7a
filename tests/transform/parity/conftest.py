"""The engine parity suite's fixtures: ONE DuckDB engine and ONE Spark engine for the whole run,
each holding the sample table as relation ``input``; tests build recipes under their own
view-name prefix."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest

from lakebed.transform.engines.duckdb import DuckDBEngine
from lakebed.transform.engines.spark import SparkEngine
from lakebed.transform.sample import sample_table

_prefixes = itertools.count()


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[SparkEngine]:
    started = time.monotonic()
    engine = SparkEngine(master="local[2]", shuffle_partitions=2)
    engine.load_arrow("input", sample_table())
    engine.schema("input")
    print(f"\nSpark engine ready in {time.monotonic() - started:.1f} s")
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def duck_engine() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(threads=1)
    engine.load_arrow("input", sample_table())
    yield engine
    engine.close()


@pytest.fixture
def prefix() -> str:
    """A view-name prefix no other test uses."""
    return f"t{next(_prefixes)}"
