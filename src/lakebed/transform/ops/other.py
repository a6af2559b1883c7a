"""Other functions (DataBrew's OTHER category): COALESCE.

DataBrew's GET_ACTION_RESULT and GET_STEP_DATAFRAME refer to results of its interactive project
session (a previous action's output, another step's data frame); a recipe run has no such
session, so lakebed rejects them by name when a recipe is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.transform.ops import register
from lakebed.transform.ops.base import NUMERIC, Ctx, Operation, Param, quote
from lakebed.transform.ops.math import TARGET


@register
class Coalesce(Operation):
    name = "COALESCE"
    category = "other"
    doc = (
        "The first non-null value among ``sourceColumns`` (in the order listed). Columns of one "
        "kind keep it (numbers widen to the widest); mixed kinds give text."
    )
    params = {
        "sourceColumns": Param("columns", doc="the columns to search, as a JSON list"),
        "targetColumn": TARGET,
    }
    examples = (
        {"parameters": {"sourceColumns": '["name", "city", "email"]', "targetColumn": "who"}},
        {"parameters": {"sourceColumns": '["qty", "price"]', "targetColumn": "amount"}},
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        cols = p["sourceColumns"]
        types = [ctx.type_of(c) for c in cols]
        numeric = all(any(test(t) for test in NUMERIC) for t in types)
        same = all(t == types[0] for t in types)
        if same:
            values = [quote(c) for c in cols]
        elif numeric:
            floating = any(pa.types.is_floating(t) or pa.types.is_decimal(t) for t in types)
            target = "DOUBLE" if floating else "BIGINT"
            values = [f"CAST({quote(c)} AS {target})" for c in cols]
        else:
            values = [f"CAST({quote(c)} AS VARCHAR)" for c in cols]
        expr = f"coalesce({', '.join(values)})" if len(values) > 1 else values[0]
        return ctx.project(add=[(p["targetColumn"], expr, cols[-1])])
