"""Steps that delete rows by comparing them (duplicates) leave those rows out of everything
after them: fits, steps that compare rows, and the output, which keeps input order. The
recipe must give what running its steps one at a time, each on the last one's output, gives."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from lakebed.transform import Recipe
from lakebed.transform.engines import duckdb as duckdb_engine
from lakebed.transform.engines.duckdb import DuckDBEngine
from lakebed.transform.pipeline import build, rows


def _data(n: int = 3_000, *, repeats: bool = True) -> pa.Table:
    """Orders whose ids repeat about three times each, or (``repeats=False``) one in ten of
    them an earlier row's id: the two plans of REMOVE_DUPLICATES."""
    rng = np.random.default_rng(11)
    if repeats:
        ids = rng.integers(0, n // 3, n)
    else:
        ids = np.arange(n)
        again = rng.random(n) < 0.1
        ids[again] = rng.integers(0, n, int(again.sum()))
    price = rng.lognormal(3, 0.5, n)
    price[rng.random(n) < 0.1] = np.nan
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "city": pa.array(rng.choice([" paris", "ROME ", "oslo", "lima"], n).tolist()),
            "price": pa.array(price, from_pandas=True),
            "score": pa.array(rng.normal(50, 15, n)),
        }
    )


def _run(recipe: Recipe, data: pa.Table, **options: Any) -> tuple[pa.Table, list[Any], bool]:
    """The recipe's output as streamed for a job, its states, and whether deletion waited
    until the end; the plain relation must hold the same rows."""
    with DuckDBEngine(threads=2) as engine:
        engine.load_arrow("input", data)
        built = build(engine, recipe, **options)
        out = pa.Table.from_batches(list(rows(engine, built)), schema=built.schema)
        assert out.equals(engine.to_arrow(built.relation))
        return out, built.states, built.deferred is not None


def _stepwise(recipe: Recipe, data: pa.Table) -> tuple[pa.Table, list[Any]]:
    """Each step on its own engine, on the previous step's output."""
    states = []
    for step in recipe.steps:
        data, state, _ = _run(Recipe([step]), data, lookups=False)
        states += state
    return data, states


TRIM = {"removeLeadingAndTrailingWhitespace": True}
LATER = [
    ("REMOVE_COMBINED", {"sourceColumn": "city", **TRIM}),  # a lookup
    ("CAPITAL_CASE", {"sourceColumn": "city"}),  # a lookup of a lookup
    ("FILL_WITH_MEDIAN", {"sourceColumn": "price"}),  # fits on the kept rows
    ("NORMALIZATION", {"sourceColumn": "price", "strategy": "Z_SCORE", "targetColumn": "z"}),
    ("ORDINAL_ENCODING", {"sourceColumn": "city", "targetColumn": "code"}),
    ("FLAG_OUTLIERS", {"sourceColumn": "score", "outlierStrategy": "IQR", "targetColumn": "o"}),
]


def _recipe(*steps: tuple[str, dict[str, Any]]) -> Recipe:
    recipe = Recipe()
    for operation, params in steps:
        recipe = recipe.add(operation, **params)
    return recipe


@pytest.mark.parametrize("repeats", [True, False], ids=["ids-repeat", "ids-mostly-distinct"])
@pytest.mark.parametrize("lookups", [True, False], ids=["lookups", "plain"])
@pytest.mark.parametrize("held", [True, False], ids=["held", "joined"])
def test_rows_deleted_by_deduplication_stay_out_of_later_fits_and_the_output(
    lookups: bool, held: bool, repeats: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not held:  # too many to hold: the engine leaves them out in SQL
        monkeypatch.setattr(duckdb_engine, "LEFT_OUT_ROWS", 10)
    data = _data(repeats=repeats)
    recipe = _recipe(("REMOVE_DUPLICATES", {"sourceColumn": "id"}), *LATER)
    out, states, deferred = _run(recipe, data, lookups=lookups)
    expected, expected_states = _stepwise(recipe, data)
    assert deferred
    assert out.equals(expected)
    assert states == expected_states
    # what a user checks: one row per id, the first, in input order
    ids = data.column("id").to_pylist()
    firsts = sorted({v: i for i, v in reversed(list(enumerate(ids)))}.values())
    assert out.column("id").to_pylist() == [ids[i] for i in firsts]
    kept = data.column("price").take(firsts).to_numpy(zero_copy_only=False)
    assert states[3]["value"] == pytest.approx(float(np.nanmedian(kept)))


@pytest.mark.parametrize(
    "then",
    [
        ("FLAG_DUPLICATES_IN_COLUMN", {"sourceColumn": "city", "targetColumn": "again"}),
        ("REMOVE_DUPLICATES", {"sourceColumn": "city"}),
        ("DELETE_DUPLICATE_ROWS", {}),
    ],
    ids=lambda step: step[0],
)
def test_a_later_step_that_compares_rows_sees_only_the_kept_ones(
    then: tuple[str, dict[str, Any]],
) -> None:
    data = _data()
    recipe = _recipe(
        ("REMOVE_DUPLICATES", {"sourceColumn": "id"}),
        ("FILL_WITH_MEDIAN", {"sourceColumn": "price"}),
        then,
        ("NORMALIZATION", {"sourceColumn": "score", "strategy": "Z_SCORE", "targetColumn": "z"}),
    )
    out, states, _ = _run(recipe, data)
    expected, expected_states = _stepwise(recipe, data)
    assert out.equals(expected)
    assert states == expected_states


@pytest.mark.parametrize("repeats", [True, False], ids=["ids-repeat", "ids-mostly-distinct"])
def test_a_condition_limits_what_deduplication_deletes(repeats: bool) -> None:
    data = _data(repeats=repeats)
    step = {
        "Action": {"Operation": "REMOVE_DUPLICATES", "Parameters": {"sourceColumn": "id"}},
        "ConditionExpressions": [
            {"Condition": "IS", "Value": '["oslo"]', "TargetColumn": "city"},
        ],
    }
    recipe = Recipe([step, {"Action": {"Operation": "FILL_WITH_AVERAGE", "Parameters": {
        "sourceColumn": "price"}}}])  # fmt: skip
    out, states, deferred = _run(recipe, data)
    expected, expected_states = _stepwise(recipe, data)
    assert deferred and out.equals(expected) and states == expected_states
    # a row goes when its id appeared in an earlier row (deleted or not) and its city is oslo
    seen: set[int] = set()
    kept = []
    pairs = zip(data["id"].to_pylist(), data["city"].to_pylist(), strict=True)
    for i, (id_, city) in enumerate(pairs):
        if id_ not in seen or city != "oslo":
            kept.append(i)
        seen.add(id_)
    assert out.column("id").to_pylist() == data.column("id").take(kept).to_pylist()
    assert data.num_rows > out.num_rows


def test_the_copy_fits_read_is_freed_before_the_output() -> None:
    """The copy of the kept rows serves the fits only; the output query runs without it (it
    would hold memory that grows with the input), leaving only the deleted rows' table."""
    recipe = _recipe(("REMOVE_DUPLICATES", {"sourceColumn": "id"}), *LATER)
    with DuckDBEngine(threads=2) as engine:
        engine.load_arrow("input", _data())
        built = build(engine, recipe)
        tables = engine.con.sql("SELECT table_name FROM duckdb_tables() WHERE temporary")
        assert built.deferred is not None
        assert [r[0] for r in tables.fetchall()] == [built.deferred.excluded]
