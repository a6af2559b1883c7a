"""The ``lakebed`` command line."""

from __future__ import annotations

import sys

import typer

from lakebed.cli import catalog as _catalog  # noqa: F401 - registers the catalog commands
from lakebed.cli import ingest as _ingest  # noqa: F401 - registers ingest and bookmarks
from lakebed.cli import jobs as _jobs  # noqa: F401 - registers quickstart and serve
from lakebed.cli import maintenance as _maintenance  # noqa: F401 - optimize, expire, orphans
from lakebed.cli import recipe as _recipe  # noqa: F401 - recipe, split, sample
from lakebed.cli import run as _run  # noqa: F401 - run, schedule, runs
from lakebed.cli import stream as _stream  # noqa: F401 - lakebed stream ...
from lakebed.cli.app import app
from lakebed.cli.render import errors
from lakebed.errors import LakebedError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, as a script, exits with) the exit code."""
    try:
        app(args=argv, prog_name="lakebed", standalone_mode=False)
    except LakebedError as exc:
        errors.print(f"[bold red]error:[/bold red] {exc.message}", highlight=False)
        if exc.fix:
            errors.print(f"[bold]fix:[/bold] {exc.fix}", highlight=False)
        return _exit(1, argv)
    except typer.TyperException as exc:  # typer vendors click: its usage errors derive from this
        show = getattr(exc, "show", None)
        if callable(show):
            show()  # "Usage: ... / Try ... --help / Error: ..."
        else:
            errors.print(f"Error: {exc.format_message()}", highlight=False, markup=False)
        return _exit(exc.exit_code, argv)
    except typer.Exit as exc:
        return _exit(exc.exit_code, argv)
    except typer.Abort:
        errors.print("aborted")
        return _exit(130, argv)
    return _exit(0, argv)


def _exit(code: int, argv: list[str] | None) -> int:
    if argv is None:  # called as the console script
        sys.exit(code)
    return code
