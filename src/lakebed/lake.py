"""The lake: one entry point that ties storage, catalog, formats, crawler and SQL together.

A lake is a storage root (a local folder or ``s3://bucket/prefix``) plus a catalog database.
Inside the root, ``raw/`` is the conventional raw zone (objects as they came), ``warehouse/``
holds Iceberg table data and metadata, and ``_catalog/`` the default SQLite catalog.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from lakebed.config import LakeConfig, resolve_config
from lakebed.errors import ConfigError, NotFoundError
from lakebed.storage import ObjectInfo, ObjectStore, Progress, open_store

if TYPE_CHECKING:
    import pyarrow as pa

    from lakebed.catalog import Catalog, ExternalTable, Table
    from lakebed.crawl import CrawlReport
    from lakebed.formats import ConvertResult
    from lakebed.ingest import IngestReport
    from lakebed.ingest.bookmarks import BookmarkInfo
    from lakebed.ingest.runner import Progress as LoadProgress
    from lakebed.ingest.runs import RunRecord
    from lakebed.maintenance import ExpireReport, OptimizeReport, OrphanReport
    from lakebed.query import QueryEngine
    from lakebed.streams.manager import Streams
    from lakebed.transform import Recipes

WAREHOUSE_PREFIX = "warehouse"


class Lake:
    """A data lake: objects, tables, SQL. Create with :func:`lakebed.open`."""

    def __init__(self, config: LakeConfig) -> None:
        self.config = config

    def __repr__(self) -> str:
        return f"Lake({self.config.root!r})"

    # -- parts, built on first use ------------------------------------------------------------

    @cached_property
    def store(self) -> ObjectStore:
        """The object store at the lake's root."""
        if self.config.is_local:
            self.config.local_root.mkdir(parents=True, exist_ok=True)
        return open_store(self.config.root, self.config.s3)

    @cached_property
    def catalog(self) -> Catalog:
        """The table catalog (Iceberg SQL catalog plus external tables)."""
        from lakebed.catalog import Catalog

        return Catalog(
            self.config.catalog_url(),
            self.store.uri(WAREHOUSE_PREFIX),
            io_properties=self._iceberg_io_properties(),
        )

    @cached_property
    def engine(self) -> QueryEngine:
        """The SQL engine (DuckDB in process)."""
        from lakebed.query import QueryEngine

        return QueryEngine(
            self.catalog,
            filesystem=None if self.config.is_local else self.store.arrow_filesystem(),
            memory_limit=self.config.query.memory_limit,
            threads=self.config.query.threads,
        )

    @cached_property
    def streams(self) -> Streams:
        """Delivery streams: Kafka, Redis Streams or HTTP records into tables, exactly once."""
        from lakebed.streams.manager import Streams

        return Streams(self)

    @cached_property
    def recipes(self) -> Recipes:
        """Recipes: publish, preview and apply them; sample and split tables."""
        from lakebed.transform import Recipes

        return Recipes(self)

    def _iceberg_io_properties(self) -> dict[str, str]:
        from lakebed.catalog import s3_io_properties

        return {} if self.config.is_local else s3_io_properties(self.config.s3)

    def init(self) -> None:
        """Create the lake's root (folder or bucket) and its catalog."""
        ensure_bucket = getattr(self.store, "ensure_bucket", None)
        if ensure_bucket is not None:
            ensure_bucket()
        self.catalog.list_databases()

    # -- raw zone ------------------------------------------------------------------------------

    def put(
        self,
        key: str,
        data: bytes | IO[bytes] | str | os.PathLike[str],
        *,
        content_type: str | None = None,
        progress: Progress | None = None,
    ) -> ObjectInfo:
        """Store an object (bytes, a stream, or a local file path) at ``key``."""
        if isinstance(data, str | os.PathLike):
            path = Path(data)
            if not path.is_file():
                raise NotFoundError(f"local file {path} does not exist", fix="check the path")
            data = path
        return self.store.put(key, data, content_type=content_type, progress=progress)

    def get(self, key: str) -> bytes:
        """The bytes of one object."""
        return self.store.get(key)

    def download(
        self, key: str, path: str | os.PathLike[str], *, progress: Progress | None = None
    ) -> ObjectInfo:
        """Copy an object to a local file."""
        return self.store.download(key, Path(path), progress=progress)

    def ls(self, prefix: str = "") -> list[ObjectInfo]:
        """Objects under ``prefix``, sorted by key."""
        return list(self.store.list(prefix))

    def rm(self, key: str) -> None:
        """Delete one object."""
        self.store.delete(key)

    # -- catalog -------------------------------------------------------------------------------

    def create_database(self, name: str, *, description: str | None = None) -> None:
        """Create a database (an Iceberg namespace); no error if it exists."""
        self.catalog.create_database(name, description=description, exist_ok=True)

    def databases(self) -> list[str]:
        """Database names."""
        return self.catalog.list_databases()

    def tables(self, database: str) -> list[str]:
        """Table identifiers (``db.table``) in a database."""
        return self.catalog.list_tables(database)

    def table(self, ident: str) -> Table | ExternalTable:
        """A table by ``db.table``."""
        return self.catalog.load_table(ident)

    def create_table(
        self,
        ident: str,
        data: pa.Table | None = None,
        *,
        schema: pa.Schema | None = None,
        partition_by: Sequence[str] = (),
        properties: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> Table:
        """Create an Iceberg table from a schema, or from data (which is then appended)."""
        if schema is None:
            if data is None:
                raise TypeError("create_table needs data or a schema")
            schema = data.schema
        database = ident.split(".", 1)[0]
        self.catalog.create_database(database, exist_ok=True)
        table = self.catalog.create_table(
            ident,
            schema,
            partition_by=partition_by,
            properties=properties,
            description=description,
        )
        if data is not None:
            table.append(data)
        return table

    def describe(self, ident: str, *, brief: bool = False) -> dict[str, Any]:
        """A table's kind, schema, partitioning, snapshots and size, as plain data."""
        from lakebed.catalog.describe import describe_table

        return describe_table(self.table(ident), brief=brief)

    # -- work ----------------------------------------------------------------------------------

    def sql(self, query: str, *, dialect: str | None = None) -> pa.Table:
        """Run SQL over the lake's tables; returns Arrow (``.to_pandas()``, ``pl.from_arrow``)."""
        return self.engine.sql(query, dialect=dialect or self.config.query.dialect)

    def select(self, key: str, query: str, *, format: str | None = None) -> pa.Table:
        """Query one raw object in place, as S3 Select does (the object is ``s3object``)."""
        if format is None:
            from lakebed.formats import format_for_path

            guessed = format_for_path(key)
            format = guessed.name if guessed else None
        with self.store.open(key) as stream:
            return self.engine.select_object(stream, query, format=format)

    def crawl(
        self,
        source: str,
        *,
        database: str,
        progress: Any = None,
        **options: Any,
    ) -> CrawlReport:
        """Crawl a lake prefix, local folder or URL into catalog tables (see ``CrawlOptions``)."""
        from lakebed.crawl import Crawler, CrawlOptions

        store, prefix = self.resolve_source(source)
        return Crawler(self.catalog).crawl(
            store,
            prefix,
            database=database,
            options=CrawlOptions(**options),
            progress=progress,
        )

    def ingest(
        self,
        source: str,
        *,
        into: str,
        progress: LoadProgress | None = None,
        job: str | None = None,
        **options: Any,
    ) -> IngestReport:
        """Load files (a path, prefix or s3:// URL) or a database (SQLAlchemy URL) into the
        Iceberg table ``into``, in one snapshot with its bookmark; options as in
        :class:`lakebed.ingest.IngestOptions` (mode, keys, incremental, partition_by, ...)."""
        from lakebed.ingest import ingest

        return ingest(self, source, into=into, progress=progress, job=job, **options)

    def bookmarks(self, ident: str) -> list[BookmarkInfo]:
        """The incremental-load bookmarks of a table."""
        from lakebed.ingest.bookmarks import Bookmarks

        return Bookmarks(self._iceberg_table(ident)).list()

    def reset_bookmark(self, ident: str, name: str) -> None:
        """Forget a bookmark: the next incremental load of its source starts over."""
        from lakebed.ingest.bookmarks import Bookmarks

        Bookmarks(self._iceberg_table(ident)).reset(name)

    def rewind_bookmark(
        self,
        ident: str,
        name: str,
        *,
        snapshot_id: int | None = None,
        value: str | int | None = None,
    ) -> str:
        """Set a bookmark back to where it was at ``snapshot_id``, or (a database load's) to a
        column ``value``; the next load reads again what came after. Returns it in words."""
        from lakebed.ingest.bookmarks import Bookmarks

        bookmarks = Bookmarks(self._iceberg_table(ident))
        if (snapshot_id is None) == (value is None):
            raise ConfigError("pass snapshot_id or value", fix="give exactly one of them")
        if value is not None:
            return bookmarks.rewind_to_value(name, value)
        assert snapshot_id is not None
        return bookmarks.rewind(name, snapshot_id=snapshot_id)

    def unlock_bookmark(self, ident: str, name: str) -> str:
        """Free bookmark ``name`` from a load that died where lakebed cannot see it (another
        host, a container that is gone): its run is settled as the same host would settle it.
        Returns what was done, in words."""
        from lakebed.ingest import unlock_bookmark

        return unlock_bookmark(self, ident, name)

    def runs(
        self, *, job: str | None = None, target: str | None = None, limit: int = 50
    ) -> list[RunRecord]:
        """Recorded load runs, newest first."""
        from lakebed.ingest.runs import RunLog

        return RunLog(self.catalog).list(job=job, target=target, limit=limit)

    # -- table maintenance -------------------------------------------------------------------

    def optimize(self, ident: str, **options: Any) -> OptimizeReport:
        """Compact a table's small data files into right-sized ones, in one snapshot
        (``target_file_size``, ``sort_by``, ``where``, ``min_input_files``, ``progress``)."""
        from lakebed.maintenance import optimize

        return optimize(self._iceberg_table(ident), **options)

    def expire_snapshots(self, ident: str, **options: Any) -> ExpireReport:
        """Drop old snapshots (``older_than``, ``retain_last``) and the files only they used."""
        from lakebed.maintenance import expire_snapshots

        return expire_snapshots(self._iceberg_table(ident), **options)

    def remove_orphan_files(self, ident: str, **options: Any) -> OrphanReport:
        """Delete files under the table no snapshot refers to (``older_than``, ``dry_run``)."""
        from lakebed.maintenance import remove_orphan_files

        return remove_orphan_files(self._iceberg_table(ident), **options)

    def _iceberg_table(self, ident: str) -> Table:
        from lakebed.catalog import Table

        table = self.table(ident)
        if not isinstance(table, Table):
            raise ConfigError(
                f"{ident} is an external table; this needs an Iceberg table",
                fix="convert it first (lakebed crawl --convert) or pick another table",
            )
        return table

    def resolve_source(self, source: str) -> tuple[ObjectStore, str]:
        """Where ``source`` points: ``lake://key`` or a key in this lake, a local path, a URL."""
        if source.startswith("lake://"):
            return self.store, source.removeprefix("lake://").strip("/")
        if source.startswith("s3://"):
            bucket, _, prefix = source.removeprefix("s3://").partition("/")
            return open_store(f"s3://{bucket}", self.config.s3), prefix.strip("/")
        local = Path(source.removeprefix("file://")).expanduser()
        if source.startswith("file://") or local.exists():
            local = local.resolve()
            if local.is_file():
                return open_store(str(local.parent)), local.name
            return open_store(str(local)), ""
        key = source.strip("/")
        if any(True for _ in self.store.list(key)):
            return self.store, key
        raise NotFoundError(
            f"{source!r} is neither a local path, a URL, nor a prefix in the lake "
            f"{self.config.root}",
            fix="pass an existing folder, an s3:// URL, or lake://PREFIX (see `lakebed ls`)",
        )

    def convert(
        self,
        source: str | os.PathLike[str],
        dest: str | os.PathLike[str],
        *,
        to: str,
        **options: Any,
    ) -> ConvertResult:
        """Convert a local file between formats, streaming batch by batch."""
        from lakebed import formats

        return formats.convert(Path(source), Path(dest), to=to, **options)


def open_lake(
    root: str | os.PathLike[str] | None = None,
    *,
    config_file: str | os.PathLike[str] | None = None,
    **settings: Any,
) -> Lake:
    """Open (creating on first write) the lake at ``root``; settings as in ``LakeConfig``."""
    return Lake(resolve_config(root, config_file=config_file, **settings))
