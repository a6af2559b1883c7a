"""FEATURIZE_DATETIME on DuckDB: every feature against Python's datetime."""

from __future__ import annotations

import datetime as dt
import math

import pyarrow as pa
import pytest
from tests.transform.ops.ml_helpers import run

from lakebed.transform.recipe import RecipeError

ALL = [
    "year", "month", "day", "day_of_week", "day_of_year", "hour", "minute", "second",
    "week_of_year", "quarter", "is_weekend", "ordinal",
]  # fmt: skip
STAMPS = [
    dt.datetime(2024, 3, 2, 13, 45, 30),  # a Saturday in a leap year
    dt.datetime(2023, 12, 31, 23, 59, 59),  # Sunday, ISO week 52
    dt.datetime(2021, 1, 1, 0, 0, 0),  # Friday, ISO week 53 of 2020
    dt.datetime(1969, 12, 31, 6, 0, 0),  # before the epoch
    None,
]


def expected(t: dt.datetime) -> dict[str, int]:
    return {
        "year": t.year,
        "month": t.month,
        "day": t.day,
        "day_of_week": t.isoweekday(),
        "day_of_year": t.timetuple().tm_yday,
        "hour": t.hour,
        "minute": t.minute,
        "second": t.second,
        "week_of_year": t.isocalendar()[1],
        "quarter": (t.month - 1) // 3 + 1,
        "is_weekend": int(t.isoweekday() >= 6),
        "ordinal": (t.date() - dt.date(1970, 1, 1)).days,
    }


def test_every_feature_matches_python() -> None:
    data = pa.table({"ts": pa.array(STAMPS, pa.timestamp("us")), "k": range(5)})
    out = run("FEATURIZE_DATETIME", data, sourceColumn="ts", features=ALL, prefix="f_")
    assert out.column_names == ["ts", *(f"f_{f}" for f in ALL), "k"]
    assert all(pa.types.is_int32(out.schema.field(f"f_{f}").type) for f in ALL)
    for i, stamp in enumerate(STAMPS):
        got = {f: out.column(f"f_{f}")[i].as_py() for f in ALL}
        assert got == (expected(stamp) if stamp else dict.fromkeys(ALL))


def test_cyclic_encodings() -> None:
    data = pa.table({"ts": pa.array(STAMPS[:2], pa.timestamp("us"))})
    out = run(
        "FEATURIZE_DATETIME",
        data,
        sourceColumn="ts",
        features='["month", "day_of_week", "hour", "day_of_year", "year"]',
        cyclic="true",
    )
    names = out.column_names
    assert names[1:4] == ["ts_year", "ts_month", "ts_month_sin"]
    assert "ts_year_sin" not in names
    t = STAMPS[0]  # 2024-03-02 13:45, Saturday, day 62 of a 366-day year
    assert t is not None
    row = out.slice(0, 1).to_pylist()[0]
    turns = {
        "month": (3 - 1) / 12,
        "day_of_week": (6 - 1) / 7,
        "hour": 13 / 24,
        "day_of_year": (62 - 1) / 366,
    }
    for feature, turn in turns.items():
        assert row[f"ts_{feature}_sin"] == pytest.approx(math.sin(2 * math.pi * turn), abs=1e-12)
        assert row[f"ts_{feature}_cos"] == pytest.approx(math.cos(2 * math.pi * turn), abs=1e-12)
    dec31 = out.slice(1, 1).to_pylist()[0]  # day 365 of a 365-day year
    assert dec31["ts_day_of_year_sin"] == pytest.approx(math.sin(2 * math.pi * 364 / 365))


def test_date_text_is_parsed_and_bad_text_is_null() -> None:
    data = pa.table({"d": ["15.03.2024", "2024-02-29 08:05:09", "not a date", "2024-13-45", None]})
    out = run("FEATURIZE_DATETIME", data, sourceColumn="d", features='["year", "month", "day", '
              '"hour", "minute", "second"]')  # fmt: skip
    rows = [tuple(r.values())[1:] for r in out.to_pylist()]
    assert rows == [
        (2024, 3, 15, 0, 0, 0),
        (2024, 2, 29, 8, 5, 9),
        (None,) * 6,
        (None,) * 6,
        (None,) * 6,
    ]


def test_dates_and_the_default_features() -> None:
    data = pa.table({"day": pa.array([dt.date(2024, 7, 4)], pa.date32())})
    out = run("FEATURIZE_DATETIME", data, sourceColumn="day")
    assert out.to_pylist() == [
        {
            "day": dt.date(2024, 7, 4),
            "day_year": 2024,
            "day_month": 7,
            "day_day": 4,
            "day_day_of_week": 4,
            "day_hour": 0,
        }
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sourceColumn": "ts", "features": '["year", "fortnight"]'}, "fortnight"),
        ({"sourceColumn": "n", "features": '["year"]'}, "not a date"),
        ({"sourceColumn": "ts", "features": '["year"]', "prefix": "n"}, "already exist"),
        ({"sourceColumn": "ts", "features": "[]"}, "non-empty JSON list"),
    ],
)
def test_bad_parameters_are_rejected(params: dict[str, str], message: str) -> None:
    data = pa.table({"ts": pa.array([STAMPS[0]], pa.timestamp("us")), "nyear": [1], "n": [1]})
    with pytest.raises(RecipeError, match=message):
        run("FEATURIZE_DATETIME", data, **params)
