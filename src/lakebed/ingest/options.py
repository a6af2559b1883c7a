"""How a load behaves: :class:`IngestOptions`, checked once when the load (or job file) is read."""

from __future__ import annotations

import re
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lakebed.config import validation_problems
from lakebed.errors import ConfigError

Mode = Literal["append", "overwrite", "overwrite-partitions", "merge", "cdc"]
SchemaPolicy = Literal["evolve", "strict"]
OnIncompatible = Literal["error", "quarantine"]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}

#: Default size of the data files a load writes (Iceberg's own default is 512 MiB).
DEFAULT_TARGET_FILE_SIZE = 256 << 20
#: Default time a bookmark lock outlives its holder's last heartbeat (see ``lock_ttl``).
DEFAULT_LOCK_TTL = 600.0

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$", re.IGNORECASE)
_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_seconds(value: float | int | str, what: str = "duration") -> float:
    """``"90s"``, ``"10m"``, ``"2h"``, ``"1d"`` or a number of seconds, in seconds (> 0)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{what} {value!r} is not a duration: write it like 90s, 10m or 2h")
        seconds = float(match.group(1)) * _SECONDS[(match.group(2) or "s").lower()]
    if seconds <= 0:
        raise ValueError(f"{what} must be positive, not {value!r}")
    return seconds


def parse_size(value: int | str, what: str = "size") -> int:
    """``"128MB"``, ``"1.5 GiB"``, ``"4096"`` or an int, in bytes (units are powers of 1024)."""
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(str(value))
        if not match:
            raise ConfigError(
                f"{what} {value!r} is not a size", fix="write it like 128MB, 1GB or 4096"
            )
        unit = (match.group(2) or "").lower()[:1]
        size = int(float(match.group(1)) * _UNITS[unit])
    if size <= 0:
        raise ConfigError(f"{what} must be positive, not {value!r}")
    return size


_DECIMAL = re.compile(r"^decimal(?:128)?\(\s*(\d+)\s*,\s*(\d+)\s*\)$", re.IGNORECASE)


def arrow_type(name: str, column: str) -> pa.DataType:
    """The Arrow type ``name`` stands for: an Arrow alias (``int64``, ``string``, ``date32``,
    ``timestamp[us]``, ``timestamp[us, tz=UTC]``, ...) or ``decimal(precision, scale)``."""
    match = _DECIMAL.match(name.strip())
    if match:
        return pa.decimal128(int(match.group(1)), int(match.group(2)))
    try:
        return pa.type_for_alias(name.strip())
    except (ValueError, KeyError, TypeError):
        raise ValueError(
            f"column {column!r} has unknown type {name!r}; use an Arrow type name such as "
            "int64, double, string, bool, date32, timestamp[us] or decimal(12,2)"
        ) from None


class IngestOptions(BaseModel):
    """Everything a load can be told; the same names in Python, on the CLI and in job files.

    ``mode``:
      ``append`` adds rows; ``overwrite`` replaces the whole table; ``overwrite-partitions``
      replaces only the partitions the new rows fall in; ``merge`` upserts on ``keys``;
      ``cdc`` applies change rows (``op_column`` I/U/D, in source order, as DMS writes them)
      to the rows with the same ``keys``.
    ``incremental``: for files, load only objects not loaded before (path, size, modification
      time); for a database, the name of a strictly increasing column: load only rows past
      its last loaded value. The bookmark commits in the same snapshot as the rows.
    ``bookmark``: the bookmark's name (default: derived from the source), so one table can be
      fed incrementally from several sources.
    ``lock_ttl``: how long the run's record (and its bookmark lock) outlives the run's last
      heartbeat; the run refreshes it every ``lock_ttl / 4`` while it loads. A run whose
      process died on another host (or in a container that is gone) is taken over once it
      has expired.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Mode = "append"
    keys: tuple[str, ...] = ()
    op_column: str = "Op"
    #: Column ordering change rows in CDC (e.g. a commit timestamp); rows with the same key
    #: are applied by it, then by source order. Default: source order only.
    sequence_column: str | None = None
    incremental: bool | str = False
    bookmark: str | None = None
    #: Seconds (or ``"10m"``, ``"2h"``) a dead run keeps its bookmark locked after its last
    #: heartbeat.
    lock_ttl: float = DEFAULT_LOCK_TTL
    # -- source ----------------------------------------------------------------------------
    format: str | None = None
    format_options: dict[str, Any] = Field(default_factory=dict)
    #: For a database source: a table name or a SELECT (exactly one of the two).
    table: str | None = None
    query: str | None = None
    #: Integer/date column to split a database read into parallel key ranges.
    partition_column: str | None = None
    parallelism: int = Field(default=2, ge=1, le=64)
    # -- schema ----------------------------------------------------------------------------
    #: Column types to give a new table instead of the inferred ones, e.g.
    #: ``{"id": "int64", "amount": "decimal(12,2)", "at": "timestamp[us, tz=UTC]"}``; values
    #: that do not cast follow ``on_incompatible``.
    types: dict[str, str] = Field(default_factory=dict)
    schema_policy: SchemaPolicy = "evolve"
    on_incompatible: OnIncompatible = "quarantine"
    # -- layout: set when the table is created. Later loads must give the same partitioning
    # and sort order (or none); the target size defaults to the table's stored one. ---------
    partition_by: tuple[str, ...] = ()
    sort_by: tuple[str, ...] = ()
    #: None: the table's ``write.target-file-size-bytes``, or DEFAULT_TARGET_FILE_SIZE.
    target_file_size: int | None = None

    @field_validator("target_file_size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> int | None:
        return None if value is None else parse_size(value, "target_file_size")

    @field_validator("lock_ttl", mode="before")
    @classmethod
    def _ttl(cls, value: Any) -> float:
        return parse_seconds(value, "lock_ttl")

    @field_validator("types")
    @classmethod
    def _types(cls, value: dict[str, str]) -> dict[str, str]:
        for column, name in value.items():
            arrow_type(name, column)
        return value

    @field_validator("keys", "partition_by", "sort_by", mode="before")
    @classmethod
    def _listish(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> IngestOptions:
        if self.mode in ("merge", "cdc") and not self.keys:
            raise ValueError(f"mode {self.mode!r} needs keys: the columns that identify a row")
        if self.table and self.query:
            raise ValueError("give a table or a query, not both")
        return self

    @classmethod
    def build(cls, **values: Any) -> IngestOptions:
        """Options from keyword arguments, with one clear :class:`ConfigError` for bad ones."""
        try:
            return cls(**values)
        except ValidationError as exc:
            raise ConfigError(
                f"invalid ingest options: {validation_problems(exc, 'options')}",
                fix="see `lakebed ingest --help` for the options and their values",
            ) from None
