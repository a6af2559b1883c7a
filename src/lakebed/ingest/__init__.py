"""Batch ingestion: files and databases into Iceberg tables, incremental and exactly once.

```python
lake.ingest("s3://landing/orders/", into="shop.orders", incremental=True)
lake.ingest("postgresql://app@db/shop", into="shop.customers", table="customers",
            mode="merge", keys=["id"], incremental="updated_at")
```

A load plans what is new against its bookmark (:mod:`~lakebed.ingest.bookmarks`), reads the
parts (:mod:`~lakebed.ingest.sources`), fits the rows to the table (:mod:`~lakebed.ingest.fit`),
and commits rows, bookmark and run id in one snapshot (:mod:`~lakebed.ingest.runner`); merges
and CDC are applied copy-on-write (:mod:`~lakebed.ingest.merge`). Every run is recorded
(:mod:`~lakebed.ingest.runs`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lakebed.errors import ConfigError
from lakebed.ingest.options import IngestOptions, parse_size
from lakebed.ingest.report import IngestReport
from lakebed.ingest.runner import Progress

if TYPE_CHECKING:
    from lakebed.ingest.sources import Source
    from lakebed.lake import Lake

__all__ = [
    "IngestOptions",
    "IngestReport",
    "Progress",
    "ingest",
    "open_source",
    "parse_size",
    "unlock_bookmark",
]

#: URL schemes read as databases (SQLAlchemy dialects, with or without a ``+driver``).
DATABASE_SCHEMES = ("postgresql", "postgres", "mysql", "mariadb", "sqlite", "mssql", "oracle")
_SCHEME = re.compile(r"^([a-z][a-z0-9]*)(\+[a-z0-9_]+)?://", re.IGNORECASE)


def is_database_url(source: str) -> bool:
    match = _SCHEME.match(source)
    return bool(match) and match.group(1).lower() in DATABASE_SCHEMES  # type: ignore[union-attr]


def open_source(lake: Lake, source: str, options: IngestOptions) -> Source:
    """The :class:`Source` a load of ``source`` reads: a database URL, else files."""
    if is_database_url(source):
        from lakebed.ingest.sources.database import DatabaseSource

        if options.incremental is True:
            raise ConfigError(
                "an incremental database load needs the column that grows",
                fix="pass incremental='<column>' (e.g. an id or an updated_at timestamp)",
            )
        return DatabaseSource(
            source,
            table=options.table,
            query=options.query,
            incremental=options.incremental or None,
            partition_column=options.partition_column,
            parallelism=options.parallelism,
        )
    from lakebed.ingest.sources.files import FileSource

    if options.table or options.query:
        raise ConfigError(
            f"table and query are for database sources, and {source!r} is not a database URL",
            fix="drop them, or pass a URL like postgresql://user@host/db",
        )
    if isinstance(options.incremental, str):
        raise ConfigError(
            "an incremental file load takes incremental=True (files are tracked by path, size "
            "and modification time), not a column",
            fix="pass incremental=True",
        )
    store, prefix = lake.resolve_source(source)
    return FileSource(
        store,
        prefix,
        format=options.format,
        format_options=options.format_options,
        ordered=options.mode == "cdc",
    )


def ingest(
    lake: Lake,
    source: str,
    *,
    into: str,
    progress: Progress | None = None,
    job: str | None = None,
    **options: Any,
) -> IngestReport:
    """Load ``source`` into table ``into`` (created on first load); see :class:`IngestOptions`."""
    from lakebed.ingest.runner import Load

    settings = IngestOptions.build(**options)
    opened = open_source(lake, source, settings)
    return Load(lake.catalog, opened, into, settings, job=job or "ingest", progress=progress).run()


def unlock_bookmark(lake: Lake, ident: str, name: str) -> str:
    """Release bookmark ``name`` of table ``ident`` from a run that died where lakebed cannot
    see it (another host, a container that is gone), without waiting for its heartbeat to
    expire: the run is marked failed and its quarantined records taken back (or succeeded, if
    its commit landed). Returns what was done, in words."""
    from lakebed.ingest.recovery import unlock

    return unlock(lake.catalog, ident, name)
