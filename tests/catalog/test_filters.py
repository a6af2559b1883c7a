"""Row-filter strings: the date and timestamp forms people write are accepted."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lakebed.catalog.filters import parse_filter
from lakebed.catalog.schema import to_iceberg_schema
from lakebed.errors import QueryError

SCHEMA = to_iceberg_schema(
    pa.schema(
        [
            ("ts", pa.timestamp("us")),
            ("tz", pa.timestamp("us", tz="UTC")),
            ("d", pa.date32()),
            ("n", pa.string()),
        ]
    )
)


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("ts >= '2024-01-01'", "2024-01-01T00:00:00"),
        ("ts < '2024-01-02 10:30'", "2024-01-02T10:30:00"),
        ("tz >= '2024-01-01'", "2024-01-01T00:00:00+00:00"),
        ("tz >= '2024-01-01T05:00:00Z'", "2024-01-01T05:00:00+00:00"),
        ("tz < '2024-01-01 10:00:00+02:00'", "2024-01-01T10:00:00+02:00"),
        ("d = '2024-01-01'", "2024-01-01"),
        ("TS > '2024-01-01'", "2024-01-01T00:00:00"),
    ],
)
def test_timestamp_literals_are_completed(text: str, literal: str) -> None:
    expr = parse_filter(text, SCHEMA)
    assert expr.literal.value == literal  # type: ignore[attr-defined]


def test_set_and_boolean_forms() -> None:
    expr = parse_filter("ts in ('2024-01-01', '2024-01-02 10:00') and n is not null", SCHEMA)
    values = sorted(lit.value for lit in expr.left.literals)  # type: ignore[attr-defined]
    assert values == ["2024-01-01T00:00:00", "2024-01-02T10:00:00"]
    assert parse_filter("", SCHEMA) == parse_filter(None, SCHEMA)


@pytest.mark.parametrize(
    ("text", "needle"),
    [("nn = 'x'", "'nn'"), ("n = ", "invalid filter"), ("ts > 'yesterday'", "invalid filter")],
)
def test_bad_filters_are_query_errors(text: str, needle: str) -> None:
    with pytest.raises(QueryError, match=needle):
        parse_filter(text, SCHEMA)
