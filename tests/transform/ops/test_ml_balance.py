"""Balancing classes on DuckDB: random under/oversampling counts and reproducibility, SMOTE."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pytest
from tests.transform.ops.ml_helpers import fit_apply, run, step

from lakebed.transform.ops import ml_balance
from lakebed.transform.recipe import RecipeError


def labelled(labels: list[str | None]) -> pa.Table:
    return pa.table({"id": list(range(len(labels))), "y": labels})


DATA = labelled(["no"] * 8 + ["yes"] * 2 + [None] + ["no"] * 2)  # 10 no, 2 yes, 1 NULL


def test_undersample_to_the_minority_keeps_rows_in_order() -> None:
    out = run("RANDOM_UNDERSAMPLE", DATA, labelColumn="y", randomSeed="4")
    ids = out.column("id").to_pylist()
    assert Counter(out.column("y").to_pylist()) == {"no": 2, "yes": 2, None: 1}
    assert ids == sorted(ids) and {8, 9, 10} <= set(ids)  # minority and NULL rows all kept
    again = run("RANDOM_UNDERSAMPLE", DATA, labelColumn="y", randomSeed="4")
    assert again.equals(out)
    picks = {
        tuple(run("RANDOM_UNDERSAMPLE", DATA, labelColumn="y", randomSeed=str(s))["id"].to_pylist())
        for s in range(6)
    }
    assert len(picks) > 1  # the seed changes which majority rows are kept


def test_undersample_ratio() -> None:
    out = run("RANDOM_UNDERSAMPLE", DATA, labelColumn="y", targetRatio="0.5")
    assert Counter(out.column("y").to_pylist()) == {"no": 4, "yes": 2, None: 1}


def test_oversample_copies_every_minority_row_equally() -> None:
    out = run("RANDOM_OVERSAMPLE", DATA, labelColumn="y")
    assert out.num_rows == 10 + 10 + 1
    assert out.slice(0, 13).equals(DATA)  # the input rows first, unchanged
    assert Counter(out.column("id").to_pylist()[13:]) == {8: 4, 9: 4}
    half = run("RANDOM_OVERSAMPLE", DATA, labelColumn="y", targetRatio="0.5")
    # yes grows to ceil(0.5 * 10) = 5: 3 copies, one row copied twice
    assert sorted(Counter(half.column("id").to_pylist()[13:]).values()) == [1, 2]


def test_oversample_remainder_goes_to_seeded_rows() -> None:
    data = labelled(["a"] * 8 + ["b"] * 3)  # b grows to 8: 5 extra = 1 each + 2 more
    outs = [run("RANDOM_OVERSAMPLE", data, labelColumn="y", randomSeed=str(s)) for s in range(5)]
    for out in outs:
        copies = Counter(out.column("id").to_pylist()[11:])
        assert sorted(copies.values()) == [1, 2, 2] and set(copies) == {8, 9, 10}
    assert outs[0].equals(run("RANDOM_OVERSAMPLE", data, labelColumn="y", randomSeed="0"))
    assert len({tuple(o.column("id").to_pylist()) for o in outs}) > 1


def test_ratio_out_of_range_is_rejected() -> None:
    with pytest.raises(RecipeError, match="targetRatio"):
        run("RANDOM_OVERSAMPLE", DATA, labelColumn="y", targetRatio="1.5")


MINORITY = [(0.0, 0.0), (1.0, 0.0), (0.0, 2.0), (1.0, 2.0)]


def smote_table() -> pa.Table:
    xs = [p[0] for p in MINORITY] + [5.0 + i for i in range(10)] + [None]
    ns = [int(p[1]) for p in MINORITY] + [10 * i for i in range(10)] + [1]
    ys = ["yes"] * 4 + ["no"] * 10 + ["yes"]
    return pa.table({"x": xs, "n": pa.array(ns, pa.int64()), "y": ys, "note": ["k"] * 15})


def test_smote_adds_points_between_minority_neighbours() -> None:
    params = step("SMOTE", labelColumn="y", featureColumns='["x", "n"]', neighbors="1",
                  randomSeed="3")  # fmt: skip
    out, states = fit_apply([params], smote_table())
    assert out.num_rows == 15 + 5  # minority 5 rows (one without features) grows to 10
    assert out.slice(0, 15).equals(smote_table())
    new = out.slice(15).to_pylist()
    assert [r["y"] for r in new] == ["yes"] * 5 and [r["note"] for r in new] == [None] * 5
    assert out.schema.field("n").type == pa.int64()
    for r in new:
        # the nearest neighbour of each corner is the corner 1 away along x: same n (0 or 2)
        assert 0.0 <= r["x"] <= 1.0 and r["n"] in (0, 2)
    assert states[0]["label"] == "yes" and len(states[0]["rows"]) == 5
    again, _ = fit_apply([params], smote_table())
    assert again.equals(out)


def test_smote_state_applies_to_new_data() -> None:
    steps = [step("SMOTE", labelColumn="y", featureColumns='["x", "n"]', targetRatio="0.7")]
    _, states = fit_apply(steps, smote_table())
    rows = states[0]["rows"]
    assert len(rows) == 2  # ceil(0.7 * 10) - 5
    other = smote_table().slice(0, 3)
    out, _ = fit_apply(steps, other, states=states)
    assert out.num_rows == 3 + 2
    assert [[r["x"], r["n"]] for r in out.slice(3).to_pylist()] == rows


def test_synthesize_is_seeded_and_interpolates() -> None:
    points = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 100.0]])
    one = ml_balance.synthesize(points, 50, 1, seed=9)
    assert np.array_equal(one, ml_balance.synthesize(points, 50, 1, seed=9))
    assert not np.array_equal(one, ml_balance.synthesize(points, 50, 1, seed=10))
    # nearest neighbours: 0 <-> 1 (distance 10), 2 -> 0: every point is on one of two segments
    on_x = (one[:, 1] == 0) & (one[:, 0] >= 0) & (one[:, 0] <= 10)
    on_y = (one[:, 0] == 0) & (one[:, 1] >= 0) & (one[:, 1] <= 100)
    assert np.all(on_x | on_y)


def test_smote_limits_and_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RecipeError, match="not a number"):
        run("SMOTE", smote_table(), labelColumn="y", featureColumns='["note"]')
    monkeypatch.setattr(ml_balance, "MAX_MINORITY_ROWS", 3)
    with pytest.raises(RecipeError, match="more than 3 rows"):
        run("SMOTE", smote_table(), labelColumn="y", featureColumns='["x", "n"]')


def test_smote_on_a_single_class_adds_nothing() -> None:
    data = smote_table().slice(0, 4)
    out = run("SMOTE", data, labelColumn="y", featureColumns='["x"]')
    assert out.equals(data)
