"""What the previous crawl saw, kept in the catalog's SQL database (SQLite or PostgreSQL).

One row per source file per crawl scope (store URL, database, prefix): size, modification time,
checksum, detected format and options, schema fingerprint, the table it went to, or why it was
skipped. Schemas are stored once per fingerprint. A re-crawl reads the whole scope in one query
and diffs it against the listing (:func:`diff_listing`), so only new and changed files are opened;
writes go in one transaction with bulk statements.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from lakebed.storage.base import ObjectInfo

_CHUNK = 500

_metadata = sa.MetaData()
_files = sa.Table(
    "lakebed_crawl_files",
    _metadata,
    sa.Column("store_url", sa.String(1024), primary_key=True),
    sa.Column("database_name", sa.String(255), primary_key=True),
    sa.Column("prefix", sa.String(1024), primary_key=True),
    sa.Column("object_key", sa.String(2048), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("modified_us", sa.BigInteger, nullable=False),
    sa.Column("checksum", sa.String(128)),
    sa.Column("format", sa.String(64)),
    sa.Column("fingerprint", sa.String(64)),
    sa.Column("options", sa.Text),
    sa.Column("table_name", sa.String(255)),
    sa.Column("skip_reason", sa.Text),
    sa.Column("gone", sa.Boolean, nullable=False, default=False),
)
_schemas = sa.Table(
    "lakebed_crawl_schemas",
    _metadata,
    sa.Column("fingerprint", sa.String(64), primary_key=True),
    sa.Column("schema_ipc", sa.LargeBinary, nullable=False),
)
#: Commits of converting crawls written ahead, until the state save marks them done
#: (see :mod:`lakebed.crawl.commits`).
commits_table = sa.Table(
    "lakebed_crawl_commits",
    _metadata,
    sa.Column("commit_id", sa.String(64), primary_key=True),
    sa.Column("store_url", sa.String(1024), nullable=False),
    sa.Column("database_name", sa.String(255), nullable=False),
    sa.Column("prefix", sa.String(1024), nullable=False),
    sa.Column("table_ident", sa.String(511), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("files_hash", sa.String(64), nullable=False),
    sa.Column("states", sa.Text, nullable=False),
    sa.Column("created_ns", sa.BigInteger, nullable=False),
)


def to_micros(moment: datetime) -> int:
    """A timestamp as integer microseconds since the epoch (exact, portable across databases)."""
    return int(moment.timestamp() * 1_000_000)


@dataclass(frozen=True)
class Scope:
    """One crawl target: the same prefix of the same store crawled into the same database."""

    store_url: str
    database: str
    prefix: str


@dataclass(frozen=True)
class FileState:
    """The last crawl's knowledge of one object."""

    key: str
    size: int
    modified_us: int
    checksum: str | None = None
    format: str | None = None
    fingerprint: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    table: str | None = None
    skip_reason: str | None = None
    #: Removed from the store but still referenced by its table (removed_policy="log").
    gone: bool = False

    @classmethod
    def seen(cls, info: ObjectInfo) -> FileState:
        """A state for a listed object, before inspection."""
        return cls(info.key, info.size, to_micros(info.modified), info.checksum)

    def with_(self, **changes: object) -> FileState:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass
class ListingDiff:
    """A listing compared with the stored state."""

    new: list[ObjectInfo] = field(default_factory=list)
    changed: list[ObjectInfo] = field(default_factory=list)
    unchanged: list[FileState] = field(default_factory=list)
    removed: list[FileState] = field(default_factory=list)
    #: Files removed earlier and kept referenced (log policy); not counted again.
    gone: list[FileState] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.new or self.changed or self.removed)


def diff_listing(listing: Iterable[ObjectInfo], known: Mapping[str, FileState]) -> ListingDiff:
    """Split a listing into new, changed and unchanged objects, plus the removed states."""
    diff = ListingDiff()
    listed: set[str] = set()
    for info in listing:
        listed.add(info.key)
        state = known.get(info.key)
        if state is None or state.gone:
            diff.new.append(info)
        elif (
            state.size != info.size
            or state.modified_us != to_micros(info.modified)
            or (state.checksum and info.checksum and state.checksum != info.checksum)
        ):
            diff.changed.append(info)
        else:
            diff.unchanged.append(state)
    for key, state in known.items():
        if key not in listed:
            (diff.gone if state.gone else diff.removed).append(state)
    return diff


class CrawlState:
    """Reads and writes crawl state through a SQLAlchemy engine (tables created on first use)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        _metadata.create_all(engine, checkfirst=True)

    @staticmethod
    def _where(scope: Scope) -> sa.ColumnElement[bool]:
        return sa.and_(
            _files.c.store_url == scope.store_url,
            _files.c.database_name == scope.database,
            _files.c.prefix == scope.prefix,
        )

    def load(self, scope: Scope) -> dict[str, FileState]:
        """Every file state of ``scope``, by key, in one query."""
        query = sa.select(_files).where(self._where(scope))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return {
            row["object_key"]: FileState(
                key=row["object_key"],
                size=row["size"],
                modified_us=row["modified_us"],
                checksum=row["checksum"],
                format=row["format"],
                fingerprint=row["fingerprint"],
                options=json.loads(row["options"]) if row["options"] else {},
                table=row["table_name"],
                skip_reason=row["skip_reason"],
                gone=bool(row["gone"]),
            )
            for row in rows
        }

    def load_schemas(self, fingerprints: Iterable[str]) -> dict[str, pa.Schema]:
        """The schemas stored under ``fingerprints`` (missing ones are left out)."""
        wanted = sorted(set(fingerprints))
        found: dict[str, pa.Schema] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                query = sa.select(_schemas).where(_schemas.c.fingerprint.in_(chunk))
                for row in conn.execute(query):
                    found[row.fingerprint] = pa.ipc.read_schema(pa.py_buffer(row.schema_ipc))
        return found

    def save(
        self,
        scope: Scope,
        states: Sequence[FileState],
        *,
        delete: Sequence[str] = (),
        schemas: Mapping[str, pa.Schema] | None = None,
        done: Sequence[str] = (),
    ) -> None:
        """Write ``states`` (replacing rows of the same keys), drop ``delete`` keys, store
        new ``schemas`` and mark the pending commits ``done`` — all in one transaction."""
        keys = sorted({s.key for s in states} | set(delete))
        rows = [
            {
                "store_url": scope.store_url,
                "database_name": scope.database,
                "prefix": scope.prefix,
                "object_key": s.key,
                "size": s.size,
                "modified_us": s.modified_us,
                "checksum": s.checksum,
                "format": s.format,
                "fingerprint": s.fingerprint,
                "options": json.dumps(s.options, sort_keys=True) if s.options else None,
                "table_name": s.table,
                "skip_reason": s.skip_reason,
                "gone": s.gone,
            }
            for s in states
        ]
        with self.engine.begin() as conn:
            if schemas:
                self.save_schemas(conn, schemas)
            for start in range(0, len(done), _CHUNK):
                chunk = list(done[start : start + _CHUNK])
                conn.execute(sa.delete(commits_table).where(commits_table.c.commit_id.in_(chunk)))
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                conn.execute(
                    sa.delete(_files).where(self._where(scope), _files.c.object_key.in_(chunk))
                )
            if rows:
                conn.execute(sa.insert(_files), rows)

    @staticmethod
    def save_schemas(conn: sa.Connection, schemas: Mapping[str, pa.Schema]) -> None:
        """Store the ``schemas`` not stored yet, inside the caller's transaction."""
        wanted = sorted(schemas)
        known: set[str] = set()
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            query = sa.select(_schemas.c.fingerprint).where(_schemas.c.fingerprint.in_(chunk))
            known.update(conn.execute(query).scalars())
        rows = [
            {"fingerprint": fp, "schema_ipc": schemas[fp].serialize().to_pybytes()}
            for fp in wanted
            if fp not in known
        ]
        if rows:
            conn.execute(sa.insert(_schemas), rows)

    def forget(self, scope: Scope) -> None:
        """Drop every state row of ``scope`` (the next crawl starts from scratch)."""
        with self.engine.begin() as conn:
            conn.execute(sa.delete(_files).where(self._where(scope)))
            conn.execute(
                sa.delete(commits_table).where(
                    commits_table.c.store_url == scope.store_url,
                    commits_table.c.database_name == scope.database,
                    commits_table.c.prefix == scope.prefix,
                )
            )
