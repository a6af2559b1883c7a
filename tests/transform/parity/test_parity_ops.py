"""Every registered operation's examples give the same output on DuckDB and Spark.

One case per (operation, example); an operation without examples fails ("add an example").
Known differences are listed in GAPS with the reason and asserted to still differ
(strict xfail): when one is fixed, the case fails until it is removed from GAPS.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from tests.transform.parity.compare import differences

from lakebed.transform.conditions import Condition
from lakebed.transform.engines.base import Engine
from lakebed.transform.ops import all_operations
from lakebed.transform.pipeline import build
from lakebed.transform.recipe import Recipe, Step

GAPS: dict[str, str] = {}
"""Operation -> why its output differs between DuckDB and Spark (keep empty when possible)."""


def _cases() -> list[Any]:
    cases = []
    for name, cls in all_operations().items():
        marks = []
        if name in GAPS:
            marks.append(pytest.mark.xfail(reason=GAPS[name], strict=True))
        if not cls.examples:
            cases.append(pytest.param(name, None, id=f"{name}-no-example", marks=marks))
        for i, _ in enumerate(cls.examples):
            cases.append(pytest.param(name, i, id=f"{name}-{i}", marks=marks))
    return cases


def example_recipe(name: str, index: int) -> Recipe:
    """A one-step recipe from example ``index`` of operation ``name``."""
    example = all_operations()[name].examples[index]
    conditions = tuple(Condition.parse(c, f"{name} example") for c in example.get("conditions", ()))
    return Recipe([Step(name, dict(example.get("parameters", {})), conditions)])


def run(engine: Engine, recipe: Recipe, prefix: str, states: Any = None) -> Any:
    built = build(engine, recipe, "input", states=states, fit=states is None, prefix=prefix)
    return engine.to_arrow(built.relation), built.states


class SparkOutputs:
    """Spark outputs of the selected examples, computed a chunk at a time by a few threads:
    Spark runs tiny jobs faster side by side than one after another."""

    CHUNK = 12

    def __init__(self, engine: Engine, cases: list[tuple[str, int]]) -> None:
        self.engine = engine
        self.pending = cases
        self.done: dict[tuple[str, int], Any] = {}

    def _one(self, case: tuple[str, int]) -> Any:
        try:
            return run(self.engine, example_recipe(*case), f"p_{case[0]}_{case[1]}")[0]
        except Exception as exc:  # re-raised by the case's own test
            return exc

    def get(self, case: tuple[str, int]) -> Any:
        if case not in self.done:
            at = self.pending.index(case) if case in self.pending else 0
            chunk = [case, *[c for c in self.pending[at + 1 :] if c not in self.done]]
            chunk = chunk[: self.CHUNK]
            with ThreadPoolExecutor(max_workers=4) as pool:
                self.done.update(zip(chunk, pool.map(self._one, chunk), strict=True))
        return self.done.pop(case)


@pytest.fixture(scope="session")
def spark_outputs(request: pytest.FixtureRequest, spark_engine: Engine) -> SparkOutputs:
    cases = [
        (item.callspec.params["operation"], item.callspec.params["index"])
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_example_is_the_same_on_both_engines"
        and item.callspec.params["index"] is not None
    ]
    return SparkOutputs(spark_engine, cases)


@pytest.mark.parametrize(("operation", "index"), _cases())
def test_example_is_the_same_on_both_engines(
    operation: str,
    index: int | None,
    duck_engine: Engine,
    spark_engine: Engine,
    spark_outputs: SparkOutputs,
    prefix: str,
) -> None:
    assert index is not None, f"{operation} has no examples: add an example to the operation"
    recipe = example_recipe(operation, index)
    duck, states = run(duck_engine, recipe, prefix)
    spark = spark_outputs.get((operation, index))
    if isinstance(spark, Exception):
        raise spark
    assert differences(duck, spark) == []
    if all_operations()[operation].learns:
        # state fitted on DuckDB gives the same output on Spark (no train/serve skew)
        applied, _ = run(spark_engine, recipe, prefix + "s", states=states)
        assert differences(duck, applied) == []
