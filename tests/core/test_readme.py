"""The README's ten-line example runs as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lakebed import Lake

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has a Python example"
    monkeypatch.chdir(tmp_path)
    for key in ("LAKEBED_LAKE", "LAKEBED_CONFIG", "LAKEBED_CATALOG"):
        monkeypatch.delenv(key, raising=False)
    events = [
        {
            "customer_id": i % 4,
            "event": "purchase" if i % 3 == 0 else "view",
            "ts": f"2026-11-0{1 + i % 2}T10:00:00",
        }
        for i in range(12)
    ]
    Path("clicks.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)  # runs the README as written
    lake: Lake = namespace["lake"]  # type: ignore[assignment]
    counts = lake.sql("SELECT event, count(*) AS n FROM curated.clicks GROUP BY event ORDER BY 1")
    assert counts.to_pylist() == [{"event": "purchase", "n": 4}, {"event": "view", "n": 8}]
    assert lake.table("curated.clicks").partition_by == ["day(ts)"]
    train = lake.sql("SELECT DISTINCT customer_id FROM ml.clicks_train").column(0).to_pylist()
    test = lake.sql("SELECT DISTINCT customer_id FROM ml.clicks_test").column(0).to_pylist()
    assert sorted(train + test) == [0, 1, 2, 3]  # each customer in exactly one split
    assert {"event_purchase", "event_view"} <= set(lake.table("ml.clicks").schema.names)
