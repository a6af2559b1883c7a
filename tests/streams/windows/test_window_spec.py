"""WindowSpec: what a user can configure, and the errors a bad configuration gets."""

from __future__ import annotations

from typing import Any

import pytest

from lakebed.errors import ConfigError
from lakebed.streams.windows import WindowSpec, parse_aggregation


def spec(**overrides: Any) -> WindowSpec:
    values: dict[str, Any] = {
        "kind": "tumbling",
        "size_s": 60,
        "time_field": "ts",
        "aggregations": {"n": "count(*)"},
    }
    values.update(overrides)
    return WindowSpec(**values)


def test_parses_every_function() -> None:
    parsed = spec(
        aggregations={
            "n": "count(*)",
            "c": "COUNT( user )",
            "total": "sum(amount)",
            "lo": "min(amount)",
            "hi": "max(amount)",
            "mean": "avg(amount)",
            "users": "count_distinct(user)",
            "f": "first(user)",
            "l": "last(user)",
        }
    ).parsed
    assert [(a.name, a.function, a.field) for a in parsed] == [
        ("n", "count", None),
        ("c", "count", "user"),
        ("total", "sum", "amount"),
        ("lo", "min", "amount"),
        ("hi", "max", "amount"),
        ("mean", "avg", "amount"),
        ("users", "count_distinct", "user"),
        ("f", "first", "user"),
        ("l", "last", "user"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("median(amount)", "unknown function 'median'"),
        ("sum amount", "not of the form function(field)"),
        ("sum(a, b)", "not of the form function(field)"),
        ("sum(*)", "only count takes *"),
        ("", "not of the form"),
    ],
)
def test_bad_aggregation_names_it_and_the_fix(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        spec(aggregations={"total": text})
    assert expected in info.value.message
    assert "'total'" in info.value.message
    assert info.value.fix and ("count" in info.value.fix or "field" in info.value.fix)


def test_parse_aggregation_alone() -> None:
    assert parse_aggregation("x", "max(price)").function == "max"
    with pytest.raises(ConfigError):
        parse_aggregation("x", "max()")


def test_slide_must_divide_size_and_the_error_names_both() -> None:
    with pytest.raises(ConfigError) as info:
        spec(kind="sliding", size_s=60, slide_s=7)
    assert "slide_s 7" in info.value.message and "size_s 60" in info.value.message
    assert info.value.fix is not None and "6" in info.value.fix
    assert spec(kind="sliding", size_s=60, slide_s=15).slide_us == 15_000_000
    assert spec(kind="sliding", size_s=1.5, slide_s=0.5).slide_us == 500_000


def test_sliding_needs_a_slide_and_tumbling_refuses_one() -> None:
    with pytest.raises(ConfigError, match="need slide_s"):
        spec(kind="sliding")
    with pytest.raises(ConfigError, match="tumbling windows have no slide"):
        spec(slide_s=10)
    assert spec(slide_s=60).slide_us == 60_000_000


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"size_s": 0}, "size_s"),
        ({"watermark_delay_s": -1}, "watermark_delay_s"),
        ({"allowed_lateness_s": float("nan")}, "allowed_lateness_s"),
        ({"keys": ["window_start"]}, "clashes with the output column"),
        ({"keys": ["n"]}, "appears twice"),
        ({"aggregations": {}}, "at least one aggregation"),
        ({"kind": "session"}, "kind"),
        ({"windw": 3}, "windw"),
    ],
)
def test_bad_values_are_config_errors(overrides: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        spec(**overrides)


def test_build_from_a_mapping() -> None:
    built = WindowSpec.build(
        {"kind": "tumbling", "size_s": 5, "time_field": "t", "aggregations": {"n": "count(*)"}}
    )
    assert built.size_us == 5_000_000
    assert WindowSpec.build(built) is built
