"""The parts a delivery stream is built from: decoder, converter, schema, windows.

Each is built from the stream's configuration here, so :mod:`lakebed.streams.delivery` deals
only with the loop. Schemas come from the table (when it exists), the configured
``table_schema``, or are inferred from the first decoded rows.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pyarrow as pa

from lakebed.streams.records import RecordError

if TYPE_CHECKING:
    from lakebed.lake import Lake
    from lakebed.streams.config import StreamConfig
    from lakebed.streams.windows import WindowAggregator


class Decoder(Protocol):
    def decode(self, value: bytes) -> dict[str, Any]: ...


class Converter(Protocol):
    def convert(
        self, rows: list[dict[str, Any]]
    ) -> tuple[pa.Table, list[tuple[int, RecordError]]]: ...


def make_stream_decoder(config: StreamConfig, lake: Lake) -> Decoder:
    """The decoder for the stream's format; the schema registry lives in the catalog DB."""
    from lakebed.streams.codecs import make_decoder

    registry = None
    if config.format != "json" or config.schema_subject:
        from lakebed.streams.registry import SchemaRegistry

        registry = SchemaRegistry(lake.catalog.engine)
    decoder: Decoder = make_decoder(
        config.format,
        registry=registry,
        subject=config.schema_subject,
        schema=config.schema_text,
        message=config.message,
        wire=config.wire,
    )
    return decoder


def make_converter(schema: pa.Schema, unknown_fields: Literal["error", "ignore"]) -> Converter:
    """Rows → Arrow for ``schema``; bad rows come back as per-record errors."""
    from lakebed.streams.convert import Converter as ArrowConverter

    converter: Converter = ArrowConverter(schema, unknown_fields=unknown_fields)
    return converter


_ICEBERG_NAMES = {
    "boolean": pa.bool_(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "date": pa.date32(),
    "time": pa.time64("us"),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "string": pa.string(),
    "uuid": pa.string(),
    "binary": pa.binary(),
}
_TIMESTAMP = re.compile(r"timestamp\[(s|ms|us|ns)(?:,\s*tz=([^\]]+))?\]", re.IGNORECASE)


def column_type(name: str, column: str) -> pa.DataType:
    """The Arrow type a ``table_schema`` entry names: an Iceberg name (``long``,
    ``timestamptz``), an Arrow alias (``int64``, ``timestamp[us, tz=UTC]``) or
    ``decimal(p, s)``; ValueError names the column otherwise."""
    from lakebed.ingest.options import arrow_type

    text = name.strip()
    if text.lower() in _ICEBERG_NAMES:
        return _ICEBERG_NAMES[text.lower()]
    match = _TIMESTAMP.fullmatch(text)
    if match:
        return pa.timestamp(match[1].lower(), tz=match[2].strip() if match[2] else None)
    return arrow_type(text, column)


def configured_schema(config: StreamConfig) -> pa.Schema | None:
    """The ``table_schema`` of the configuration as Arrow (None when not given)."""
    if config.table_schema is None:
        return None
    return pa.schema([pa.field(n, column_type(t, n)) for n, t in config.table_schema.items()])


def _column_type(values: list[Any]) -> pa.DataType:
    """The type of one column's values; when they disagree, the type of the most common kind
    of value (the others then fail conversion, one record at a time)."""
    try:
        found = pa.array(values).type
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        kinds = Counter(type(v) for v in values if v is not None)
        common = kinds.most_common(1)[0][0]
        try:
            found = pa.array([v for v in values if type(v) is common]).type
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            found = pa.string()
    return pa.string() if pa.types.is_null(found) else found


def infer_schema(rows: list[dict[str, Any]]) -> pa.Schema:
    """The schema of decoded rows: every field any row has, in order of first appearance,
    typed by its values (null-only fields as strings, which tables can hold)."""
    try:
        schema = pa.Table.from_pylist(rows).schema
        return pa.schema(
            [f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in schema]
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        pass
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return pa.schema([(n, _column_type([row.get(n) for row in rows])) for n in names])


def make_aggregator(config: StreamConfig) -> WindowAggregator | None:
    if config.windows is None:
        return None
    from lakebed.streams.windows import WindowAggregator, WindowSpec

    assert isinstance(config.windows, WindowSpec)
    return WindowAggregator(config.windows)
