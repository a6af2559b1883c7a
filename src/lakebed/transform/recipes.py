"""``lake.recipes``: load, check, publish, preview and apply recipes; sample and split tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakebed.transform import jobs
from lakebed.transform.pipeline import check as check_recipe
from lakebed.transform.recipe import Recipe
from lakebed.transform.sampling import SampleMethod, SplitMethod
from lakebed.transform.versions import RecipeStore, RecipeVersion

if TYPE_CHECKING:
    from lakebed.lake import Lake

RecipeLike = Recipe | str | Path | Sequence[Mapping[str, Any]]


class Recipes:
    """Recipes of a lake: published versions live in its catalog database."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    @cached_property
    def store(self) -> RecipeStore:
        return RecipeStore(self.lake.catalog.engine)

    def load(self, recipe: RecipeLike) -> Recipe:
        """A Recipe from a Recipe, a JSON/YAML file path, or a list of steps."""
        if isinstance(recipe, Recipe):
            return recipe
        if isinstance(recipe, str | Path):
            return Recipe.load(recipe)
        return Recipe(list(recipe))

    def _resolve(
        self, recipe: RecipeLike, version: int | None
    ) -> tuple[Recipe, list[Any] | None, str]:
        """A recipe, its fitted states and its label: a published name (``name`` or
        ``name:3``) is looked up first, then a file."""
        if isinstance(recipe, str) and not Path(recipe).exists():
            name, _, ver = recipe.partition(":")
            published = self.store.get(name, int(ver) if ver else version)
            return published.recipe, published.states, f"{name}:{published.version}"
        loaded = self.load(recipe)
        return loaded, None, loaded.name

    def check(self, recipe: RecipeLike, table: str | pa.Schema) -> list[pa.Schema]:
        """Check ``recipe`` against a table's (or a schema's) columns; the schema after each
        step. Raises RecipeError naming the first step that cannot run."""
        rec, _, _ = self._resolve(recipe, None)
        schema = table if isinstance(table, pa.Schema) else self.lake.table(table).schema
        return check_recipe(rec, schema, lambda ident: self.lake.table(ident).schema)

    def publish(
        self,
        name: str,
        recipe: RecipeLike,
        *,
        fit_on: str | None = None,
        snapshot_id: int | None = None,
        description: str | None = None,
        engine: str = "duckdb",
    ) -> RecipeVersion:
        """Publish ``recipe`` as the next version of ``name``. With ``fit_on`` (a table), the
        learning steps are fitted on that table's snapshot and their state is stored."""
        rec = self.load(recipe)
        states: list[Any] | None = None
        fitted_snapshot = None
        if fit_on is not None:
            from lakebed.transform.pipeline import build

            with jobs.open_engine(self.lake, engine) as eng:
                fitted_snapshot, _ = jobs.load_input(self.lake, eng, fit_on, snapshot_id)
                states = build(eng, rec, secondary=jobs.secondary_loader(self.lake)).states
        return self.store.publish(
            name,
            rec,
            states=states,
            fitted_on=fit_on,
            fitted_snapshot=fitted_snapshot,
            description=description,
        )

    def get(self, name: str, version: int | None = None) -> RecipeVersion:
        return self.store.get(name, version)

    def names(self) -> list[tuple[str, int]]:
        """Every published recipe with its latest version."""
        return self.store.names()

    def versions(self, name: str) -> list[int]:
        return self.store.versions(name)

    def apply(
        self,
        recipe: RecipeLike,
        *,
        source: str | pa.Table,
        into: str | None = None,
        version: int | None = None,
        snapshot_id: int | None = None,
        engine: str = "duckdb",
        mode: str = "overwrite",
    ) -> jobs.RecipeRun | pa.Table:
        """Run a recipe (published name, file or Recipe) over a table snapshot and write a new
        snapshot of ``into``; without ``into``, return the rows."""
        rec, states, label = self._resolve(recipe, version)
        run, rows = jobs.run_recipe(
            self.lake, rec, source=source, into=into, states=states,
            snapshot_id=snapshot_id, engine=engine, mode=mode, label=label,
        )  # fmt: skip
        return run if into is not None or rows is None else rows

    def preview(self, recipe: RecipeLike, source: str | pa.Table, *, n: int = 20) -> jobs.Preview:
        """The first ``n`` rows before and after the recipe; nothing is written."""
        rec, states, _ = self._resolve(recipe, None)
        return jobs.preview(self.lake, rec, source, n=n, states=states)

    def sample(
        self,
        source: str | pa.Table,
        *,
        method: SampleMethod = "random",
        n: int | None = None,
        fraction: float | None = None,
        by: str | None = None,
        seed: int = 0,
        recipe: RecipeLike | None = None,
        into: str | None = None,
        engine: str = "duckdb",
    ) -> pa.Table | jobs.RecipeRun:
        """A seeded sample: the first ``n``, ``n`` or ``fraction`` at random, or stratified."""
        rec, states = self._maybe(recipe)
        return jobs.sample(
            self.lake, source, method=method, n=n, fraction=fraction, by=by, seed=seed,
            recipe=rec, states=states, into=into, engine=engine,
        )  # fmt: skip

    def split(
        self,
        source: str | pa.Table,
        ratios: Mapping[str, float],
        *,
        method: SplitMethod = "random",
        by: str | None = None,
        seed: int = 0,
        recipe: RecipeLike | None = None,
        into: str | Mapping[str, str] | None = None,
        engine: str = "duckdb",
    ) -> jobs.SplitRun | dict[str, pa.Table]:
        """Seeded train/validation/test splits (random, ordered, stratified or grouped)."""
        rec, states = self._maybe(recipe)
        return jobs.split(
            self.lake, source, ratios, into=into, method=method, by=by, seed=seed,
            recipe=rec, states=states, engine=engine,
        )  # fmt: skip

    def _maybe(self, recipe: RecipeLike | None) -> tuple[Recipe | None, list[Any] | None]:
        if recipe is None:
            return None, None
        rec, states, _ = self._resolve(recipe, None)
        return rec, states
