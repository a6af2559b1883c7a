"""HTTP routes for recipes: list operations, publish, preview and apply; split tables."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from lakebed.lake import Lake


class PublishRequest(BaseModel):
    """A new version of a recipe: DataBrew-shaped steps, optionally fitted on a table."""

    model_config = ConfigDict(extra="forbid")

    steps: list[dict[str, Any]]
    fit_on: str | None = None
    description: str | None = None


class ApplyRequest(BaseModel):
    """Run a published recipe (``recipe``: NAME or NAME:VERSION) or inline ``steps``."""

    model_config = ConfigDict(extra="forbid")

    recipe: str | None = None
    steps: list[dict[str, Any]] | None = None
    source: str
    into: str | None = None
    preview: int | None = None
    engine: Literal["duckdb", "spark"] = "duckdb"
    mode: Literal["overwrite", "append"] = "overwrite"


class SplitRequest(BaseModel):
    """Seeded splits of a table into ``into``-prefixed tables."""

    model_config = ConfigDict(extra="forbid")

    into: str
    ratios: dict[str, float] = {"train": 0.8, "validation": 0.1, "test": 0.1}
    method: Literal["random", "ordered", "stratified", "grouped"] = "random"
    by: str | None = None
    seed: int = 0
    recipe: str | None = None


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


def recipes_router(lake: Lake) -> APIRouter:
    router = APIRouter(tags=["recipes"])

    @router.get("/recipes/operations")
    def operations() -> list[dict[str, Any]]:
        """Every operation with its category, parameters and an example."""
        from lakebed.transform.ops import all_operations

        return [
            {
                "operation": name,
                "category": op.category,
                "doc": op.doc,
                "databrew": op.databrew,
                "learns": op.learns,
                "parameters": {
                    k: {"kind": v.kind, "required": v.required} for k, v in op.params.items()
                },
                "example": op.examples[0] if op.examples else None,
            }
            for name, op in all_operations().items()
        ]

    @router.get("/recipes")
    def recipes() -> list[dict[str, Any]]:
        """Published recipes with their latest version."""
        return [{"name": n, "latest": v} for n, v in lake.recipes.names()]

    @router.post("/recipes/{name}/versions")
    def publish(name: str, request: PublishRequest) -> dict[str, Any]:
        """Publish the next version of recipe ``name``."""
        version = lake.recipes.publish(
            name, request.steps, fit_on=request.fit_on, description=request.description
        )
        return {"name": version.name, "version": version.version, "states": version.states}

    @router.get("/recipes/{name}")
    def show(name: str, version: int | None = None) -> dict[str, Any]:
        """A published version's steps (DataBrew JSON) and fitted state."""
        found = lake.recipes.get(name, version)
        return {
            "name": found.name,
            "version": found.version,
            "steps": found.recipe.to_list(),
            "states": found.states,
            "fitted_on": found.fitted_on,
        }

    @router.post("/recipes/apply")
    def apply(request: ApplyRequest) -> dict[str, Any]:
        """Apply a recipe to a table; with ``preview`` show its effect on the first rows."""
        from lakebed.errors import ConfigError

        recipe: Any = request.recipe if request.recipe is not None else request.steps
        if recipe is None:
            raise ConfigError("give a recipe name or steps", fix='add "recipe" or "steps"')
        if request.preview is not None:
            result = lake.recipes.preview(recipe, request.source, n=request.preview)
            return {"before": _rows(result.before), "after": _rows(result.after)}
        out = lake.recipes.apply(
            recipe, source=request.source, into=request.into, engine=request.engine,
            mode=request.mode,
        )  # fmt: skip
        if isinstance(out, pa.Table):
            return {"rows": _rows(out)}
        return {k: v for k, v in asdict(out).items() if k != "states"}

    @router.post("/tables/{ident}/split")
    def split(ident: str, request: SplitRequest) -> dict[str, Any]:
        """Split a table into seeded, reproducible parts."""
        run = lake.recipes.split(
            ident, request.ratios, into=request.into, method=request.method, by=request.by,
            seed=request.seed, recipe=request.recipe,
        )  # fmt: skip
        assert not isinstance(run, dict)  # written to tables, so a SplitRun
        return asdict(run)

    return router
