"""How a recipe runs on an engine: fits see the same data however deep the stack of steps,
and output rows keep their input order whether or not a step reorders them on the way."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from lakebed import Lake
from lakebed.transform import Recipe
from lakebed.transform.engines.duckdb import DuckDBEngine
from lakebed.transform.ops import all_operations
from lakebed.transform.pipeline import build
from lakebed.transform.sample import sample_table

LEARNING = [
    (name, i)
    for name, cls in sorted(all_operations().items())
    if cls.learns
    for i in range(len(cls.examples))
]


def _states(steps: list[dict[str, Any]], lookups: bool = True) -> list[Any]:
    with DuckDBEngine(threads=2) as engine:
        engine.load_arrow("input", sample_table())
        return build(engine, Recipe(steps), lookups=lookups).states


@pytest.mark.parametrize("lookups", [True, False], ids=["base", "copy"])
@pytest.mark.parametrize(("operation", "index"), LEARNING, ids=lambda v: str(v))
def test_a_fit_learns_the_same_state_on_top_of_other_steps(
    operation: str, index: int, lookups: bool
) -> None:
    """Fits after other steps read the columns they name (or everything when they need more):
    from the input when the steps left them alone (tracked with lookups), else from a narrow
    copy. The state must be what a fit on the plain input learns."""
    example = all_operations()[operation].examples[index]
    step = {"operation": operation, **example}
    # two steps that leave the data as it was, so the fit runs on a stack of views
    detour = [
        {"operation": "DUPLICATE", "parameters": {"sourceColumn": "id", "targetColumn": "id_x"}},
        {"operation": "DELETE", "parameters": {"sourceColumns": '["id_x"]'}},
    ]
    alone = _states([step])[-1]
    stacked = _states([*detour, step], lookups)[-1]
    assert stacked == alone


def _multi_file_table(lake: Lake, files: int, rows: int) -> None:
    """``files`` data files of ``rows`` rows; ids repeat (duplicates), names need cleaning."""
    rng = np.random.default_rng(3)
    for f in range(files):
        batch = rng.integers(0, files * rows // 2, rows).tolist()
        table = pa.table(
            {
                "id": pa.array(batch, pa.int64()),
                "name": pa.array([f"  n{v}  x" for v in batch]),
                "score": pa.array(rng.normal(50, 10, rows)),
                "seq": pa.array(range(f * rows, (f + 1) * rows), pa.int64()),
            }
        )
        if f == 0:
            lake.create_table("raw.events", table)
        else:
            lake.table("raw.events").append(table)


@pytest.mark.parametrize("fits", [True, False], ids=["with-a-later-fit", "without"])
def test_rows_keep_input_order_across_files_after_deduplication(lake: Lake, fits: bool) -> None:
    """Deduplication compares rows with a join, which reorders them on several threads; the
    output is still in input order (the deleted rows are left out as it streams)."""
    _multi_file_table(lake, files=4, rows=60_000)
    recipe = (
        Recipe()
        .add("REMOVE_DUPLICATES", sourceColumn="id")
        .add("REMOVE_COMBINED", sourceColumn="name", removeLeadingAndTrailingWhitespace=True)
        .add("CAPITAL_CASE", sourceColumn="name")
    )
    if fits:
        recipe = recipe.add(
            "NORMALIZATION", sourceColumn="score", strategy="Z_SCORE", targetColumn="score_z"
        )
    out = lake.recipes.apply(recipe, source="raw.events")
    plain = lake.recipes.apply(Recipe().add("UPPER_CASE", sourceColumn="name"), source="raw.events")
    assert isinstance(out, pa.Table) and isinstance(plain, pa.Table)
    position = {s: i for i, s in enumerate(plain.column("seq").to_pylist())}
    seen = [position[s] for s in out.column("seq").to_pylist()]
    assert len(seen) == len(set(out.column("id").to_pylist())) < 240_000
    assert bool(np.all(np.diff(seen) > 0)), "rows out of input order"
    first = out.column("name")[0].as_py()
    assert first.startswith("N") and first.endswith(" X")
