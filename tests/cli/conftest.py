"""The ``cli`` fixture: run ``lakebed --lake <tmp>/lake ...`` in process, from a clean
environment; returns (exit code, stdout, stderr)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lakebed.cli import main

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LAKEBED_LAKE", raising=False)
    monkeypatch.delenv("LAKEBED_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "120")
    lake = str(tmp_path / "lake")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--lake", lake, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run
