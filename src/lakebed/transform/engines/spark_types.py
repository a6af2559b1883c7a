"""Type mapping between Arrow and Spark SQL, for the Spark engine (no pyspark import here).

Arrow types become Spark DDL (to read Parquet with a given schema); Spark's JSON type
descriptions (``StructType.jsonValue()``) become Arrow types, matching what the DuckDB engine
reports for the same data: ``TIMESTAMP_NTZ`` is a naive ``timestamp("us")`` (DuckDB's
``TIMESTAMP``), ``TIMESTAMP`` (instant) is ``timestamp("us", tz=<session zone>)`` (DuckDB's
``TIMESTAMPTZ``), every field nullable.
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa

from lakebed.errors import SchemaError

_SIMPLE_TO_SPARK: dict[pa.DataType, str] = {
    pa.bool_(): "BOOLEAN",
    pa.int8(): "TINYINT",
    pa.int16(): "SMALLINT",
    pa.int32(): "INT",
    pa.int64(): "BIGINT",
    pa.uint8(): "SMALLINT",
    pa.uint16(): "INT",
    pa.uint32(): "BIGINT",
    pa.uint64(): "DECIMAL(20,0)",
    pa.float16(): "FLOAT",
    pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE",
    pa.string(): "STRING",
    pa.large_string(): "STRING",
    pa.utf8(): "STRING",
    pa.binary(): "BINARY",
    pa.large_binary(): "BINARY",
    pa.date32(): "DATE",
    pa.date64(): "DATE",
    pa.null(): "STRING",
}

_SIMPLE_TO_ARROW: dict[str, pa.DataType] = {
    "boolean": pa.bool_(),
    "byte": pa.int8(),
    "short": pa.int16(),
    "integer": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "string": pa.string(),
    "binary": pa.binary(),
    "date": pa.date32(),
    "timestamp_ntz": pa.timestamp("us"),
    "void": pa.null(),
}


def quote(name: str) -> str:
    """``name`` as a Spark SQL identifier (backticks)."""
    return "`" + name.replace("`", "``") + "`"


def spark_ddl(t: pa.DataType) -> str:
    """The Spark SQL type for Arrow type ``t``; SchemaError when Spark has none."""
    if t in _SIMPLE_TO_SPARK:
        return _SIMPLE_TO_SPARK[t]
    if pa.types.is_dictionary(t):
        return spark_ddl(t.value_type)
    if pa.types.is_timestamp(t):
        return "TIMESTAMP_LTZ" if t.tz else "TIMESTAMP_NTZ"
    if pa.types.is_decimal(t):
        if t.precision > 38:
            return "DOUBLE"
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_duration(t):
        return "INTERVAL DAY TO SECOND"
    if pa.types.is_time(t):
        return "STRING"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return f"ARRAY<{spark_ddl(t.value_type)}>"
    if pa.types.is_map(t):
        return f"MAP<{spark_ddl(t.key_type)}, {spark_ddl(t.item_type)}>"
    if pa.types.is_struct(t):
        inner = ", ".join(f"{quote(f.name)}: {spark_ddl(f.type)}" for f in t)
        return f"STRUCT<{inner}>"
    raise SchemaError(
        f"Arrow type {t} has no Spark SQL equivalent",
        fix="cast the column to a string or number before running the recipe on Spark",
    )


def schema_ddl(schema: pa.Schema) -> str:
    """``schema`` as a Spark DDL column list (``a BIGINT, b STRING``)."""
    return ", ".join(f"{quote(f.name)} {spark_ddl(f.type)}" for f in schema)


_DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)")
_CHAR = re.compile(r"(var)?char\(\d+\)")


def arrow_type(spark: Any, timezone: str = "UTC") -> pa.DataType:
    """The Arrow type for a Spark type given as its JSON value (``DataType.jsonValue()``)."""
    if isinstance(spark, str):
        name = spark.lower()
        if name in _SIMPLE_TO_ARROW:
            return _SIMPLE_TO_ARROW[name]
        if name == "timestamp":
            return pa.timestamp("us", tz=timezone)
        if name.startswith("string") or _CHAR.fullmatch(name):
            return pa.string()  # collated strings ("string collate UTF8_LCASE") and char(n)
        match = _DECIMAL.fullmatch(name)
        if match:
            return pa.decimal128(int(match.group(1)), int(match.group(2)))
        if (name.startswith("interval") and "to" in name and "day" in name) or name in (
            "interval day",
            "interval hour",
            "interval minute",
            "interval second",
        ):
            return pa.duration("us")
        if name.startswith("interval"):
            return pa.month_day_nano_interval()
        if name.startswith("time("):
            return pa.time64("us")
        raise SchemaError(
            f"Spark type {spark} has no Arrow equivalent in lakebed",
            fix="cast the column to a string or number in the recipe",
        )
    kind = spark.get("type")
    if kind == "array":
        return pa.list_(arrow_type(spark["elementType"], timezone))
    if kind == "map":
        return pa.map_(
            arrow_type(spark["keyType"], timezone), arrow_type(spark["valueType"], timezone)
        )
    if kind == "struct":
        return pa.struct(arrow_schema(spark, timezone))
    if kind == "udt" and "sqlType" in spark:
        return arrow_type(spark["sqlType"], timezone)
    raise SchemaError(
        f"Spark type {spark} has no Arrow equivalent in lakebed",
        fix="cast the column to a string or number in the recipe",
    )


def arrow_schema(struct: dict[str, Any], timezone: str = "UTC") -> pa.Schema:
    """An Arrow schema (every field nullable) for a Spark ``StructType.jsonValue()``."""
    return pa.schema(
        [pa.field(f["name"], arrow_type(f["type"], timezone)) for f in struct["fields"]]
    )
