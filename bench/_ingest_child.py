"""Work the ingestion memory benchmark runs in a child process, so its peak RSS is its own.

``python -m bench._ingest_child MODE ARGS...``; prints one JSON object on stdout.
Modes: ``baseline`` (imports only), ``ingest SOURCE LAKE INTO``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def baseline() -> dict[str, Any]:
    """Import what a load imports, and nothing else: the floor under every peak."""
    import pyarrow.parquet  # noqa: F401

    import lakebed
    import lakebed.catalog
    import lakebed.formats

    return {"imported": lakebed.__version__}


def ingest(source: str, lake_root: str, into: str) -> dict[str, Any]:
    from bench import lakeops
    from bench._ingest_common import ingest as checked_ingest

    lake = lakeops.open_lake(Path(lake_root))
    report = checked_ingest(lake, source, into)
    return {"rows": report.rows_written, "data_files": report.data_files}


def main(argv: list[str]) -> None:
    modes: dict[str, Callable[..., dict[str, Any]]] = {"baseline": baseline, "ingest": ingest}
    if not argv or argv[0] not in modes:
        raise SystemExit(f"usage: python -m bench._ingest_child {{{'|'.join(modes)}}} ARGS...")
    print(json.dumps(modes[argv[0]](*argv[1:])))


if __name__ == "__main__":
    main(sys.argv[1:])
