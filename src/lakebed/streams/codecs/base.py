"""What every decoder and encoder looks like, and the argument checks they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Literal

from lakebed.errors import ConfigError
from lakebed.streams.registry import SchemaRegistry

Wire = Literal["auto", "confluent", "plain"]
WIRES = ("auto", "confluent", "plain")


class Decoder(ABC):
    """Turns one record's bytes into a dict; raises ``RecordError("parse"|"schema", reason)``."""

    format: str

    @abstractmethod
    def decode(self, value: bytes) -> dict[str, Any]:
        """The record as a dict of field name to value."""


class Encoder(ABC):
    """Turns a dict into one record's bytes (for producers, tests and benchmarks)."""

    format: str
    schema_id: int | None = None
    """The registry id written in the Confluent header, or None for the plain format."""

    @abstractmethod
    def encode(self, record: dict[str, Any]) -> bytes:
        """The record's bytes."""


def check_wire(wire: str, registry: SchemaRegistry | None, fmt: str) -> None:
    """ConfigError for an unknown ``wire`` or a Confluent wire without a registry."""
    if wire not in WIRES:
        raise ConfigError(f"unknown wire format {wire!r}", fix=f"use one of {WIRES}")
    if wire == "confluent" and registry is None:
        raise ConfigError(
            f"the Confluent wire format for {fmt} needs a schema registry to resolve schema ids",
            fix="pass registry=SchemaRegistry(lake.catalog.engine), or use wire='plain'",
        )


def reader_text(
    registry: SchemaRegistry | None, subject: str | None, schema: str | None, fmt: str
) -> str | None:
    """The schema text records are read into: ``schema`` if given, else the subject's latest."""
    if schema is not None:
        return schema
    if subject is not None:
        if registry is None:
            raise ConfigError(
                f"subject {subject!r} given for {fmt} without a schema registry",
                fix="pass registry=SchemaRegistry(lake.catalog.engine)",
            )
        return registry.latest(subject).schema
    return None
