"""Multi-step recipes give the same output on DuckDB and Spark: conditions, SQL steps, seeded
randomness, and learning steps whose state is fitted on one engine and applied on the other."""

from __future__ import annotations

from typing import Any

from tests.transform.parity.compare import differences

from lakebed.transform.engines.base import Engine
from lakebed.transform.pipeline import build
from lakebed.transform.recipe import Recipe


def _out(engine: Engine, recipe: Recipe, prefix: str, states: Any = None) -> tuple[Any, Any]:
    built = build(engine, recipe, "input", states=states, fit=states is None, prefix=prefix)
    return engine.to_arrow(built.relation), built.states


CONDITIONS = (
    Recipe()
    .add(
        "ADD",
        [{"Condition": "GREATER_THAN", "TargetColumn": "qty", "Value": "1"}],
        sourceColumn1="price",
        sourceColumn2="qty",
        targetColumn="total",
    )
    .add(
        "ROUND",
        [{"Condition": "IS_BETWEEN", "TargetColumn": "price", "Value": '["10", "12"]'}],
        sourceColumn="total",
        targetColumn="total_r",
    )
    .add("COALESCE", sourceColumns='["name", "city"]', targetColumn="who")
    .add(
        "RANDOM_BETWEEN",
        [{"Condition": "IS", "TargetColumn": "category", "Value": '["a", "b"]'}],
        lowerBound="1",
        upperBound="6",
        targetColumn="dice",
    )
    .sql("SELECT id, total, total_r, who, dice, price, qty, city FROM input WHERE id > 3")
    .add("MEDIAN", sourceColumns='["price", "total", "id"]', targetColumn="mid")
    .add("RENAME", sourceColumn="mid", targetColumn="middle")
)

LEARNING = (
    Recipe()
    .add("FILL_WITH_AVERAGE", sourceColumn="price")
    .add("NORMALIZATION", sourceColumn="price", strategy="MIN_MAX", targetColumn="p_mm")
    .add("ONE_HOT_ENCODING", sourceColumn="category")
    .add(
        "FLAG_OUTLIERS",
        sourceColumn="price",
        outlierStrategy="IQR",
        threshold="1.5",
        targetColumn="price_outlier",
    )
    .add("FILL_WITH_MEDIAN", sourceColumn="qty")
    .add("KTH_LARGEST", sourceColumns='["price", "qty", "id"]', targetColumn="k2", value="2")
)


def test_conditions_sql_and_seeded_randomness_agree(
    duck_engine: Engine, spark_engine: Engine, prefix: str
) -> None:
    duck, _ = _out(duck_engine, CONDITIONS, prefix)
    spark, _ = _out(spark_engine, CONDITIONS, prefix)
    assert duck.num_rows == 17
    assert differences(duck, spark) == []
    # the conditions held where they should: total only where qty > 1
    rows = duck.to_pylist()
    assert all((r["total"] is None) == (r["qty"] is None or r["qty"] <= 1) for r in rows)


def test_states_fitted_on_one_engine_give_identical_output_on_the_other(
    duck_engine: Engine, spark_engine: Engine, prefix: str
) -> None:
    duck, duck_states = _out(duck_engine, LEARNING, prefix + "d")
    spark, spark_states = _out(spark_engine, LEARNING, prefix + "s")
    assert differences(duck, spark) == []
    assert any(state is not None for state in duck_states)
    on_spark, _ = _out(spark_engine, LEARNING, prefix + "ds", states=duck_states)
    assert differences(duck, on_spark) == []
    on_duck, _ = _out(duck_engine, LEARNING, prefix + "sd", states=spark_states)
    assert differences(spark, on_duck) == []
