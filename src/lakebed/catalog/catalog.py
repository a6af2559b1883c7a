"""The catalog: databases, Iceberg tables and external tables in one SQL database.

Built on pyiceberg's SQL catalog, so the tables are standard Iceberg (readable by Spark, Trino,
DuckDB) and the catalog is a plain SQLite file by default or a PostgreSQL database shared by a
team. Databases are Iceberg namespaces; a database's description is its ``comment`` property.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError

from lakebed.catalog.errors import mapped_errors
from lakebed.catalog.external import ExternalRegistry, ExternalTable
from lakebed.catalog.naming import TableRef, check_name, did_you_mean
from lakebed.catalog.partitioning import build_partition_spec, build_sort_order
from lakebed.catalog.schema import to_iceberg_schema
from lakebed.catalog.table import DESCRIPTION_PROPERTY, Table, str_properties
from lakebed.config import S3Config
from lakebed.errors import (
    AlreadyExistsError,
    ConfigError,
    MissingDependencyError,
    NotFoundError,
    StorageError,
)

DEFAULT_CATALOG_NAME = "lakebed"
_SUPPORTED = ("sqlite", "postgresql")


def _sqlite_url(url: str) -> str:
    """Make the SQLite file's folder and wait on locks instead of failing at once."""
    parsed = make_url(url)
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    if "timeout" not in parsed.query:
        parsed = parsed.update_query_dict({"timeout": "30"})
    return parsed.render_as_string(hide_password=False)


def _normalize_url(url: str) -> str:
    if "://" not in url:  # a bare path means a SQLite file
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise ConfigError(
            f"invalid catalog URL {url!r}",
            fix="use sqlite:///path/catalog.db or postgresql://user:pw@host:port/db",
        ) from None
    if backend not in _SUPPORTED:
        raise ConfigError(
            f"unsupported catalog database {backend!r} in {url!r}",
            fix="use sqlite:///path/catalog.db or postgresql://user:pw@host:port/db",
        )
    return _sqlite_url(url) if backend == "sqlite" else _postgres_url(url)


def _postgres_url(url: str) -> str:
    """Pick an installed driver when the URL names none (SQLAlchemy 2.1 assumes psycopg 3)."""
    parsed = make_url(url)
    if parsed.drivername != "postgresql":
        return url
    for module, driver in (("psycopg2", "postgresql+psycopg2"), ("psycopg", "postgresql+psycopg")):
        if importlib.util.find_spec(module) is not None:
            return parsed.set(drivername=driver).render_as_string(hide_password=False)
    raise MissingDependencyError("psycopg2-binary", extra=None)


def _normalize_warehouse(warehouse: str) -> str:
    if "://" in warehouse:
        return warehouse.rstrip("/")
    return Path(warehouse).expanduser().resolve().as_uri()


def s3_io_properties(s3: S3Config) -> dict[str, str]:
    """pyiceberg FileIO properties for lakebed's S3 settings (pass as ``io_properties``)."""
    props = {
        "s3.region": s3.region,
        "s3.force-virtual-addressing": "false" if s3.path_style else "true",
    }
    optional = {
        "s3.endpoint": s3.endpoint_url,
        "s3.access-key-id": s3.access_key_id,
        "s3.secret-access-key": s3.secret_access_key,
        "s3.session-token": s3.session_token,
    }
    props.update({key: value for key, value in optional.items() if value})
    return props


class Catalog:
    """Databases and tables of one lake, kept in a SQL database (SQLite or PostgreSQL)."""

    def __init__(
        self,
        url: str,
        warehouse: str,
        *,
        io_properties: dict[str, str] | None = None,
        name: str = DEFAULT_CATALOG_NAME,
    ) -> None:
        self.url = _normalize_url(url)
        self.warehouse = _normalize_warehouse(warehouse)
        self.name = name
        shown = make_url(self.url).render_as_string(hide_password=True)
        try:
            self._iceberg = SqlCatalog(
                name, uri=self.url, warehouse=self.warehouse, **(io_properties or {})
            )
            self.engine: Engine = self._iceberg.engine
            self._external = ExternalRegistry(self.engine, name)
        except SQLAlchemyError as exc:
            raise StorageError(
                f"cannot open the catalog database {shown}: {getattr(exc, 'orig', exc)}",
                fix="check that the database server is running and the URL is right",
                transient=True,
            ) from None

    def __repr__(self) -> str:
        shown = make_url(self.url).render_as_string(hide_password=True)
        return f"Catalog({shown!r}, warehouse={self.warehouse!r})"

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- databases ---------------------------------------------------------------------
    def create_database(
        self, name: str, *, description: str | None = None, exist_ok: bool = False
    ) -> None:
        """Create a database (an Iceberg namespace)."""
        check_name(name, "database")
        if self.database_exists(name):
            if exist_ok:
                return
            raise AlreadyExistsError(
                f"database {name!r} already exists", fix="pass exist_ok=True or pick another name"
            )
        props = {DESCRIPTION_PROPERTY: description} if description else {}
        try:
            with mapped_errors(f"database {name!r}"):
                self._iceberg.create_namespace(name, props)
        except AlreadyExistsError:
            if not exist_ok:
                raise

    def list_databases(self) -> list[str]:
        """Every database, sorted."""
        with mapped_errors("the catalog"):
            return sorted(".".join(ns) for ns in self._iceberg.list_namespaces())

    def database_exists(self, name: str) -> bool:
        with mapped_errors(f"database {name!r}"):
            return bool(self._iceberg.namespace_exists(name))

    def database_properties(self, name: str) -> dict[str, str]:
        """A database's properties (its description is ``comment``)."""
        self._require_database(name)
        with mapped_errors(f"database {name!r}"):
            return dict(self._iceberg.load_namespace_properties(name))

    def database_description(self, name: str) -> str | None:
        return self.database_properties(name).get(DESCRIPTION_PROPERTY)

    def set_database_properties(self, name: str, **props: str) -> None:
        """Set database properties; ``comment`` is its description."""
        self._require_database(name)
        with mapped_errors(f"database {name!r}"):
            updates = str_properties(props, "property")
            self._iceberg.update_namespace_properties(name, updates=updates)

    def drop_database(self, name: str, *, cascade: bool = False) -> None:
        """Drop a database; with ``cascade`` its tables go too (their files are kept)."""
        self._require_database(name)
        tables = self.list_tables(name)
        if tables and not cascade:
            shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
            raise ConfigError(
                f"database {name!r} is not empty: it has {len(tables)} table(s) ({shown})",
                fix=f"drop the tables first or pass cascade=True (`lakebed tables {name}` "
                "lists them)",
            )
        for ident in tables:
            self.drop_table(ident)
        with mapped_errors(f"database {name!r}"):
            self._iceberg.drop_namespace(name)

    def _require_database(self, name: str) -> None:
        check_name(name, "database")
        if not self.database_exists(name):
            raise NotFoundError(
                f"database {name!r} does not exist{did_you_mean(name, self.list_databases())}",
                fix=f"create it with create_database({name!r}); `lakebed databases` lists them",
            )

    # ----- tables ------------------------------------------------------------------------
    def create_table(
        self,
        ident: str,
        schema: pa.Schema,
        *,
        partition_by: Sequence[str] = (),
        sort_by: Sequence[str] = (),
        properties: Mapping[str, str] | None = None,
        description: str | None = None,
        exist_ok: bool = False,
    ) -> Table:
        """Create an empty Iceberg table; ``partition_by`` items like ``"day(ts)"``."""
        ref = TableRef.parse(ident)
        self._require_database(ref.database)
        if self.table_exists(ident):
            existing = self.load_table(ident)
            if exist_ok and isinstance(existing, Table):
                return existing
            raise AlreadyExistsError(
                f"table {ref} already exists"
                + (" as an external table" if isinstance(existing, ExternalTable) else ""),
                fix="pick another name, drop it first, or pass exist_ok=True",
            )
        if not isinstance(schema, pa.Schema):
            raise ConfigError(f"schema of table {ref} must be a pyarrow.Schema")
        iceberg_schema = to_iceberg_schema(schema)
        spec = build_partition_spec(iceberg_schema, partition_by)
        order = build_sort_order(iceberg_schema, sort_by)
        props = str_properties(properties, "property")
        if description:
            props[DESCRIPTION_PROPERTY] = description
        with mapped_errors(f"table {ref}"):
            created = self._iceberg.create_table(
                (ref.database, ref.name),
                schema=iceberg_schema,
                partition_spec=spec,
                sort_order=order,
                properties=props,
            )
        return Table(str(ref), created)

    def load_table(self, ident: str) -> Table | ExternalTable:
        """An Iceberg or external table by ``"db.table"``; NotFoundError suggests close names."""
        ref = TableRef.parse(ident)
        external = self._external.get(ref)
        if external is not None:
            return external
        self._require_database(ref.database)
        try:
            with mapped_errors(f"table {ref}"):
                return Table(str(ref), self._iceberg.load_table((ref.database, ref.name)))
        except NotFoundError:
            names = self.list_tables(ref.database)
            raise NotFoundError(
                f"table {ref} does not exist{did_you_mean(str(ref), names)}",
                fix=f"`lakebed tables {ref.database}` lists the tables of {ref.database!r}",
            ) from None

    def table_exists(self, ident: str) -> bool:
        ref = TableRef.parse(ident)
        if self._external.get(ref) is not None:
            return True
        with mapped_errors(f"table {ref}"):
            return bool(self._iceberg.table_exists((ref.database, ref.name)))

    def list_tables(self, database: str) -> list[str]:
        """Every table of a database, Iceberg and external, as sorted ``"db.table"`` names."""
        self._require_database(database)
        with mapped_errors(f"database {database!r}"):
            iceberg = [ident[-1] for ident in self._iceberg.list_tables(database)]
        names = set(iceberg) | set(self._external.names(database))
        return [f"{database}.{name}" for name in sorted(names)]

    def drop_table(self, ident: str, *, purge: bool = False) -> None:
        """Remove a table from the catalog; ``purge`` also deletes an Iceberg table's files.

        An external table's files are never deleted: they were there before it.
        """
        ref = TableRef.parse(ident)
        if self._external.delete(ref):
            return
        self.load_table(ident)  # a clear NotFoundError when missing
        with mapped_errors(f"table {ref}"):
            if purge:
                self._iceberg.purge_table((ref.database, ref.name))
            else:
                self._iceberg.drop_table((ref.database, ref.name))

    def register_external_table(
        self,
        ident: str,
        *,
        location: str,
        format: str,
        schema: pa.Schema,
        files: Sequence[str] = (),
        partition_columns: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
        description: str | None = None,
        properties: Mapping[str, str] | None = None,
        replace: bool = False,
    ) -> ExternalTable:
        """Catalog raw files in place; ``replace`` updates an existing external table (all of
        its entry, properties included)."""
        ref = TableRef.parse(ident)
        self._require_database(ref.database)
        current = self._external.get(ref)
        if current is None and self.table_exists(ident):
            raise AlreadyExistsError(
                f"table {ref} already exists as an Iceberg table",
                fix="pick another name or drop the Iceberg table first",
            )
        if current is not None and not replace:
            raise AlreadyExistsError(
                f"external table {ref} already exists", fix="pass replace=True to update it"
            )
        try:
            return self._external.put(
                ref,
                location=location,
                format=format,
                schema=schema,
                files=files,
                partition_columns=partition_columns or {},
                options=options or {},
                description=description,
                properties=properties or {},
                replace=replace,
            )
        except IntegrityError:
            raise AlreadyExistsError(
                f"external table {ref} was registered by someone else just now",
                fix="pass replace=True to update it",
            ) from None

    def set_table_properties(self, ident: str, **props: str) -> None:
        """Set properties of an Iceberg or external table (merged into the existing ones)."""
        ref = TableRef.parse(ident)
        if self._external.set_properties(ref, str_properties(props, "property")):
            return
        table = self.load_table(ident)  # a clear NotFoundError when missing
        if isinstance(table, Table):
            table.set_properties(**props)
