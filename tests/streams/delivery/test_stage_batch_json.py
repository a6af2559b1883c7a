"""Plain JSON batches are parsed whole by Arrow; anything unusual takes the per-record path."""

from __future__ import annotations

import json

import pyarrow as pa

from lakebed.streams.codecs import make_decoder
from lakebed.streams.convert import Converter
from lakebed.streams.records import StreamRecord
from lakebed.streams.stage import Stage

SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        ("user", pa.string()),
        ("amount", pa.float64()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("tags", pa.list_(pa.string())),
    ]
)


def stage(plain_json: bool) -> Stage:
    return Stage(
        decoder=make_decoder("json"),
        converter=Converter(SCHEMA),
        max_record_bytes=10_000,
        partitioner=None,
        aggregator=None,
        make_converter=Converter,
        schema=SCHEMA,
        plain_json=plain_json,
    )


def records(rows: list[object]) -> list[StreamRecord]:
    return [
        StreamRecord(json.dumps(r).encode() if not isinstance(r, bytes) else r, "p", i)
        for i, r in enumerate(rows)
    ]


GOOD = [
    {"id": i, "user": f"u{i}", "amount": i * 1.5 if i % 3 else i, "ts": "2026-11-23T10:00:00Z",
     "tags": ["a"] * (i % 2)}
    for i in range(50)
]  # fmt: skip


def test_a_clean_batch_gives_the_same_table_either_way() -> None:
    assert stage(True)._parse_batch(records(GOOD)) is not None  # Arrow took the whole batch
    fast, fast_failed = stage(True).process(records(GOOD))
    slow, slow_failed = stage(False).process(records(GOOD))
    assert fast_failed == slow_failed == []
    assert fast is not None and slow is not None
    assert fast.equals(slow)
    assert fast.schema == SCHEMA


def test_a_batch_with_bad_records_fails_only_those() -> None:
    bad = [*GOOD[:3], b"{not json", {"id": "x"}, {"user": "no id"}, {"id": 9, "colour": 1}]
    for one in bad[3:]:
        assert stage(True)._parse_batch(records([*GOOD[:3], one])) is None
    table, failed = stage(True).process(records([*bad, *GOOD[3:6]]))
    assert table is not None and table.column("id").to_pylist() == [0, 1, 2, 3, 4, 5]
    assert sorted((f.record.position, f.error.kind) for f in failed) == [
        (3, "parse"),
        (4, "conversion"),
        (5, "schema"),
        (6, "schema"),
    ]


def test_pretty_printed_records_are_read_one_by_one() -> None:
    pretty = [json.dumps(r, indent=2).encode() for r in GOOD[:4]]
    table, failed = stage(True).process(records(pretty))
    assert failed == [] and table is not None and table.num_rows == 4
