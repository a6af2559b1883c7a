"""Text featurisation on DuckDB: tokens, learned vocabularies, TF-IDF by hand, hashing."""

from __future__ import annotations

import hashlib
import math

import pyarrow as pa
import pytest
from tests.transform.ops.ml_helpers import fit_apply, run, step

from lakebed.transform.recipe import RecipeError

DOCS = pa.table({"text": ["The cat sat.", "the DOG sat", "a cat", None, "dog, dog; dog!"]})


def test_tokenize_text() -> None:
    data = pa.table({"t": ["Hello, World! 42x", "  ", "Café-au-lait and MORE", None]})
    out = run("TOKENIZE_TEXT", data, sourceColumn="t", targetColumn="tok", stopWords='["AND"]')
    assert out.column("tok").to_pylist() == [
        ["hello", "world", "42x"],
        [],
        ["café", "au", "lait", "more"],
        None,
    ]
    assert out.schema.field("tok").type == pa.list_(pa.string()) or pa.types.is_list(
        out.schema.field("tok").type
    )


def test_stop_words_may_hold_any_character() -> None:
    # Stop words are SQL literals inside a template: "@" and braces in them are text, and a
    # quote in the column name stays inside its identifier.
    data = pa.table({"it's": ["Hello a@b, {0} world", None]})
    words = '["world", "a@b", "{0}", "x}"]'
    out = run("TOKENIZE_TEXT", data, sourceColumn="it's", targetColumn="tok", stopWords=words)
    assert out.column("tok").to_pylist() == [["hello", "a", "b", "0"], None]


def test_count_vectorize_learns_top_terms_by_document_frequency() -> None:
    # df: the 2, cat 2, sat 2, dog 2, a 1 -> top 3, ties alphabetical: cat, dog, sat
    out, states = fit_apply(
        [step("COUNT_VECTORIZE", sourceColumn="text", targetColumn="v", maxFeatures="3")], DOCS
    )
    assert states[0] == {"terms": ["cat", "dog", "sat"], "df": [2, 2, 2], "documents": 4}
    assert out.column("v").to_pylist() == [
        [1.0, 0.0, 1.0],
        [0.0, 1.0, 1.0],
        [1.0, 0.0, 0.0],
        None,
        [0.0, 3.0, 0.0],
    ]


def test_count_vectorize_min_df_stop_words_and_columns() -> None:
    out = run(
        "COUNT_VECTORIZE",
        DOCS,
        sourceColumn="text",
        targetColumn="n",
        minDf="2",
        stopWords='["The"]',
        output="COLUMNS",
    )
    assert out.column_names == ["text", "n_cat", "n_dog", "n_sat"]
    assert out.column("n_dog").to_pylist() == [0.0, 1.0, 0.0, None, 3.0]
    nothing = run("COUNT_VECTORIZE", DOCS, sourceColumn="text", targetColumn="v", minDf="9")
    assert nothing.column("v").to_pylist() == [[], [], [], None, []]


def _tfidf(counts: dict[str, int], vocab: list[str], df: dict[str, int], n: int) -> list[float]:
    raw = [counts.get(t, 0) * (math.log((1 + n) / (1 + df[t])) + 1) for t in vocab]
    norm = math.sqrt(sum(x * x for x in raw))
    return [x / norm for x in raw] if norm else raw


def test_tfidf_matches_a_hand_calculation() -> None:
    out, states = fit_apply([step("TFIDF_VECTORIZE", sourceColumn="text", targetColumn="w")], DOCS)
    vocab = ["a", "cat", "dog", "sat", "the"]
    df = {"a": 1, "cat": 2, "dog": 2, "sat": 2, "the": 2}
    assert states[0]["terms"] == vocab
    assert states[0]["idf"] == pytest.approx(
        [math.log(5 / 2) + 1] + [math.log(5 / 3) + 1] * 4, rel=1e-15
    )
    docs = [
        {"the": 1, "cat": 1, "sat": 1},
        {"the": 1, "dog": 1, "sat": 1},
        {"a": 1, "cat": 1},
        None,
        {"dog": 3},
    ]
    got = out.column("w").to_pylist()
    for row, doc in zip(got, docs, strict=True):
        if doc is None:
            assert row is None
        else:
            assert row == pytest.approx(_tfidf(doc, vocab, df, 4), rel=1e-12)
    assert got[4] == [0.0, 0.0, 1.0, 0.0, 0.0]


def test_tfidf_fitted_on_one_table_applies_to_another() -> None:
    steps = [step("TFIDF_VECTORIZE", sourceColumn="text", targetColumn="w", maxFeatures="2")]
    _, states = fit_apply(steps, DOCS)  # vocabulary: cat, dog (df 2; ties alphabetical)
    new = pa.table({"text": ["cat cat zebra dog", "zebra", "CAT"]})
    out, again = fit_apply(steps, new, states=states)
    assert again == states
    idf = math.log(5 / 3) + 1  # both terms: n = 4, df = 2 from the training table
    v = [2 * idf, 1 * idf]
    norm = math.hypot(*v)
    assert out.column("w").to_pylist() == [
        pytest.approx([v[0] / norm, v[1] / norm], rel=1e-12),
        [0.0, 0.0],
        pytest.approx([1.0, 0.0]),
    ]


def _bucket(token: str, n: int) -> int:
    return int(hashlib.md5(token.encode()).hexdigest()[:8], 16) % n


def test_hashing_vectorize_uses_md5_buckets() -> None:
    data = pa.table({"t": ["Alpha beta beta", "ÜBER gamma", None, ""]})
    out = run("HASHING_VECTORIZE", data, sourceColumn="t", targetColumn="h", numFeatures="16")
    expected = []
    for tokens in (["alpha", "beta", "beta"], ["über", "gamma"]):
        row = [0.0] * 16
        for tok in tokens:
            row[_bucket(tok, 16)] += 1
        expected.append(row)
    assert out.column("h").to_pylist() == [*expected, None, [0.0] * 16]
    cols = run(
        "HASHING_VECTORIZE", data, sourceColumn="t", targetColumn="h", numFeatures="3",
        normalize="true", output="COLUMNS",
    )  # fmt: skip
    first = [0.0] * 3
    for tok in ("alpha", "beta", "beta"):
        first[_bucket(tok, 3)] += 1
    norm = math.sqrt(sum(x * x for x in first))
    assert [cols.column(f"h_{i}")[0].as_py() for i in range(3)] == pytest.approx(
        [x / norm for x in first]
    )


@pytest.mark.parametrize(
    ("operation", "params", "message"),
    [
        ("COUNT_VECTORIZE", {"maxFeatures": "0"}, "maxFeatures"),
        ("TFIDF_VECTORIZE", {"maxFeatures": "5000", "output": "COLUMNS"}, "over the limit"),
        ("COUNT_VECTORIZE", {"minDf": "0"}, "minDf"),
        ("HASHING_VECTORIZE", {"numFeatures": "0"}, "numFeatures"),
        ("TOKENIZE_TEXT", {"stopWords": '{"a": 1}'}, "stopWords"),
        ("COUNT_VECTORIZE", {"sourceColumn": "n"}, "not text"),
    ],
)
def test_bad_parameters_are_rejected(operation: str, params: dict[str, str], message: str) -> None:
    data = pa.table({"text": ["a b"], "n": [1]})
    full = {"sourceColumn": "text", "targetColumn": "out", **params}
    with pytest.raises(RecipeError, match=message):
        run(operation, data, **full)
