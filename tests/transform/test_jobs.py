"""Recipe jobs read a snapshot and write a snapshot; published versions and previews."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lakebed import Lake, NotFoundError
from lakebed.transform import Recipe

RECIPE = (
    Recipe(name="tidy")
    .add("DUPLICATE", sourceColumn="price", targetColumn="price_2")
    .add("DELETE", sourceColumns=["notes", "payload", "address", "tags"])
    .sql("SELECT id, city, price_2 FROM input WHERE price_2 > 11")
)


def test_apply_writes_a_snapshot_that_names_its_source(lake: Lake) -> None:
    run = lake.recipes.apply(RECIPE, source="raw.people", into="cur.people")
    assert not isinstance(run, pa.Table)
    assert run.rows_in == 20 and run.rows_out == 7
    out = lake.sql("SELECT id, price_2 FROM cur.people ORDER BY id")
    assert out.column("price_2").to_pylist() == [12.0, 11.25, 250.0, 11.5, 12.5, 13.0, 11.75]
    summary = lake.table("cur.people").current_snapshot().summary  # type: ignore[union-attr]
    assert summary["lakebed.recipe.source"] == f"raw.people@{run.source_snapshot}"
    assert summary["lakebed.recipe"] == "tidy"


def test_rows_keep_their_input_order(lake: Lake) -> None:
    rows = lake.recipes.apply(Recipe().sql("SELECT id FROM input"), source="raw.people")
    assert isinstance(rows, pa.Table)
    assert rows.column("id").to_pylist() == list(range(1, 21))


def test_order_dependent_steps_see_appended_rows_in_the_order_they_came(lake: Lake) -> None:
    table = lake.create_table("raw.readings", schema=pa.schema([("v", pa.float64())]))
    for day in ([1.0, None], [None, 2.0], [None, None]):
        table.append(pa.table({"v": day}, schema=table.schema))
    fill = Recipe().add("FILL_WITH_LAST_VALID", sourceColumn="v")
    for engine in ("duckdb", "spark"):
        rows = lake.recipes.apply(fill, source="raw.readings", engine=engine)
        assert isinstance(rows, pa.Table)
        assert rows.column("v").to_pylist() == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0], engine


def test_published_versions_are_applied_by_name(lake: Lake) -> None:
    first = lake.recipes.publish("tidy", RECIPE)
    second = lake.recipes.publish(
        "tidy", RECIPE.add("RENAME", sourceColumn="city", targetColumn="town")
    )
    assert (first.version, second.version) == (1, 2)
    assert lake.recipes.versions("tidy") == [1, 2]
    assert lake.recipes.names() == [("tidy", 2)]
    run = lake.recipes.apply("tidy", source="raw.people", into="cur.latest")
    assert not isinstance(run, pa.Table)
    assert lake.table("cur.latest").schema.names == ["id", "town", "price_2"]
    lake.recipes.apply("tidy:1", source="raw.people", into="cur.v1")
    assert lake.table("cur.v1").schema.names == ["id", "city", "price_2"]
    summary = lake.table("cur.v1").current_snapshot().summary  # type: ignore[union-attr]
    assert summary["lakebed.recipe"] == "tidy:1"
    with pytest.raises(NotFoundError, match="recipe 'nope' is not published"):
        lake.recipes.apply("nope", source="raw.people", into="cur.x")


def test_preview_shows_before_and_after_without_writing(lake: Lake) -> None:
    preview = lake.recipes.preview(RECIPE, "raw.people", n=5)
    assert preview.before.num_rows == 5 and "notes" in preview.before.column_names
    assert preview.after.column_names == ["id", "city", "price_2"]
    assert preview.after.column("id").to_pylist() == [2, 4]
    assert not lake.catalog.table_exists("cur.people")


def test_an_empty_result_empties_the_target(lake: Lake) -> None:
    lake.recipes.apply(RECIPE, source="raw.people", into="cur.people")
    nothing = Recipe().sql("SELECT id, city, price FROM input WHERE id < 0")
    run = lake.recipes.apply(nothing, source="raw.people", into="cur.people")
    assert not isinstance(run, pa.Table) and run.rows_out == 0
    assert lake.sql("SELECT count(*) AS n FROM cur.people").column("n").to_pylist() == [0]
