"""The operation registry: coverage of DataBrew's categories, and its generated reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakebed.transform import Recipe, RecipeError
from lakebed.transform.ops import all_operations
from lakebed.transform.reference import operations_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "recipe-operations.md"

# One DataBrew operation from each of its categories (names as DataBrew spells them).
DATABREW_CATEGORIES = {
    "basic": "MOVE_TO_INDEX",
    "cleaning": "EXTRACT_BETWEEN_DELIMITERS",
    "quality": "FILL_WITH_MEDIAN",
    "pii": "MASK_DELIMITER",
    "outliers": "REPLACE_OUTLIERS",
    "column structure": "SPLIT_COLUMN_SINGLE_DELIMITER",
    "column formatting": "NUMBER_FORMAT",
    "data structure": "UNNEST_STRUCT_N",
    "data science": "ONE_HOT_ENCODING",
    "math": "RANDOM_BETWEEN",
    "aggregate": "KTH_LARGEST",
    "text": "RIGHT_FIND",
    "datetime": "DATE_DIFF",
    "window": "ROLLING_KTH_LARGEST",
    "web": "URL_PARAMS",
    "other": "COALESCE",
}


def test_at_least_120_databrew_operations_in_every_category() -> None:
    ops = all_operations()
    assert sum(1 for op in ops.values() if op.databrew) >= 120
    missing = {cat: name for cat, name in DATABREW_CATEGORIES.items() if name not in ops}
    assert not missing
    assert all(op.examples for op in ops.values())


@pytest.mark.parametrize("name", ["ENCRYPT", "GET_STEP_DATAFRAME"])
def test_databrew_operations_lakebed_lacks_are_rejected_by_name(name: str) -> None:
    with pytest.raises(RecipeError, match=f"operation '{name}' is not supported"):
        Recipe([{"Action": {"Operation": name, "Parameters": {}}}])


def test_the_reference_document_is_generated_from_the_registry() -> None:
    assert DOC.read_text() == operations_markdown(), (
        "docs/recipe-operations.md is stale: run "
        "`lakebed recipe list-operations --markdown > docs/recipe-operations.md`"
    )
