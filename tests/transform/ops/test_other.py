"""OTHER operations on DuckDB: COALESCE; DataBrew's session-only functions are rejected."""

from __future__ import annotations

import pytest
from tests.transform.ops.f_helpers import column

from lakebed.transform.recipe import Recipe, RecipeError


def test_coalesce_takes_the_first_non_null_in_the_order_given() -> None:
    data = {"a": [None, "x", None], "b": ["y", "z", None], "n": [1, 2, 3]}
    assert column(data, "COALESCE", sourceColumns='["a", "b"]') == ["y", "x", None]
    assert column(data, "COALESCE", sourceColumns='["b", "a"]') == ["y", "z", None]
    # mixed kinds become text
    assert column(data, "COALESCE", sourceColumns='["a", "n"]') == ["1", "x", "3"]
    numbers = column({"i": [None, 2], "f": [1.5, 9.0]}, "COALESCE", sourceColumns='["i", "f"]')
    assert numbers == [1.5, 2.0]


@pytest.mark.parametrize("name", ["GET_ACTION_RESULT", "GET_STEP_DATAFRAME"])
def test_session_only_functions_are_rejected_by_name(name: str) -> None:
    with pytest.raises(RecipeError, match=name):
        Recipe([{"Action": {"Operation": name, "Parameters": {}}}])
