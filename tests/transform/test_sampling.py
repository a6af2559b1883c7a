"""Seeded samples and splits: exact sizes, reproducible, no leaks between splits."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from lakebed import ConfigError, Lake


def _data(n: int = 1000) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(n), pa.int64()),
            "user": pa.array([i % 37 for i in range(n)], pa.int64()),
            "label": pa.array(["pos" if i % 10 == 0 else "neg" for i in range(n)]),
            "t": pa.array([(i * 7919) % n for i in range(n)], pa.int64()),
        }
    )


RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def _ids(table: pa.Table) -> set[int]:
    return set(table.column("id").to_pylist())


def test_random_split_is_exact_disjoint_and_reproducible(lake: Lake) -> None:
    data = _data()
    parts = lake.recipes.split(data, RATIOS, seed=42)
    assert isinstance(parts, dict)
    assert {k: v.num_rows for k, v in parts.items()} == {
        "train": 800,
        "validation": 100,
        "test": 100,
    }
    assert _ids(parts["train"]) | _ids(parts["validation"]) | _ids(parts["test"]) == set(
        range(1000)
    )
    again = lake.recipes.split(data, RATIOS, seed=42)
    other = lake.recipes.split(data, RATIOS, seed=43)
    assert isinstance(again, dict) and isinstance(other, dict)
    assert _ids(again["test"]) == _ids(parts["test"])
    assert _ids(other["test"]) != _ids(parts["test"])


def test_ordered_split_puts_the_latest_rows_last(lake: Lake) -> None:
    parts = lake.recipes.split(_data(), RATIOS, method="ordered", by="t")
    assert isinstance(parts, dict)
    assert (
        pc.max(parts["train"].column("t")).as_py() < pc.min(parts["validation"].column("t")).as_py()
    )
    assert pc.min(parts["test"].column("t")).as_py() == 900


def test_stratified_split_keeps_label_shares(lake: Lake) -> None:
    parts = lake.recipes.split(_data(), RATIOS, method="stratified", by="label", seed=1)
    assert isinstance(parts, dict)
    for name, share in RATIOS.items():
        positives = pc.sum(pc.equal(parts[name].column("label"), "pos")).as_py()
        assert positives == round(100 * share)


def test_grouped_split_never_puts_a_key_in_two_splits(lake: Lake) -> None:
    parts = lake.recipes.split(_data(), RATIOS, method="grouped", by="user", seed=5)
    assert isinstance(parts, dict)
    users = [set(p.column("user").to_pylist()) for p in parts.values()]
    assert not (users[0] & users[1]) and not (users[0] & users[2]) and not (users[1] & users[2])
    assert sum(p.num_rows for p in parts.values()) == 1000
    assert 700 <= parts["train"].num_rows <= 900


def test_split_into_tables_records_what_made_them(lake: Lake) -> None:
    run = lake.recipes.split("raw.people", {"train": 0.75, "test": 0.25}, into="ml.people", seed=9)
    assert not isinstance(run, dict)
    assert run.tables == {"train": "ml.people_train", "test": "ml.people_test"}
    assert run.rows == {"train": 15, "test": 5}
    table = lake.table("ml.people_test")
    summary = table.current_snapshot().summary  # type: ignore[union-attr]
    assert "seed=9" in summary["lakebed.split"]
    assert summary["lakebed.split.source"] == f"raw.people@{run.source_snapshot}"


def test_samples(lake: Lake) -> None:
    data = _data()
    first = lake.recipes.sample(data, method="first", n=5)
    assert isinstance(first, pa.Table) and first.column("id").to_pylist() == [0, 1, 2, 3, 4]
    a = lake.recipes.sample(data, n=50, seed=3)
    b = lake.recipes.sample(data, n=50, seed=3)
    assert isinstance(a, pa.Table) and isinstance(b, pa.Table)
    assert a.num_rows == 50 and a.equals(b)
    strat = lake.recipes.sample(data, method="stratified", fraction=0.2, by="label", seed=3)
    assert isinstance(strat, pa.Table)
    assert pc.sum(pc.equal(strat.column("label"), "pos")).as_py() == 20
    assert strat.num_rows == 200


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ratios": {"train": 0.8, "test": 0.1}}, "add up to 0.9"),
        ({"ratios": {"train": 1.2, "test": -0.2}}, "ratios must be positive"),
        ({"ratios": RATIOS, "method": "stratified"}, "needs by=<column>"),
        ({"ratios": RATIOS, "method": "grouped", "by": "nope"}, "needs by=<column>"),
        ({"ratios": RATIOS, "method": "sideways"}, "unknown split method"),
    ],
)
def test_bad_split_arguments(lake: Lake, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        lake.recipes.split(_data(10), **kwargs)  # type: ignore[arg-type]
