"""External tables: raw files left in place (CSV, JSON Lines, Parquet, ...) with a schema.

They live in a lakebed-owned table, ``lakebed_external_tables``, in the same SQL database as the
Iceberg catalog, so one SQLite file or one PostgreSQL database holds the whole catalog.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from lakebed.catalog.naming import TableRef
from lakebed.errors import ConfigError, StorageError

_FORMAT = re.compile(r"[a-z0-9][a-z0-9_.-]*")

_metadata = sa.MetaData()
external_tables = sa.Table(
    "lakebed_external_tables",
    _metadata,
    sa.Column("catalog_name", sa.String(255), primary_key=True),
    sa.Column("table_namespace", sa.String(255), primary_key=True),
    sa.Column("table_name", sa.String(255), primary_key=True),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("format", sa.String(64), nullable=False),
    sa.Column("arrow_schema", sa.LargeBinary, nullable=False),
    sa.Column("partition_columns", sa.Text, nullable=False),
    sa.Column("options", sa.Text, nullable=False),
    sa.Column("files", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("properties", sa.Text, nullable=False, server_default="{}"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


def arrow_type_from_string(text: str, column: str) -> pa.DataType:
    """The Arrow type named by ``text`` (``"int64"``, ``"string"``, ``"date32"``, ...)."""
    try:
        return pa.type_for_alias(text)
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            f"partition column {column!r} has unknown type {text!r}",
            fix="use an Arrow type name such as 'string', 'int64', 'date32' or 'timestamp[us]'",
        ) from None


@dataclass(frozen=True)
class ExternalTable:
    """A table over raw files in place: no copy, no conversion, no snapshots."""

    kind: ClassVar[str] = "external"

    ident: str
    location: str
    format: str
    schema: pa.Schema
    partition_columns: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    description: str | None = None
    #: Free string properties, as Iceberg tables have (e.g. ``lakebed.deprecated=true``).
    properties: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def database(self) -> str:
        return self.ident.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.ident.split(".", 1)[1]

    @property
    def full_schema(self) -> pa.Schema:
        """The file columns followed by the partition columns (from ``key=value`` folders)."""
        extra = [
            pa.field(name, arrow_type_from_string(type_name, name))
            for name, type_name in self.partition_columns.items()
            if name not in self.schema.names
        ]
        return pa.schema(list(self.schema) + extra)


def _json(value: Any, what: str, ident: str) -> str:
    try:
        return json.dumps(value)  # keeps order: partition columns are outermost first
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{what} of external table {ident} cannot be stored: {exc}",
            fix="use only strings, numbers, booleans, lists and dicts",
        ) from None


def _str_pairs(props: Mapping[str, str], ident: str) -> dict[str, str]:
    for key, value in props.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ConfigError(
                f"property {key!r}={value!r} of external table {ident} is not a string pair",
                fix="convert property keys and values to strings",
            )
    return dict(props)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class ExternalRegistry:
    """Reads and writes external table entries for one catalog name."""

    def __init__(self, engine: Engine, catalog_name: str) -> None:
        self.engine = engine
        self.catalog_name = catalog_name
        try:
            _metadata.create_all(engine, checkfirst=True)
        except SQLAlchemyError:
            # Another process may have created it at the same moment; fine if it exists now.
            if not sa.inspect(engine).has_table(external_tables.name):
                raise

    def _where(self, ref: TableRef | None = None, database: str | None = None) -> Any:
        cond = external_tables.c.catalog_name == self.catalog_name
        if ref is not None:
            cond &= external_tables.c.table_namespace == ref.database
            cond &= external_tables.c.table_name == ref.name
        elif database is not None:
            cond &= external_tables.c.table_namespace == database
        return cond

    def get(self, ref: TableRef) -> ExternalTable | None:
        """The entry for ``ref``, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(external_tables).where(self._where(ref))).first()
        return None if row is None else self._from_row(dict(row._mapping))

    def names(self, database: str) -> list[str]:
        """Table names (without the database) registered in ``database``."""
        query = sa.select(external_tables.c.table_name).where(self._where(database=database))
        with self.engine.connect() as conn:
            return sorted(conn.execute(query).scalars())

    def put(
        self,
        ref: TableRef,
        *,
        location: str,
        format: str,
        schema: pa.Schema,
        files: Sequence[str],
        partition_columns: Mapping[str, str],
        options: Mapping[str, Any],
        description: str | None,
        properties: Mapping[str, str],
        replace: bool,
    ) -> ExternalTable:
        """Insert (or with ``replace``, overwrite) the entry for ``ref``."""
        ident = str(ref)
        fmt = format.strip().lower() if isinstance(format, str) else ""
        if not _FORMAT.fullmatch(fmt):
            raise ConfigError(
                f"invalid format {format!r} for external table {ident}",
                fix="name a file format such as 'csv', 'jsonl' or 'parquet'",
            )
        if not isinstance(schema, pa.Schema):
            raise ConfigError(f"schema of external table {ident} must be a pyarrow.Schema")
        for name, type_name in partition_columns.items():
            arrow_type_from_string(type_name, name)
        now = datetime.now(UTC)
        values = {
            "location": location,
            "format": fmt,
            "arrow_schema": schema.serialize().to_pybytes(),
            "partition_columns": _json(dict(partition_columns), "partition_columns", ident),
            "options": _json(dict(options), "options", ident),
            "files": _json(list(files), "files", ident),
            "description": description,
            "properties": _json(_str_pairs(properties, ident), "properties", ident),
            "updated_at": now,
        }
        keys = {
            "catalog_name": self.catalog_name,
            "table_namespace": ref.database,
            "table_name": ref.name,
        }
        with self.engine.begin() as conn:
            exists = conn.execute(sa.select(sa.literal(1)).where(self._where(ref))).first()
            if exists and replace:
                conn.execute(external_tables.update().where(self._where(ref)).values(**values))
            else:
                # Without replace, a duplicate key is reported by the caller's existence check
                # or, in a race, by the database's primary key.
                conn.execute(external_tables.insert().values(**keys, **values, created_at=now))
        found = self.get(ref)
        if found is None:  # pragma: no cover - the row was written just above
            raise StorageError(f"external table {ident} vanished while being registered")
        return found

    def set_properties(self, ref: TableRef, props: Mapping[str, str]) -> bool:
        """Merge ``props`` into the entry's properties in one transaction; False if missing."""
        ident = str(ref)
        with self.engine.begin() as conn:
            query = sa.select(external_tables.c.properties).where(self._where(ref))
            current = conn.execute(query).scalar()
            if current is None:
                return False
            merged = {**json.loads(current or "{}"), **_str_pairs(props, ident)}
            conn.execute(
                external_tables.update()
                .where(self._where(ref))
                .values(properties=_json(merged, "properties", ident), updated_at=datetime.now(UTC))
            )
        return True

    def delete(self, ref: TableRef) -> bool:
        """Remove the entry; True if there was one."""
        with self.engine.begin() as conn:
            result = conn.execute(external_tables.delete().where(self._where(ref)))
        return bool(result.rowcount)

    def _from_row(self, row: Mapping[str, Any]) -> ExternalTable:
        schema = pa.ipc.read_schema(pa.py_buffer(row["arrow_schema"]))
        return ExternalTable(
            ident=f"{row['table_namespace']}.{row['table_name']}",
            location=row["location"],
            format=row["format"],
            schema=schema,
            partition_columns=json.loads(row["partition_columns"]),
            options=json.loads(row["options"]),
            files=json.loads(row["files"]),
            description=row["description"],
            properties=json.loads(row["properties"] or "{}"),
            created_at=_aware(row["created_at"]),
            updated_at=_aware(row["updated_at"]),
        )
