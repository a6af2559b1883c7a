"""A schema registry for stream records: subjects, versions, global ids, compatibility modes.

Avro, JSON Schema and Protobuf schemas are registered under a *subject* (usually
``<topic>-value``); each distinct schema gets a global id, which producers put in the Confluent
wire-format header of every record so consumers can find the writer's schema. A new version is
checked against the subject's compatibility mode (BACKWARD by default) and rejected with
:class:`IncompatibleSchemaError` listing each reason. The registry lives in the lake's catalog
database (``SchemaRegistry(lake.catalog.engine)``).
"""

from lakebed.streams.registry.compat import DEFAULT_MODE, MODES, Mode
from lakebed.streams.registry.store import (
    SCHEMA_TYPES,
    IncompatibleSchemaError,
    SchemaRegistry,
    SchemaType,
    SchemaVersion,
    parse_schema,
)

__all__ = [
    "DEFAULT_MODE",
    "MODES",
    "SCHEMA_TYPES",
    "IncompatibleSchemaError",
    "Mode",
    "SchemaRegistry",
    "SchemaType",
    "SchemaVersion",
    "parse_schema",
]
