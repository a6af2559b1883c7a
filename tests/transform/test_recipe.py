"""Recipes load from DataBrew's JSON/YAML and are rejected, by step, when they cannot run."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from lakebed.transform import Recipe, RecipeError
from lakebed.transform.pipeline import check
from lakebed.transform.sample import sample_table

DATABREW_EXPORT = [
    {
        "Action": {
            "Operation": "DUPLICATE",
            "Parameters": {"sourceColumn": "price", "targetColumn": "price_2"},
        },
        "ConditionExpressions": [
            {"Condition": "GREATER_THAN", "Value": "11", "TargetColumn": "price"}
        ],
    },
    {"Action": {"Operation": "DELETE", "Parameters": {"sourceColumns": '["notes"]'}}},
    {"Action": {"Operation": "RENAME", "Parameters": {"sourceColumn": "qty", "targetColumn": "n"}}},
]


def test_databrew_json_and_yaml_load_to_the_same_recipe() -> None:
    from_json = Recipe.loads(json.dumps(DATABREW_EXPORT))
    from_yaml = Recipe.loads(from_json.to_yaml())
    described = Recipe.from_data({"Name": "people", "Steps": DATABREW_EXPORT})
    assert from_json == from_yaml == described
    assert described.name == "people"
    assert [s.operation for s in from_json] == ["DUPLICATE", "DELETE", "RENAME"]
    assert from_json.to_list() == DATABREW_EXPORT


def test_short_shape_and_sql_steps() -> None:
    recipe = Recipe.loads(
        "- operation: RENAME\n  parameters: {sourceColumn: qty, targetColumn: n}\n"
        "- sql: SELECT id, n FROM input WHERE n > 1\n"
    )
    schemas = check(recipe, sample_table().schema)
    assert schemas[-1].names == ["id", "n"]


def test_python_builder_matches_the_file_form() -> None:
    built = (
        Recipe()
        .add(
            "DUPLICATE",
            sourceColumn="price",
            targetColumn="price_2",
            conditions=[{"Condition": "GREATER_THAN", "Value": "11", "TargetColumn": "price"}],
        )
        .add("DELETE", sourceColumns=["notes"])
        .add("RENAME", sourceColumn="qty", targetColumn="n")
    )
    assert built == Recipe.loads(json.dumps(DATABREW_EXPORT))


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"Action": {"Operation": "MAKE_COFFEE"}}, "step 2: operation 'MAKE_COFFEE' is not"),
        (
            {"Action": {"Operation": "RENAME", "Parameters": {"sourceColumn": "a"}}},
            "step 2 (RENAME): parameter 'targetColumn' is required",
        ),
        (
            {"Action": {"Operation": "RENAME", "Parameters": {"sourceColumn": "a", "to": "b"}}},
            "step 2 (RENAME): unknown parameter(s) to",
        ),
        (
            {"Action": {"Operation": "DELETE", "Parameters": {"sourceColumns": "{}"}}},
            "step 2: DELETE: parameter 'sourceColumns' must be a JSON list",
        ),
        ({"Action": {"Parameters": {}}}, "step 2: expected Action.Operation"),
        (
            {
                "Action": {
                    "Operation": "RENAME",
                    "Parameters": {"sourceColumn": "a", "targetColumn": "b"},
                },
                "ConditionExpressions": [{"Condition": "IS", "TargetColumn": "a"}],
            },
            "step 2 (RENAME): this operation does not take conditions",
        ),
        (
            {
                "Action": {
                    "Operation": "DUPLICATE",
                    "Parameters": {"sourceColumn": "a", "targetColumn": "b"},
                },
                "ConditionExpressions": [{"Condition": "SOUNDS_LIKE", "TargetColumn": "a"}],
            },
            "unknown condition 'SOUNDS_LIKE'",
        ),
    ],
)
def test_bad_steps_are_rejected_at_load_with_the_step_number(
    step: dict[str, object], message: str
) -> None:
    good = {"Action": {"Operation": "DELETE", "Parameters": {"sourceColumns": '["x"]'}}}
    with pytest.raises(RecipeError) as err:
        Recipe([good, step])
    assert message in str(err.value)
    assert err.value.fix


def test_missing_columns_and_conditions_on_absent_columns_fail_the_check() -> None:
    schema = sample_table().schema
    with pytest.raises(RecipeError, match=r"step 2 \(DUPLICATE\): parameter sourceColumn names"):
        check(
            Recipe()
            .add("RENAME", sourceColumn="price", targetColumn="cost")
            .add("DUPLICATE", sourceColumn="price", targetColumn="p"),
            schema,
        )
    with pytest.raises(
        RecipeError, match=r"step 1 \(DUPLICATE\): condition IS is on column 'nope'"
    ):
        check(
            Recipe().add(
                "DUPLICATE",
                sourceColumn="price",
                targetColumn="p",
                conditions=[{"Condition": "IS", "Value": "1", "TargetColumn": "nope"}],
            ),
            schema,
        )
    with pytest.raises(RecipeError, match=r"step 1 \(SQL\): .*DuckDB cannot run"):
        check(Recipe().sql("SELECT no_such_column FROM input"), schema)


def test_check_returns_the_schema_after_each_step() -> None:
    recipe = Recipe().add("DUPLICATE", sourceColumn="qty", targetColumn="qty_2")
    (after,) = check(recipe, pa.schema([("id", pa.int64()), ("qty", pa.int32())]))
    assert after.names == ["id", "qty", "qty_2"]
    assert after.field("qty_2").type == pa.int32()


def test_recipe_file_that_is_not_a_list_is_rejected(tmp_path: object) -> None:
    with pytest.raises(RecipeError, match="must be a list of steps"):
        Recipe.loads("operation: RENAME")
