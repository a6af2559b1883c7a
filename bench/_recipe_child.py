"""``python -m bench._recipe_child FOLDER LAKE MEMORY_LIMIT``: the benchmark recipe once, in a
child process of its own (so its peak RSS is its alone); prints a JSON summary."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(folder: str, root: str, limit: str) -> None:
    os.environ["LAKEBED_QUERY_MEMORY_LIMIT"] = limit
    from bench import _recipe_steps, lakeops
    from bench.recipe import load

    lake = lakeops.open_lake(Path(root))
    load(lake, Path(folder), "bench.orders")
    run = lake.recipes.apply(_recipe_steps.recipe(), source="bench.orders", into="bench.clean")
    print(json.dumps({"rows_out": run.rows_out}))  # type: ignore[union-attr]


if __name__ == "__main__":
    main(*sys.argv[1:4])
