"""``python -m bench [NAME ...] [--scale small|full]``: run benchmarks, print and record ratios.

Prints one table (value, peer value, ratio, target, verdict) and appends it as a Markdown
section to ``bench/results/latest.md``, from which figures are copied into
``docs/benchmarks.md``. Exit status: 1 if a benchmark could not run (or, with ``--strict``,
missed its target), else 0.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.common import DATA_DIR, RESULTS_DIR, SCALES, Context, Result, fmt

BENCHMARKS = {
    "csv_to_iceberg": "bench.csv_to_iceberg",
    "sql_overhead": "bench.sql_overhead",
    "crawl": "bench.crawl",
    "memory": "bench.memory",
    "ingest_files": "bench.ingest_files",
    "ingest_db": "bench.ingest_db",
    "ingest_memory": "bench.ingest_memory",
    "compaction": "bench.compaction",
    "recipe": "bench.recipe",
    "stream_kafka": "bench.stream_kafka",
    "stream_http": "bench.stream_http",
}
COLUMNS = ["benchmark", "metric", "value", "peer", "peer value", "ratio", "target", "result"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="cache of inputs")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR / "latest.md")
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    return args


def run_benchmarks(names: list[str], ctx: Context) -> tuple[list[Result], list[str]]:
    """Run each named benchmark in its own scratch folder; errors become result rows."""
    results: list[Result] = []
    errors: list[str] = []
    base = ctx.workdir
    for name in names:
        ctx.workdir = base / name
        ctx.workdir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(BENCHMARKS[name])
            results.extend(module.run(ctx))
        except Exception as exc:
            traceback.print_exc()
            errors.append(name)
            results.append(Result(name, "(did not run)", float("nan"), "",
                                  note=f"error: {type(exc).__name__}: {exc}"[:300]))  # fmt: skip
        ctx.log(f"{name}: done in {time.perf_counter() - start:.1f} s")
    ctx.workdir = base
    return results, errors


def verdict(result: Result) -> str:
    if result.note.startswith(("error:", "failed:")):
        return "ERROR"
    passed = result.passed
    return "-" if passed is None else ("pass" if passed else "FAIL")


def rows(results: list[Result]) -> list[list[str]]:
    return [
        [
            r.bench,
            r.metric,
            f"{fmt(r.value)} {r.unit}".strip(),
            r.peer or "-",
            f"{fmt(r.peer_value)} {r.unit}".strip() if r.peer_value is not None else "-",
            "-" if r.ratio is None else f"{r.ratio:.2f}x",
            str(r.target) if r.target else "-",
            verdict(r),
        ]
        for r in results
    ]


def print_table(results: list[Result]) -> None:
    table = [COLUMNS, *rows(results)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    for n, row in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    notes = [(r, r.note) for r in results if r.note]
    if notes:
        print()
        for r, note in notes:
            print(f"  {r.bench} / {r.metric}: {note}")


def machine() -> str:
    """One line naming the machine and the versions measured."""
    from importlib.metadata import PackageNotFoundError, version

    versions = []
    for package in ("lakebed", "duckdb", "pyarrow", "pyiceberg", "pandas"):
        try:
            versions.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            continue
    mem = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        mem = f", {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.1f} GiB RAM"
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores{mem}; "
        f"Python {platform.python_version()}; {', '.join(versions)}"
    )


def markdown(results: list[Result], scale: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## {stamp} — scale `{scale}`",
        "",
        machine(),
        "",
        *(
            ["Smoke-test sizes: the verdicts are not meaningful at this scale.", ""]
            if scale != "full"
            else []
        ),
        "| " + " | ".join([*COLUMNS, "notes"]) + " |",
        "|" + "---|" * (len(COLUMNS) + 1),
    ]
    for r, row in zip(results, rows(results), strict=True):
        cells = [*row, r.note.replace("|", "/")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    names = args.names or list(BENCHMARKS)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lakebed-bench-"))
    ctx = Context(scale=SCALES[args.scale], workdir=workdir, data_dir=args.data_dir)
    ctx.log(f"scale {args.scale}: {', '.join(names)} (scratch {workdir}, inputs {args.data_dir})")
    try:
        results, errors = run_benchmarks(names, ctx)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print_table(results)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    with args.results.open("a", encoding="utf-8") as out:
        out.write(markdown(results, args.scale))
    ctx.log(f"\nappended to {args.results}")
    missed = any(r.passed is False for r in results)
    return 1 if errors or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
