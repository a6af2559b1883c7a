"""What a job file holds, once checked: :class:`Job` and its :class:`Trigger`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lakebed.catalog.naming import TableRef
from lakebed.ingest.options import IngestOptions
from lakebed.jobs.cron import CronExpr

#: Maintenance steps a job may run after its load, in the order given.
Step = Literal["optimize", "expire-snapshots", "remove-orphans"]
STEPS: tuple[str, ...] = ("optimize", "expire-snapshots", "remove-orphans")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$", re.IGNORECASE)
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^:/@]*:)[^@/]*@", re.IGNORECASE)


def parse_duration(value: float | int | str) -> float:
    """``"30s"``, ``"5m"``, ``"1h"``, ``"250ms"`` or a number of seconds, in seconds (> 0)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration: write it like 30s, 5m or 1h")
        seconds = float(match.group(1)) * _SECONDS[(match.group(2) or "s").lower()]
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, not {value!r}")
    return seconds


def hide_password(source: str) -> str:
    """``source`` with the password of a ``scheme://user:password@host`` URL replaced by ***."""
    return _PASSWORD.sub(r"\1***@", source)


class Trigger(BaseModel):
    """Run the job when objects it has not seen appear under a prefix."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: A lake prefix (``lake://raw/incoming``), a local folder or an ``s3://`` URL.
    new_files: str = Field(min_length=1)
    #: Seconds between listings.
    poll: float = 30.0

    @field_validator("poll", mode="before")
    @classmethod
    def _poll(cls, value: Any) -> float:
        return parse_duration(value)


class Job(BaseModel):
    """One ingestion job: load ``source`` into the table ``into`` with ``options``, then run
    the ``after`` maintenance steps; optionally on a cron ``schedule`` or a new-file
    ``trigger``."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    name: str = Field(pattern=r"^[a-z0-9_-]+$", max_length=128)
    source: str = Field(min_length=1)
    into: str
    options: IngestOptions = Field(default_factory=IngestOptions)
    schedule: CronExpr | None = None
    trigger: Trigger | None = None
    after: tuple[Step, ...] = ()
    #: The file the job came from, when it came from one (for messages).
    path: Path | None = None

    @field_validator("into")
    @classmethod
    def _into(cls, value: str) -> str:
        return str(TableRef.parse(value))  # its ConfigError names the problem and the fix

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        if value is None or isinstance(value, CronExpr):
            return value
        if not isinstance(value, str):
            raise ValueError("a schedule is a cron expression string, e.g. '*/15 * * * *'")
        return CronExpr.parse(value)

    @field_validator("after", mode="before")
    @classmethod
    def _after(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @property
    def shown_source(self) -> str:
        """The source as shown to people (a URL's password hidden)."""
        return hide_password(self.source)

    def ingest_kwargs(self) -> dict[str, Any]:
        """The options given in the job file, as keyword arguments for ``lake.ingest``."""
        return self.options.model_dump(exclude_unset=True)

    def plan(self) -> dict[str, Any]:
        """What the job will do, for ``lakebed run --dry-run``."""
        return {
            "job": self.name,
            "file": str(self.path) if self.path else None,
            "source": self.shown_source,
            "into": self.into,
            "mode": self.options.mode,
            "options": {k: v for k, v in self.ingest_kwargs().items() if k != "mode"},
            "schedule": str(self.schedule) if self.schedule else None,
            "trigger": self.trigger.model_dump() if self.trigger else None,
            "after": list(self.after),
        }
