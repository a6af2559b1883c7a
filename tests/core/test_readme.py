"""The README's ten-line example runs as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has a Python example"
    monkeypatch.chdir(tmp_path)
    for key in ("LAKEBED_LAKE", "LAKEBED_CONFIG", "LAKEBED_CATALOG"):
        monkeypatch.delenv(key, raising=False)
    events = [
        {"customer_id": i % 4, "event": "purchase" if i % 3 == 0 else "view"} for i in range(12)
    ]
    Path("clicks.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)  # runs the README as written
    table = namespace["table"]
    assert sorted(table.to_pylist(), key=lambda r: r["event"]) == [  # type: ignore[attr-defined]
        {"event": "purchase", "n": 4},
        {"event": "view", "n": 8},
    ]
    lake = namespace["lake"]
    assert lake.table("curated.buyers").stats().rows == 4  # type: ignore[attr-defined]
