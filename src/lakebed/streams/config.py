"""A delivery stream's configuration: where records come from, how they are read, where they go.

The source is one of the source configs (``type: kafka | redis | http``), each defined next to
its backend and imported only when a stream of that type is configured, so ``import lakebed``
stays fast and a missing client library only matters to the streams that need it. A source
type may also be given as an import path (``"package.module:ConfigClass"``), for sources
outside lakebed.

Buffering hints follow Firehose: a batch is delivered when the buffered bytes reach
``buffer_size_bytes`` (1 to 128 MiB, default 5 MiB) or the oldest buffered record is
``buffer_interval_s`` old (0 to 900 s, default 300 s), whichever comes first.

The table's schema drives conversion: the existing table's, else ``table_schema`` (column →
Arrow type name, e.g. ``{"id": "int64", "ts": "timestamp[us, tz=UTC]"}``), else the schema
inferred from the first batch.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)

from lakebed.catalog.naming import TableRef
from lakebed.config import validation_problems
from lakebed.errors import ConfigError

MiB = 1 << 20
#: Firehose's buffering hints: (minimum, default, maximum).
BUFFER_SIZE_RANGE = (1 * MiB, 5 * MiB, 128 * MiB)
BUFFER_INTERVAL_RANGE = (0.0, 300.0, 900.0)
#: Firehose's largest record (1,000 KiB) is the default maximum.
DEFAULT_MAX_RECORD_BYTES = 1_024_000

#: Built-in source types and the config class that reads each, imported on first use.
SOURCE_TYPES: dict[str, str] = {
    "kafka": "lakebed.streams.sources.kafka:KafkaSourceConfig",
    "redis": "lakebed.streams.sources.redis:RedisSourceConfig",
    "http": "lakebed.streams.wal:HttpSourceConfig",
}

_STREAM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


def _import(path: str, what: str) -> Any:
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"{what} {path!r} cannot be imported: {exc}",
            fix="check the name; a built-in source may need its extra installed",
        ) from None


def source_config_class(type_name: str) -> type[BaseModel]:
    """The config class for source type ``type_name`` (a built-in name or an import path)."""
    target = SOURCE_TYPES.get(type_name)
    if target is None and ":" not in type_name:
        raise ConfigError(
            f"unknown stream source type {type_name!r}",
            fix=f"use one of: {', '.join(SOURCE_TYPES)} (or 'package.module:ConfigClass')",
        )
    cls = _import(target or type_name, "stream source config")
    if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        raise ConfigError(
            f"stream source type {type_name!r} is not a pydantic model",
            fix="point it at a pydantic config class with an open_source() method",
        )
    return cls


def parse_source(value: Any) -> BaseModel:
    """A source config from a mapping (``{"type": "kafka", ...}``) or a config object."""
    if isinstance(value, BaseModel):
        if not callable(getattr(value, "open_source", None)):
            raise ConfigError(
                f"{type(value).__name__} is not a stream source config",
                fix="pass a KafkaSourceConfig, RedisSourceConfig, HttpSourceConfig or a dict",
            )
        return value
    if not isinstance(value, Mapping) or not isinstance(value.get("type"), str):
        raise ConfigError(
            f"stream source {value!r} has no type",
            fix=f"give a mapping with 'type' set to one of: {', '.join(SOURCE_TYPES)}",
        )
    cls = source_config_class(value["type"])
    try:
        return cls.model_validate(dict(value))
    except ValidationError as exc:
        raise ConfigError(
            f"invalid {value['type']} stream source: {validation_problems(exc, 'source')}",
            fix="check the source's keys and values",
        ) from None


def parse_windows(value: Any) -> BaseModel | None:
    """A :class:`~lakebed.streams.windows.WindowSpec` from a mapping or a spec (None: none)."""
    if value is None:
        return None
    from lakebed.streams.windows import WindowSpec

    if isinstance(value, WindowSpec):
        return value
    try:
        return WindowSpec.model_validate(value)
    except ValidationError as exc:
        raise ConfigError(
            f"invalid windows: {validation_problems(exc, 'windows')}",
            fix="e.g. {'kind': 'tumbling', 'size_s': 60, 'time_field': 'ts', "
            "'aggregations': {'n': 'count(*)'}}",
        ) from None


class StreamConfig(BaseModel):
    """Everything a delivery stream is told; the same names in Python, YAML and the CLI."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    #: The target table, ``"db.table"``; created on the first delivery when absent.
    into: str
    source: SerializeAsAny[BaseModel]
    format: Literal["json", "avro", "protobuf"] = "json"
    #: For the decoder: a schema-registry subject, or the writer schema / .proto text itself,
    #: the Protobuf message name, and the wire format (Confluent framing or plain payloads).
    schema_subject: str | None = None
    schema_text: str | None = Field(default=None, alias="schema")
    message: str | None = None
    wire: Literal["auto", "confluent", "plain"] = "auto"
    buffer_size_bytes: int = BUFFER_SIZE_RANGE[1]
    buffer_interval_s: float = BUFFER_INTERVAL_RANGE[1]
    #: Fields, nested paths (``user.country``) or transforms (``day(ts)``, ``bucket(16, id)``,
    #: ``truncate(3, code)``): the table is created with these hidden partitions.
    partition_by: list[str] = []
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    #: Fields the table does not have: ``error`` sends the record to the error output.
    unknown_fields: Literal["error", "ignore"] = "error"
    #: When set, the stream delivers window aggregates instead of the records.
    windows: SerializeAsAny[BaseModel] | None = None
    #: Column → type (``long``, ``timestamptz``, ``int64``, ``timestamp[us, tz=UTC]``,
    #: ``decimal(12,2)``), for a table that does not exist yet; for a windowed stream, the
    #: types of the records' fields.
    table_schema: dict[str, str] | None = None
    #: Where failed records go; default ``<db>._stream_errors``.
    errors_table: str | None = None
    description: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _STREAM_NAME.fullmatch(value):
            raise ValueError(
                f"invalid stream name {value!r}: use letters, digits, '_' and '-' "
                "(starting with a letter, at most 64)"
            )
        return value

    @field_validator("into", "errors_table")
    @classmethod
    def _table(cls, value: str | None) -> str | None:
        return None if value is None else str(TableRef.parse(value))

    @field_validator("source", mode="before")
    @classmethod
    def _source(cls, value: Any) -> BaseModel:
        return parse_source(value)

    @field_validator("windows", mode="before")
    @classmethod
    def _windows(cls, value: Any) -> BaseModel | None:
        return parse_windows(value)

    @field_validator("buffer_size_bytes", "max_record_bytes", mode="before")
    @classmethod
    def _size_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            from lakebed.ingest.options import parse_size

            return parse_size(value, "size")
        return value

    @field_validator("buffer_size_bytes")
    @classmethod
    def _size(cls, value: int) -> int:
        low, _, high = BUFFER_SIZE_RANGE
        if not low <= value <= high:
            raise ValueError(f"must be 1 MiB to 128 MiB ({low} to {high} bytes), not {value}")
        return value

    @field_validator("buffer_interval_s")
    @classmethod
    def _interval(cls, value: float) -> float:
        low, _, high = BUFFER_INTERVAL_RANGE
        if not low <= value <= high:
            raise ValueError(f"must be 0 to 900 seconds, not {value}")
        return value

    @field_validator("max_record_bytes")
    @classmethod
    def _max_record(cls, value: int) -> int:
        if not 1 <= value <= BUFFER_SIZE_RANGE[2]:
            raise ValueError(f"must be 1 byte to 128 MiB, not {value}")
        return value

    @field_validator("partition_by")
    @classmethod
    def _partition_by(cls, value: list[str]) -> list[str]:
        from lakebed.catalog.partitioning import parse_transform

        for item in value:
            parse_transform(item)  # raises ConfigError naming a malformed item
        return value

    @field_validator("table_schema")
    @classmethod
    def _table_schema(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None:
            from lakebed.streams.parts import column_type

            if not value:
                raise ValueError("table_schema has no columns")
            for column, type_name in value.items():
                column_type(type_name, column)
        return value

    @model_validator(mode="after")
    def _decoder(self) -> StreamConfig:
        if self.format == "protobuf" and not (self.schema_subject or self.message):
            raise ValueError(
                "format 'protobuf' needs schema_subject or schema plus message (the message name)"
            )
        if (
            self.format == "avro"
            and self.wire == "plain"
            and not (self.schema_subject or self.schema_text)
        ):
            raise ValueError("format 'avro' with plain payloads needs schema or schema_subject")
        return self

    @property
    def table(self) -> TableRef:
        return TableRef.parse(self.into)

    @property
    def errors_ident(self) -> str:
        """The error output table: ``errors_table`` or ``<db>._stream_errors``."""
        return self.errors_table or f"{self.table.database}._stream_errors"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (what the catalog stores and ``--json`` prints)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def stream_config(name: str, *, source: Any, into: str, **options: Any) -> StreamConfig:
    """Validate a stream's configuration; ConfigError lists every problem found."""
    try:
        return StreamConfig.model_validate(
            {"name": name, "source": source, "into": into, **options}
        )
    except ValidationError as exc:
        raise ConfigError(
            f"invalid stream {name!r}: {validation_problems(exc, 'stream')}",
            fix="check the option names and ranges (see `lakebed stream create --help`)",
        ) from None
