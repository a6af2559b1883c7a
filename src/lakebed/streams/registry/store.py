"""The schema registry, kept in the lake's catalog database.

Three tables, created if missing: ``lakebed_schema_schemas`` (global id → type and text; one
row per distinct schema, shared by every subject that registers it, as Confluent's ids are),
``lakebed_schema_versions`` (subject, version → schema id) and ``lakebed_schema_config``
(compatibility per subject; the row with an empty subject is the global default). Deleting a
subject removes its versions but keeps the schemas, so records already written with their ids
still decode.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lakebed.errors import ConfigError, NotFoundError, SchemaError
from lakebed.streams.registry import avro, jsonschema, protobuf
from lakebed.streams.registry.compat import DEFAULT_MODE, MODES, Mode, Pair, directions

SchemaType = Literal["AVRO", "JSON", "PROTOBUF"]
SCHEMA_TYPES: tuple[SchemaType, ...] = ("AVRO", "JSON", "PROTOBUF")
_FORMATS: dict[str, Any] = {"AVRO": avro, "JSON": jsonschema, "PROTOBUF": protobuf}

_metadata = sa.MetaData()
_schemas = sa.Table(
    "lakebed_schema_schemas",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("schema_type", sa.String(16), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
    sa.Column("schema", sa.Text, nullable=False),
)
_versions = sa.Table(
    "lakebed_schema_versions",
    _metadata,
    sa.Column("subject", sa.String(255), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("schema_id", sa.Integer, nullable=False),
)
_config = sa.Table(
    "lakebed_schema_config",
    _metadata,
    sa.Column("subject", sa.String(255), primary_key=True),
    sa.Column("compatibility", sa.String(32), nullable=False),
)


class IncompatibleSchemaError(SchemaError):
    """A new schema version breaks the subject's compatibility mode; ``reasons`` lists why."""

    def __init__(self, subject: str, mode: str, reasons: list[str]) -> None:
        self.subject = subject
        self.mode = mode
        self.reasons = reasons
        listed = "; ".join(reasons)
        super().__init__(
            f"schema for subject {subject!r} is not {mode} compatible: {listed}",
            fix="change the schema to keep compatibility (e.g. give new fields defaults), or "
            "set the subject's compatibility mode with set_compatibility()",
        )


@dataclass(frozen=True)
class SchemaVersion:
    """One registered version of a subject (or, from :meth:`SchemaRegistry.get`, a schema)."""

    id: int
    subject: str
    version: int
    schema_type: SchemaType
    schema: str


def parse_schema(schema: str, schema_type: str, subject: str = "") -> Any:
    """Parse schema text of a type into the format module's form; SchemaError if invalid."""
    if schema_type not in _FORMATS:
        raise ConfigError(
            f"unknown schema type {schema_type!r}", fix=f"use one of {', '.join(SCHEMA_TYPES)}"
        )
    try:
        return _FORMATS[schema_type].parse(schema)
    except ValueError as exc:
        where = f" for subject {subject!r}" if subject else ""
        raise SchemaError(
            f"invalid {schema_type} schema{where}: {exc}", fix="correct the schema text"
        ) from exc


class SchemaRegistry:
    """Subjects, versions and global schema ids with compatibility checks, in a SQL database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        _metadata.create_all(engine, checkfirst=True)

    # ---- reading ------------------------------------------------------------------------
    def get(self, schema_id: int) -> SchemaVersion:
        """The schema with a global id (subject and version of its first registration)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_schemas).where(_schemas.c.id == schema_id)).first()
            if row is None:
                raise NotFoundError(
                    f"no schema with id {schema_id}",
                    fix="register the schema first, or check the id in the record header",
                )
            first = conn.execute(
                sa.select(_versions.c.subject, _versions.c.version)
                .where(_versions.c.schema_id == schema_id)
                .order_by(_versions.c.subject, _versions.c.version)
            ).first()
        subject, version = (first.subject, first.version) if first else ("", 0)
        return SchemaVersion(row.id, subject, version, row.schema_type, row.schema)

    def subjects(self) -> list[str]:
        """Every subject with at least one version, sorted."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(_versions.c.subject).distinct()).scalars().all()
        return sorted(rows)

    def versions(self, subject: str) -> list[int]:
        """The version numbers of a subject, ascending."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(_versions.c.version)
                .where(_versions.c.subject == subject)
                .order_by(_versions.c.version)
            ).scalars()
            found = list(rows)
        if not found:
            raise self._no_subject(subject)
        return found

    def version(self, subject: str, n: int) -> SchemaVersion:
        """Version ``n`` of a subject."""
        found = self._load(subject, n)
        if not found:
            raise NotFoundError(
                f"subject {subject!r} has no version {n}",
                fix=f"pick one of the versions listed by versions({subject!r})",
            )
        return found[0]

    def latest(self, subject: str) -> SchemaVersion:
        """The newest version of a subject."""
        found = self._load(subject, None)
        if not found:
            raise self._no_subject(subject)
        return found[-1]

    def _load(self, subject: str, n: int | None) -> list[SchemaVersion]:
        query = (
            sa.select(_versions.c.version, _schemas)
            .join(_schemas, _schemas.c.id == _versions.c.schema_id)
            .where(_versions.c.subject == subject)
            .order_by(_versions.c.version)
        )
        if n is not None:
            query = query.where(_versions.c.version == n)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [SchemaVersion(r.id, subject, r.version, r.schema_type, r.schema) for r in rows]

    @staticmethod
    def _no_subject(subject: str) -> NotFoundError:
        return NotFoundError(
            f"schema subject {subject!r} does not exist",
            fix="register a schema under it first (see subjects() for the existing ones)",
        )

    # ---- compatibility ------------------------------------------------------------------
    def compatibility(self, subject: str | None = None) -> Mode:
        """The mode for a subject (its own, else the global one), or the global mode."""
        with self.engine.connect() as conn:
            rows = dict(
                conn.execute(
                    sa.select(_config.c.subject, _config.c.compatibility).where(
                        _config.c.subject.in_([subject or "", ""])
                    )
                ).all()
            )
        mode = rows.get(subject or "") or rows.get("") or DEFAULT_MODE
        return mode

    def set_compatibility(self, mode: str, subject: str | None = None) -> None:
        """Set the compatibility mode of a subject, or the global default (``subject=None``)."""
        mode = mode.upper()
        if mode not in MODES:
            raise ConfigError(f"unknown compatibility mode {mode!r}", fix=f"use one of {MODES}")
        key = subject or ""
        with self.engine.begin() as conn:
            conn.execute(_config.delete().where(_config.c.subject == key))
            conn.execute(_config.insert().values(subject=key, compatibility=mode))

    def check(self, subject: str, schema: str, schema_type: SchemaType = "AVRO") -> list[str]:
        """Why ``schema`` may not become the next version of ``subject`` (empty: it may)."""
        parsed = parse_schema(schema, schema_type, subject)
        return self._reasons(subject, parsed, schema_type, self._load(subject, None))

    def _reasons(
        self, subject: str, parsed: Any, schema_type: str, existing: list[SchemaVersion]
    ) -> list[str]:
        if not existing:
            return []
        new_reads_old, old_reads_new, transitive = directions(self.compatibility(subject))
        against = existing if transitive else existing[-1:]
        module = _FORMATS[schema_type]
        reasons: list[str] = []
        for old in reversed(against):
            if old.schema_type != schema_type:
                reasons.append(
                    f"version {old.version} is {old.schema_type}, the new schema {schema_type}"
                )
                continue
            old_parsed = parse_schema(old.schema, old.schema_type, subject)
            if new_reads_old:
                pair = Pair(parsed, old_parsed, True, old.version)
                for reason in module.can_read(pair):
                    reasons.append(f"{reason} (the new schema cannot read version {old.version})")
            if old_reads_new:
                pair = Pair(old_parsed, parsed, False, old.version)
                for reason in module.can_read(pair):
                    reasons.append(f"{reason} (version {old.version} cannot read the new schema)")
        return list(dict.fromkeys(reasons))

    # ---- writing ------------------------------------------------------------------------
    def register(
        self, subject: str, schema: str, schema_type: SchemaType = "AVRO"
    ) -> SchemaVersion:
        """Add ``schema`` as the next version of ``subject`` (or return the identical existing
        version); raises :class:`IncompatibleSchemaError` if it breaks the subject's mode."""
        if not subject or len(subject) > 255:
            raise ConfigError(
                f"invalid subject name {subject!r}", fix="use a non-empty name of at most 255 chars"
            )
        parsed = parse_schema(schema, schema_type, subject)
        fingerprint = hashlib.sha256(f"{schema_type}\0{parsed.canonical}".encode()).hexdigest()
        for _attempt in range(5):
            existing = self._load(subject, None)
            same = self._same_schema(subject, fingerprint)
            if same is not None:
                return next(v for v in existing if v.version == same)
            reasons = self._reasons(subject, parsed, schema_type, existing)
            if reasons:
                raise IncompatibleSchemaError(subject, self.compatibility(subject), reasons)
            schema_id = self._schema_id(fingerprint, schema_type, schema)
            number = existing[-1].version + 1 if existing else 1
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        _versions.insert().values(
                            subject=subject, version=number, schema_id=schema_id
                        )
                    )
            except IntegrityError:
                continue  # another writer took this version number: look again
            stored = self.get(schema_id)
            return SchemaVersion(schema_id, subject, number, schema_type, stored.schema)
        raise SchemaError(
            f"could not register a schema for subject {subject!r}: too many concurrent writers",
            fix="retry",
        )

    def _same_schema(self, subject: str, fingerprint: str) -> int | None:
        query = (
            sa.select(sa.func.min(_versions.c.version))
            .join(_schemas, _schemas.c.id == _versions.c.schema_id)
            .where(_versions.c.subject == subject, _schemas.c.fingerprint == fingerprint)
        )
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else int(found)

    def _schema_id(self, fingerprint: str, schema_type: str, schema: str) -> int:
        select = sa.select(_schemas.c.id).where(_schemas.c.fingerprint == fingerprint)
        with self.engine.connect() as conn:
            found = conn.execute(select).scalar()
        if found is not None:
            return int(found)
        try:
            with self.engine.begin() as conn:
                result = conn.execute(
                    _schemas.insert().values(
                        schema_type=schema_type, fingerprint=fingerprint, schema=schema
                    )
                )
                key = result.inserted_primary_key
                assert key is not None
                return int(key[0])
        except IntegrityError:
            with self.engine.connect() as conn:
                return int(conn.execute(select).scalar_one())

    def delete_subject(self, subject: str) -> list[int]:
        """Remove every version of a subject (the schemas keep their ids); returns the versions."""
        numbers = self.versions(subject)
        with self.engine.begin() as conn:
            conn.execute(_versions.delete().where(_versions.c.subject == subject))
            conn.execute(_config.delete().where(_config.c.subject == subject))
        return numbers
