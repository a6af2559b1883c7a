"""Transformations: DataBrew-compatible recipes, ML transforms, sampling and splits.

A :class:`Recipe` is an ordered list of steps (operations with parameters and conditions). It
runs on an engine (DuckDB by default, PySpark for data beyond one machine) as one SQL view per
step; steps that learn (imputers, scalers, encoders) store their fitted state with the published
recipe version. ``lake.recipes`` publishes, previews and applies recipes, and samples and splits
tables.
"""

from lakebed.transform.conditions import Condition
from lakebed.transform.jobs import Preview, RecipeRun, SplitRun
from lakebed.transform.recipe import Recipe, RecipeError, Step
from lakebed.transform.recipes import Recipes
from lakebed.transform.versions import RecipeVersion

__all__ = [
    "Condition",
    "Preview",
    "Recipe",
    "RecipeError",
    "RecipeRun",
    "RecipeVersion",
    "Recipes",
    "SplitRun",
    "Step",
]
