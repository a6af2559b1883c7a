"""Output for the CLI: rich tables for people, JSON for machines, progress bars for long work."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

console = Console()
errors = Console(stderr=True)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def emit_json(value: Any) -> None:
    """Print machine-readable JSON on stdout."""
    sys.stdout.write(json.dumps(_plain(value), indent=2, default=str) + "\n")


def emit_rows(rows: Sequence[Mapping[str, Any]], *, title: str | None = None) -> None:
    """Print rows as a table (columns from the first row)."""
    if not rows:
        console.print(f"[dim]{title + ': ' if title else ''}nothing to show[/dim]")
        return
    table = Table(title=title, show_lines=False)
    for column in rows[0]:
        table.add_column(str(column), overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(_plain(v)) for v in row.values()))
    console.print(table)


def human_size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"


@contextmanager
def transfer_bar(description: str, total: int, *, enabled: bool = True) -> Iterator[Any]:
    """A byte-progress bar; yields a callback taking the number of bytes just moved."""
    if not enabled or not console.is_terminal:
        yield lambda _n: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


@contextmanager
def count_bar(description: str, *, enabled: bool = True) -> Iterator[Any]:
    """A done/total progress bar; yields a callback ``(done, total)``."""
    if not enabled or not errors.is_terminal:
        yield lambda _done, _total: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@contextmanager
def load_bar(description: str, *, enabled: bool = True) -> Iterator[Any]:
    """Parts done/total and rows read so far; yields a callback ``(done, total, rows)``."""
    if not enabled or not errors.is_terminal:
        yield lambda _done, _total, _rows: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None, rows=0)
        yield lambda done, total, rows: bar.update(task, completed=done, total=total, rows=rows)
