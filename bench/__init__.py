"""lakebed's benchmarks: ratios against a named peer measured in the same run.

Run ``python -m bench [NAME ...] [--scale small|full]``. Each benchmark module exposes
``run(ctx) -> list[Result]``; ``bench.__main__`` prints the table and appends it as Markdown to
``bench/results/latest.md``. Timings never appear as assertions in the test suite: a machine's
speed says nothing about correctness, but a ratio to a peer on the same machine says something
about lakebed.
"""
