"""The lakebed calls the benchmarks time: the ways a user turns a CSV into an Iceberg table.

Kept in one place so that ``csv_to_iceberg``, ``sql_overhead`` and the memory benchmark's child
process measure exactly the same code paths.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from lakebed.catalog import Table
    from lakebed.lake import Lake


def open_lake(root: Path) -> Lake:
    """A lake at ``root`` with its catalog created (so timings exclude first-use setup)."""
    import lakebed

    lake = lakebed.open(root)
    lake.init()
    return lake


def crawl_convert(lake: Lake, folder: Path, database: str) -> Table:
    """``lake.crawl(folder, convert=True)``: the one-call path from raw files to a table.

    ``folder`` holds one CSV; the crawler picks the table name, so the one table the crawl
    creates is returned.
    """
    from lakebed.catalog import Table

    lake.crawl(str(folder), database=database, convert=True)
    tables = lake.tables(database)
    if len(tables) != 1:
        raise RuntimeError(f"crawl of {folder} made tables {tables}, expected exactly one")
    table = lake.table(tables[0])
    if not isinstance(table, Table):
        raise RuntimeError(f"crawl --convert made {tables[0]} a {table.kind} table, not Iceberg")
    return table


def append_csv(lake: Lake, ident: str, csv_path: Path) -> Table:
    """Stream a CSV into a new table: ``formats.read`` batches → ``Table.append`` (one commit)."""
    from lakebed import formats

    batches = iter(formats.read(csv_path))
    first = next(batches)
    reader = pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], batches))
    table = lake.create_table(ident, schema=first.schema)
    table.append(reader)
    return table


def data_file_paths(table: Table) -> list[str]:
    """Local paths of the table's current Parquet data files (for a peer reading them directly)."""
    plan = table.plan_files()
    if plan.has_deletes:
        raise RuntimeError(
            f"{table.ident} has delete files; its data files alone are not the table"
        )
    return [uri.removeprefix("file://") for uri in plan.files]
