"""Encoders with learned categories, categorical mapping and tokenisation."""

from __future__ import annotations

import pyarrow as pa
import pytest
from tests.transform.ops.h_run import col, fit_then_apply, run, step

from lakebed.transform.recipe import RecipeError

DATA = pa.table({"size": ["M", "S", None, "L", "M", " "], "n": [1, 2, 3, 4, 5, 6]})


def test_one_hot_encoding_learns_sorted_categories() -> None:
    out = run([step("ONE_HOT_ENCODING", sourceColumn="size")], DATA)
    assert out.column_names == ["size", "size_L", "size_M", "size_S", "n"]
    assert out.column("size_M").to_pylist() == [1, 0, 0, 0, 1, 0]
    assert out.column("size_L").to_pylist() == [0, 0, 0, 1, 0, 0]


def test_one_hot_keeps_the_ten_most_frequent() -> None:
    values = [f"v{i:02d}" for i in range(12)] + ["v11", "v11"]
    out = run([step("ONE_HOT_ENCODING", sourceColumn="c")], pa.table({"c": values}))
    assert len(out.column_names) == 11
    assert "c_v11" in out.column_names and "c_v10" not in out.column_names


def test_unseen_values_get_zeros_after_fitting() -> None:
    new = pa.table({"size": ["XL", "S"], "n": [1, 2]})
    out = fit_then_apply([step("ONE_HOT_ENCODING", sourceColumn="size")], DATA, new)
    assert out.column_names == ["size", "size_L", "size_M", "size_S", "n"]
    assert out.column("size_S").to_pylist() == [0, 1]
    assert out.column("size_L").to_pylist() == [0, 0]


def test_ordinal_encoding() -> None:
    out = col([step("ORDINAL_ENCODING", sourceColumn="size", targetColumn="code")], "code", DATA)
    assert out == [1, 2, None, 0, 1, None]


def test_categorical_mapping_given_and_learned() -> None:
    mapped = col(
        [
            step(
                "CATEGORICAL_MAPPING",
                sourceColumn="size",
                targetColumn="m",
                mapType="NUMERIC",
                categoryMap='{"S": "1", "M": "2"}',
                other="0",
            )
        ],
        "m",
        DATA,
    )
    assert mapped == [2.0, 1.0, 0.0, 0.0, 2.0, 0.0]
    kept = col(
        [
            step(
                "CATEGORICAL_MAPPING",
                sourceColumn="size",
                targetColumn="m",
                categoryMap='{"S": "small"}',
                keepOthers="true",
            )
        ],
        "m",
        DATA,
    )
    assert kept == ["M", "small", None, "L", "M", " "]
    learned = col(
        [step("CATEGORICAL_MAPPING", sourceColumn="size", targetColumn="m", mapType="NUMERIC")],
        "m",
        DATA,
    )
    assert learned == [2.0, 3.0, None, 1.0, 2.0, None]


def test_categorical_mapping_can_delete_other_rows() -> None:
    out = run(
        [
            step(
                "CATEGORICAL_MAPPING",
                sourceColumn="size",
                targetColumn="m",
                categoryMap='{"M": "medium"}',
                deleteOtherRows="true",
            )
        ],
        DATA,
    )
    assert out.column("n").to_pylist() == [1, 5]


def test_numeric_mapping_rejects_text_categories() -> None:
    with pytest.raises(RecipeError, match="not a number"):
        run(
            [
                step(
                    "CATEGORICAL_MAPPING",
                    sourceColumn="size",
                    mapType="NUMERIC",
                    categoryMap='{"S": "small"}',
                )
            ],
            DATA,
        )


def test_tokenization() -> None:
    data = pa.table({"t": ["The cat doesn't SIT, on the mat!", None, "Café  au lait"]})
    plain = col([step("TOKENIZATION", sourceColumn="t", targetColumn="k")], "k", data)
    assert plain == ["the cat doesn t sit on the mat", None, "café au lait"]
    cleaned = col(
        [
            step(
                "TOKENIZATION",
                sourceColumn="t",
                targetColumn="k",
                delimiter="|",
                expandContractions="ENABLED",
                stopWordRemovalMode="DEFAULT",
                customStopWords='["mat"]',
            )
        ],
        "k",
        data,
    )
    assert cleaned == ["cat|sit", None, "café|au|lait"]


def test_stemming_is_rejected_not_ignored() -> None:
    with pytest.raises(RecipeError, match="stemmingMode"):
        run(
            [step("TOKENIZATION", sourceColumn="size", targetColumn="k", stemmingMode="PORTER")],
            DATA,
        )
