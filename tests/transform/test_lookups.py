"""Costly text steps over columns with few distinct values run once per value: the output is
the same, byte for byte, as running them on every row."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from lakebed.transform import Recipe
from lakebed.transform.engines.duckdb import DuckDBEngine
from lakebed.transform.lookups import LIMIT, shape
from lakebed.transform.pipeline import build

TRIM = {"removeLeadingAndTrailingWhitespace": True, "collapseConsecutiveWhitespace": True}

# Values that sort close together, differ only in spaces or case, quote, and leave ASCII.
AWKWARD = [
    "", " ", "a", "A", "a ", " a", "ab", "a b", "a  b", "it's", "O'NEIL  o'neil", "Ünïcödé straße",
    "東京 都", "tab\there", "new\nline", "zz", "z", "Z", "mixed CASE words here", "x" * 300,
]  # fmt: skip


def _data(rows: int = 6_000, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    cities = [None, *AWKWARD, *(f"  city {i}  " for i in range(30))]
    weights = 1.0 / np.arange(1, len(cities) + 1)  # skewed: counts differ, a clear mode
    pick = rng.choice(len(cities), rows, p=weights[::-1] / weights.sum())
    return pa.table(
        {
            "id": pa.array(range(rows), pa.int64()),
            "city": pa.array([cities[i] for i in pick], pa.string()),
            # more distinct values than LIMIT: stays per row
            "code": pa.array([f" c{v} " for v in rng.integers(0, 4 * LIMIT, rows)], pa.string()),
            "kind": pa.array(rng.choice(["a", "b"], rows).tolist(), pa.string()),
            "day": pa.array(
                rng.choice(["2024-01-02", " 2024-02-30", "03/04/2024", "x", None], rows).tolist(),
                pa.string(),
            ),
        }
    )


def _run(recipe: Recipe, data: pa.Table, *, lookups: bool) -> tuple[pa.Table, list[int], Any]:
    with DuckDBEngine(threads=2) as engine:
        engine.load_arrow("input", data)
        built = build(engine, recipe, lookups=lookups)
        return engine.to_arrow(built.relation), built.lookups, built.states


def _both(recipe: Recipe, data: pa.Table) -> tuple[pa.Table, list[int], Any]:
    plain, none, plain_states = _run(recipe, data, lookups=False)
    fast, done, states = _run(recipe, data, lookups=True)
    assert none == []
    assert fast.schema == plain.schema
    assert fast.equals(plain)
    assert states == plain_states
    return fast, done, states


def test_cleaning_steps_become_lookups_with_identical_output() -> None:
    recipe = (
        Recipe()
        .add("REMOVE_COMBINED", sourceColumn="city", **TRIM)  # 1: costly, lookup
        .add("CAPITAL_CASE", sourceColumn="city")  # 2: lambda, lookup of the trimmed values
        .add("FILL_WITH_MODE", sourceColumn="city")  # 3: learns on lookups; composed with 1, 2
        .add("CAPITAL_CASE", sourceColumn="code")  # 4: too many values, per row
        .add("CHANGE_DATA_TYPE", sourceColumn="day", columnDataType="date")  # 5: text to date
        .add("ORDINAL_ENCODING", sourceColumn="city", targetColumn="city_code")  # 6: learns
    )
    out, done, states = _both(recipe, _data())
    assert done == [1, 2, 3, 5]
    assert out.column("city").null_count == 0
    assert "Ünïcödé Straße" in out.column("city").to_pylist()
    assert states[2] == {"value": "City 29"}  # the most common value, after cleaning


def test_a_condition_on_another_column_keeps_the_step_per_row() -> None:
    step = {
        "Action": {"Operation": "UPPER_CASE", "Parameters": {"sourceColumn": "city"}},
        "ConditionExpressions": [
            {"Condition": "IS", "Value": '["a"]', "TargetColumn": "kind"},
        ],
    }
    trim = {"sourceColumn": "city", **{k: str(v).lower() for k, v in TRIM.items()}}
    recipe = Recipe([{"Action": {"Operation": "REMOVE_COMBINED", "Parameters": trim}}, step])
    _, done, _ = _both(recipe, _data())
    assert done == [1]


def test_values_carry_through_steps_that_leave_the_column_alone() -> None:
    """Values known hold through steps that pass the column through or only delete rows; a
    step that reorders rows forgets them, and the copy made for a later fit is a new base,
    where a column's values are found afresh."""
    recipe = (
        Recipe()
        .add("REMOVE_COMBINED", sourceColumn="city", **TRIM)  # 1: lookup
        .add("UPPER_CASE", sourceColumn="kind")  # 2: passes city through
        .add("CAPITAL_CASE", sourceColumn="city")  # 3: lookup of step 1's values
        .add("REMOVE_DUPLICATES", sourceColumn="city")  # 4: deletes rows, values still hold
        .add("LOWER_CASE", sourceColumn="city")  # 5: not costly: per row, values carried
        .add("CAPITAL_CASE", sourceColumn="city")  # 6: lookup of step 5's values
        .add("FLAG_DUPLICATES_IN_COLUMN", sourceColumn="kind", targetColumn="again")  # 7: window
        .add("CAPITAL_CASE", sourceColumn="code")  # 8: one row per city left: a lookup
        .add("FILL_WITH_MODE", sourceColumn="city")  # 9: learns on the deduplicated copy
    )
    out, done, states = _both(recipe, _data())
    assert done == [1, 3, 6, 8]
    assert out.num_rows < 200  # a row per city, and the rows without one
    assert out.column("city").null_count == 0
    assert states[8] is not None


@pytest.mark.parametrize("dedupe", [False, True])
def test_a_fit_reads_lookups_of_every_value_null_included(dedupe: bool) -> None:
    """A fit over a lookup column (read through a table of its values, not per row) counts
    the rows whose source is NULL too, with or without rows deleted before it."""
    cities = [None if i % 7 == 3 else f"  city  {i % 5} " for i in range(2_000)]
    data = pa.table({"id": [i // 2 for i in range(2_000)], "city": pa.array(cities, pa.string())})
    recipe = Recipe().add("REMOVE_DUPLICATES", sourceColumn="id") if dedupe else Recipe()
    recipe = (
        recipe.add("REMOVE_COMBINED", sourceColumn="city", **TRIM)
        .add("FILL_WITH_CUSTOM", sourceColumn="city", columnDataType="string", value="Nowhere")
        .add("ORDINAL_ENCODING", sourceColumn="city", targetColumn="city_code")
    )
    out, done, states = _both(recipe, data)
    assert done == ([2, 3] if dedupe else [1, 2])  # the fill composed with the lookup
    assert out.num_rows == (data.num_rows // 2 if dedupe else data.num_rows)
    assert "Nowhere" in json.dumps(states[-1])  # only rows without a city have it


def test_a_step_writing_the_column_from_another_is_not_composed() -> None:
    """After a lookup of ``city``, a step that writes ``city`` from ``kind`` is a lookup of
    ``kind``: its values do not compose with the ones ``city`` had."""
    recipe = (
        Recipe()
        .add("REMOVE_COMBINED", sourceColumn="kind", **TRIM)
        .add("REMOVE_COMBINED", sourceColumn="city", **TRIM)
        .add("DUPLICATE", sourceColumn="kind", targetColumn="city")
        .add("CAPITAL_CASE", sourceColumn="city")
    )
    out, done, _ = _both(recipe, _data())
    assert set(out.column("city").to_pylist()) == {"A", "B"}
    assert done == [1, 2, 4]


def test_many_rows_few_values() -> None:
    rows = 200_000
    data = _data(rows, seed=5)
    recipe = (
        Recipe()
        .add("REMOVE_COMBINED", sourceColumn="city", **TRIM)
        .add("CAPITAL_CASE", sourceColumn="city")
    )
    out, done, _ = _both(recipe, data)
    assert done == [1, 2]
    assert out.num_rows == rows


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ('SELECT a, lower(b) AS b, __lb_row FROM "s"',
         [("a", None), ("b", {"b"}), ("__lb_row", None)]),
        ("SELECT a, b || a AS c FROM s", [("a", None), ("c", {"a", "b"})]),
        # a lambda's parameter is not a column; a column named like it outside the lambda is
        ("SELECT list_transform(string_split(b, ' '), lambda w: upper(w)) AS b FROM s",
         [("b", {"b"})]),
        ("SELECT list_transform(string_split(b, ' '), lambda w: upper(w)) || w AS b FROM s",
         [("b", {"b", "w"})]),
    ],
)  # fmt: skip
def test_shape_reads_which_columns_each_output_uses(sql: str, expected: list[Any]) -> None:
    form = shape(sql, "s")
    assert form is not None
    assert [(n, None if r is None else set(r)) for n, r in form.outputs] == expected


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT a FROM s WHERE a > 1",
        "SELECT a FROM s JOIN t USING (a)",
        "SELECT * FROM s",
        "SELECT a, count(*) AS n FROM s GROUP BY a",
        "SELECT a, row_number() OVER () AS n FROM s",
        "SELECT a, (SELECT max(a) FROM s) AS m FROM s",
        "SELECT a FROM other",
        "SELECT a FROM s ORDER BY a",
        "not sql at all",
    ],
)
def test_shape_refuses_what_is_not_a_plain_per_row_select(sql: str) -> None:
    assert shape(sql, "s") is None


def test_shape_flags_costly_and_volatile_expressions() -> None:
    costly = shape("SELECT regexp_replace(b, 'x', 'y') AS b FROM s", "s")
    cheap = shape("SELECT lower(b) AS b FROM s", "s")
    volatile = shape("SELECT b || random() AS b FROM s", "s")
    assert costly is not None and costly.costly and costly.local() == "b"
    assert cheap is not None and not cheap.costly and cheap.local() == "b"
    assert volatile is not None and volatile.local() is None
