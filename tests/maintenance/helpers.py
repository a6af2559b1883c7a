"""Ways for the maintenance tests to look at a table's files."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

from lakebed.catalog import Table


def table_dir(table: Table) -> Path:
    """The local folder of a table on a local lake."""
    location = table.location
    return Path(location.removeprefix("file://"))


def files_on_disk(table: Table, suffix: str = "") -> set[str]:
    """Absolute paths of every file under the table's folder (ending in ``suffix``)."""
    return {str(p) for p in table_dir(table).rglob(f"*{suffix}") if p.is_file()}


def local(uri: str) -> str:
    return uri.removeprefix("file://")


def snapshot_data_files(table: Table, snapshot_id: int) -> set[str]:
    """Local paths of the data files a snapshot reads."""
    return {local(f) for f in table.plan_files(snapshot_id=snapshot_id).files}


def age_files(paths: Iterable[str | Path], days: float = 10) -> None:
    """Make files look ``days`` old."""
    then = time.time() - days * 86400
    for path in paths:
        os.utime(path, (then, then))


def sorted_rows(data: pa.Table, *keys: str) -> list[dict[str, object]]:
    return data.sort_by([(k, "ascending") for k in keys]).to_pylist()
