"""WindowAggregator: tumbling and sliding windows, watermark, lateness, values and types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from lakebed.errors import SchemaError
from lakebed.streams.windows import WindowAggregator, WindowSpec

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    """An ISO time ``seconds`` after 12:00:00."""
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def agg(**overrides: Any) -> WindowAggregator:
    values: dict[str, Any] = {
        "kind": "tumbling",
        "size_s": 60,
        "time_field": "ts",
        "keys": ["user"],
        "aggregations": {"n": "count(*)", "total": "sum(amount)"},
    }
    values.update(overrides)
    return WindowAggregator(WindowSpec(**values))


def window(row: dict[str, Any]) -> tuple[float, float]:
    """A row's window as seconds after 12:00:00."""
    return (
        (row["window_start"] - T0).total_seconds(),
        (row["window_end"] - T0).total_seconds(),
    )


def test_tumbling_counts_per_key_and_emits_once_the_watermark_passes() -> None:
    a = agg()
    assert (
        a.add(
            [
                {"ts": at(1), "user": "ann", "amount": 5},
                {"ts": at(30), "user": "bob", "amount": 2},
                {"ts": at(59.999), "user": "ann", "amount": 7},
            ]
        )
        == []
    )
    assert a.emit() == []  # the watermark (12:00:59.999) has not reached the end (12:01)
    a.add([{"ts": at(60), "user": "bob", "amount": 1}])
    rows = a.emit()
    assert [(window(r), r["user"], r["n"], r["total"]) for r in rows] == [
        ((0, 60), "ann", 2, 12),
        ((0, 60), "bob", 1, 2),
    ]
    assert rows[0]["window_start"].tzinfo is not None
    assert a.emit() == []  # emitted once
    assert a.flush_all() == [
        {
            "window_start": T0 + timedelta(seconds=60),
            "window_end": T0 + timedelta(seconds=120),
            "user": "bob",
            "n": 1,
            "total": 1,
        }
    ]


def test_late_row_error_names_the_times_and_the_lateness() -> None:
    a = agg(allowed_lateness_s=10)
    a.add([{"ts": at(1), "user": "a", "amount": 1}, {"ts": at(69), "user": "a", "amount": 1}])
    # The watermark 12:01:09 is below end 12:01:00 + 10 s: the first window still takes rows.
    assert a.add([{"ts": at(2), "user": "a", "amount": 1}]) == []
    assert a.emit() == []
    a.add([{"ts": at(106), "user": "a", "amount": 1}])
    errors = a.add([{"ts": at(61), "user": "a", "amount": 1}, {"ts": at(59), "user": "a"}])
    assert [i for i, _ in errors] == [1]
    error = errors[0][1]
    assert error.kind == "late"
    assert error.reason == (
        "event time 2024-05-01T12:00:59Z is 47 s behind the watermark 2024-05-01T12:01:46Z; "
        "allowed lateness is 10 s"
    )
    first = a.emit()
    assert [(window(r), r["n"]) for r in first] == [((0, 60), 2)]


def test_watermark_delay_admits_out_of_order_rows() -> None:
    a = agg(watermark_delay_s=30)
    a.add([{"ts": at(70), "user": "a", "amount": 1}])
    assert a.add([{"ts": at(50), "user": "a", "amount": 1}]) == []
    assert a.emit() == []  # watermark 12:00:40
    a.add([{"ts": at(90), "user": "a", "amount": 1}])  # watermark 12:01:00
    assert [(window(r), r["n"]) for r in a.emit()] == [((0, 60), 1)]
    errors = a.add([{"ts": at(59), "user": "a", "amount": 1}])
    assert errors[0][1].kind == "late"


def test_sliding_windows_count_each_row_size_over_slide_times() -> None:
    a = agg(kind="sliding", size_s=60, slide_s=20, keys=[], aggregations={"n": "count(*)"})
    a.add([{"ts": at(s)} for s in (5, 25, 45, 65)])
    rows = a.flush_all()
    assert [(window(r), r["n"]) for r in rows] == [
        ((-40, 20), 1),
        ((-20, 40), 2),
        ((0, 60), 3),
        ((20, 80), 3),
        ((40, 100), 2),
        ((60, 120), 1),
    ]


def test_sliding_row_with_some_open_windows_goes_to_those_only() -> None:
    a = agg(kind="sliding", size_s=60, slide_s=30, keys=[], aggregations={"n": "count(*)"})
    a.add([{"ts": at(10)}, {"ts": at(60)}])  # watermark 12:01 closes [-30, 30)... and [0, 60)
    assert [(window(r), r["n"]) for r in a.emit()] == [((-30, 30), 1), ((0, 60), 1)]
    assert a.add([{"ts": at(40)}]) == []  # [0, 60) is closed, [30, 90) is open
    assert [(window(r), r["n"]) for r in a.flush_all()] == [((30, 90), 2), ((60, 120), 1)]


def test_event_time_formats_and_conversion_errors() -> None:
    a = agg(keys=[], aggregations={"n": "count(*)"})
    naive = datetime(2024, 5, 1, 12, 0, 3)
    epoch_ms = int((T0 + timedelta(seconds=4)).timestamp() * 1000)
    errors = a.add(
        [
            {"ts": T0 + timedelta(seconds=1)},
            {"ts": "2024-05-01T14:00:02+02:00"},
            {"ts": naive},
            {"ts": epoch_ms},
            {"ts": epoch_ms + 0.5},
            {"nots": 1},
            {"ts": "yesterday"},
            {"ts": True},
            {"ts": [1]},
        ]
    )
    assert [i for i, _ in errors] == [5, 6, 7, 8]
    assert all(e.kind == "conversion" for _, e in errors)
    assert "'ts' is missing" in errors[0][1].reason
    assert "'yesterday' is not an ISO 8601 time" in errors[1][1].reason
    assert [(window(r), r["n"]) for r in a.flush_all()] == [((0, 60), 5)]


def test_aggregate_values_ignore_nulls_and_follow_event_time() -> None:
    a = agg(
        keys=["k"],
        aggregations={
            "n": "count(*)",
            "c": "count(x)",
            "s": "sum(x)",
            "mean": "avg(x)",
            "lo": "min(x)",
            "hi": "max(name)",
            "d": "count_distinct(name)",
            "f": "first(name)",
            "l": "last(name)",
        },
    )
    a.add(
        [
            {"ts": at(20), "k": 1, "x": 4, "name": "b"},
            {"ts": at(10), "k": 1, "x": None, "name": "a"},
            {"ts": at(30), "k": 1, "x": 2.5, "name": "b"},
            {"ts": at(25), "k": 1, "name": "c"},
            {"ts": at(5), "k": None, "x": 1},
        ]
    )
    one, none = a.flush_all()
    assert one == {
        **one,
        "k": 1,
        "n": 4,
        "c": 2,
        "s": 6.5,
        "mean": 3.25,
        "lo": 2.5,
        "hi": "c",
        "d": 3,
        "f": "a",
        "l": "b",
    }
    assert none["k"] is None and none["n"] == 1 and none["f"] is None and none["d"] == 0


def test_bad_values_reject_the_whole_row() -> None:
    a = agg(aggregations={"n": "count(*)", "total": "sum(amount)", "lo": "min(amount)"})
    a.add([{"ts": at(1), "user": "a", "amount": 3}])
    errors = a.add(
        [
            {"ts": at(2), "user": "a", "amount": "12"},
            {"ts": at(3), "user": ["a"], "amount": 1},
        ]
    )
    assert [e.kind for _, e in errors] == ["conversion", "conversion"]
    assert errors[0][1].reason == "field 'amount' is '12' (str); sum(amount) needs numbers"
    assert "key field 'user'" in errors[1][1].reason
    assert [(r["n"], r["total"], r["lo"]) for r in a.flush_all()] == [(1, 3, 3)]


def test_min_of_values_that_do_not_compare_is_a_conversion_error() -> None:
    a = agg(keys=[], aggregations={"n": "count(*)", "lo": "min(v)"})
    a.add([{"ts": at(1), "v": 3}])
    errors = a.add([{"ts": at(2), "v": "x"}])
    assert errors[0][1].kind == "conversion" and "cannot be compared" in errors[0][1].reason
    assert [(r["n"], r["lo"]) for r in a.flush_all()] == [(1, 3)]


def test_flush_all_marks_flushed_windows_done() -> None:
    a = agg(keys=[], aggregations={"n": "count(*)"})
    a.add([{"ts": at(5)}, {"ts": at(65)}])
    assert len(a.flush_all()) == 2
    assert a.open_windows == 0
    errors = a.add([{"ts": at(100)}, {"ts": at(130)}])
    assert [i for i, _ in errors] == [0]
    assert "already flushed" in errors[0][1].reason
    assert [(window(r), r["n"]) for r in a.flush_all()] == [((120, 180), 1)]


def test_output_schema_types_and_rows_fit_it() -> None:
    a = agg(
        keys=["user", "region"],
        aggregations={
            "n": "count(*)",
            "total": "sum(amount)",
            "price_sum": "sum(price)",
            "dec_sum": "sum(cost)",
            "mean": "avg(amount)",
            "lo": "min(price)",
            "users": "count_distinct(user)",
            "seen": "last(ts)",
        },
    )
    schema = pa.schema(
        [
            ("ts", pa.timestamp("ms")),
            ("user", pa.string()),
            ("region", pa.int32()),
            ("amount", pa.int32()),
            ("price", pa.float32()),
            ("cost", pa.decimal128(10, 2)),
        ]
    )
    out = a.output_schema(schema)
    assert out.names == [
        "window_start",
        "window_end",
        "user",
        "region",
        "n",
        "total",
        "price_sum",
        "dec_sum",
        "mean",
        "lo",
        "users",
        "seen",
    ]
    assert [str(t) for t in out.types] == [
        "timestamp[us, tz=UTC]",
        "timestamp[us, tz=UTC]",
        "string",
        "int32",
        "int64",
        "int64",
        "double",
        "decimal128(38, 2)",
        "double",
        "float",
        "int64",
        "timestamp[ms]",
    ]
    a.add(
        [{"ts": T0, "user": "u", "region": 3, "amount": 2, "price": 1.5, "cost": Decimal("1.25")}]
    )
    table = pa.Table.from_pylist(a.flush_all(), schema=out)
    assert table.column("dec_sum").to_pylist() == [Decimal("1.25")]
    assert table.column("window_start").to_pylist() == [T0]


def test_output_schema_errors_name_the_field() -> None:
    with pytest.raises(SchemaError, match="'amount' is not in the input schema"):
        agg().output_schema(pa.schema([("ts", pa.timestamp("us")), ("user", pa.string())]))
    schema = pa.schema([("ts", pa.timestamp("us")), ("user", pa.string()), ("amount", pa.string())])
    with pytest.raises(SchemaError, match="needs a numeric field, but 'amount' is string"):
        agg().output_schema(schema)
