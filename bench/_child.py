"""Work the memory benchmark runs in a child process, so its peak RSS is measured alone.

``python -m bench._child MODE ARGS...``; prints one JSON object (what was done) on stdout.
Modes: ``baseline`` (imports only), ``crawl-convert FOLDER LAKE``, ``append CSV LAKE``,
``pandas CSV``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def baseline() -> dict[str, Any]:
    """Import what a conversion imports, and nothing else: the floor under every peak."""
    import pyarrow.parquet  # noqa: F401

    import lakebed
    import lakebed.catalog
    import lakebed.crawl
    import lakebed.formats

    return {"imported": lakebed.__version__}


def crawl_convert(folder: str, lake_root: str) -> dict[str, Any]:
    from bench import lakeops

    lake = lakeops.open_lake(Path(lake_root))
    table = lakeops.crawl_convert(lake, Path(folder), "bench")
    return {"table": table.ident, "rows": table.stats().rows}


def append(csv_path: str, lake_root: str) -> dict[str, Any]:
    from bench import lakeops

    lake = lakeops.open_lake(Path(lake_root))
    table = lakeops.append_csv(lake, "bench.events", Path(csv_path))
    return {"table": table.ident, "rows": table.stats().rows}


def pandas_read(csv_path: str) -> dict[str, Any]:
    import pandas as pd

    frame = pd.read_csv(csv_path)
    return {"rows": len(frame)}


MODES: dict[str, Callable[..., dict[str, Any]]] = {
    "baseline": baseline,
    "crawl-convert": crawl_convert,
    "append": append,
    "pandas": pandas_read,
}


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in MODES:
        raise SystemExit(f"usage: python -m bench._child {{{'|'.join(MODES)}}} ARGS...")
    print(json.dumps(MODES[argv[0]](*argv[1:])))


if __name__ == "__main__":
    main(sys.argv[1:])
