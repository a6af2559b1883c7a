"""Published recipe versions, kept in the catalog database (table ``lakebed_recipes``).

A version freezes a recipe's steps together with the fitted state of its learning steps
(means, categories, scaling factors...) and where that state was learned (table and snapshot).
Applying a version to new data reuses that state as is, so training and serving transform data
identically.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from lakebed.errors import NotFoundError
from lakebed.transform.recipe import Recipe

_metadata = sa.MetaData()
_recipes = sa.Table(
    "lakebed_recipes",
    _metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("steps", sa.Text, nullable=False),
    sa.Column("states", sa.Text, nullable=False),
    sa.Column("fitted_on", sa.String(511)),
    sa.Column("fitted_snapshot", sa.BigInteger),
    sa.Column("description", sa.Text),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class RecipeVersion:
    """One published version of a recipe."""

    name: str
    version: int
    recipe: Recipe
    states: list[Any]
    fitted_on: str | None
    fitted_snapshot: int | None
    description: str | None
    published_at: datetime

    @property
    def fitted(self) -> bool:
        """True when every learning step has its state."""
        return all(
            state is not None or not bound.op.learns
            for bound, state in zip(self.recipe.bound, self.states, strict=False)
        ) and len(self.states) == len(self.recipe)


class RecipeStore:
    """Publish and read recipe versions in the catalog database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        _metadata.create_all(engine, checkfirst=True)

    def publish(
        self,
        name: str,
        recipe: Recipe,
        *,
        states: list[Any] | None = None,
        fitted_on: str | None = None,
        fitted_snapshot: int | None = None,
        description: str | None = None,
    ) -> RecipeVersion:
        """Store ``recipe`` as the next version of ``name``; returns it."""
        with self.engine.begin() as con:
            latest = con.execute(
                sa.select(sa.func.max(_recipes.c.version)).where(_recipes.c.name == name)
            ).scalar()
            version = (latest or 0) + 1
            now = datetime.now(UTC)
            con.execute(
                _recipes.insert().values(
                    name=name,
                    version=version,
                    steps=recipe.to_json(),
                    states=json.dumps(states or [None] * len(recipe)),
                    fitted_on=fitted_on,
                    fitted_snapshot=fitted_snapshot,
                    description=description,
                    published_at=now,
                )
            )
        return self.get(name, version)

    def get(self, name: str, version: int | None = None) -> RecipeVersion:
        """Version ``version`` of recipe ``name`` (the latest when None)."""
        query = sa.select(_recipes).where(_recipes.c.name == name)
        if version is not None:
            query = query.where(_recipes.c.version == version)
        query = query.order_by(_recipes.c.version.desc()).limit(1)
        with self.engine.connect() as con:
            row = con.execute(query).mappings().first()
        if row is None:
            what = f"version {version} of recipe {name!r}" if version else f"recipe {name!r}"
            raise NotFoundError(
                f"{what} is not published", fix="publish it with `lakebed recipe publish`"
            )
        published = row["published_at"]
        if published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
        return RecipeVersion(
            name=row["name"],
            version=row["version"],
            recipe=Recipe.loads(row["steps"], name=row["name"]),
            states=json.loads(row["states"]),
            fitted_on=row["fitted_on"],
            fitted_snapshot=row["fitted_snapshot"],
            description=row["description"],
            published_at=published,
        )

    def names(self) -> builtins.list[tuple[str, int]]:
        """Every recipe name with its latest version."""
        query = (
            sa.select(_recipes.c.name, sa.func.max(_recipes.c.version))
            .group_by(_recipes.c.name)
            .order_by(_recipes.c.name)
        )
        with self.engine.connect() as con:
            return [(str(n), int(v)) for n, v in con.execute(query)]

    def versions(self, name: str) -> builtins.list[int]:
        """The published versions of ``name``, oldest first."""
        query = (
            sa.select(_recipes.c.version)
            .where(_recipes.c.name == name)
            .order_by(_recipes.c.version)
        )
        with self.engine.connect() as con:
            return [int(v) for (v,) in con.execute(query)]
