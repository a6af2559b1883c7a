"""Exact quantiles of many values in bounded memory, the same on every engine.

An exact quantile aggregate (DuckDB ``quantile_cont``, Spark ``percentile``) holds every value
in memory at once: past some tens of millions of rows it fails under a memory limit, and the
two engines round the interpolation differently. Here the values at the ranks a quantile needs
are found by narrowing instead, and the interpolation is done in Python. A histogram query (a
GROUP BY of at most :data:`BUCKETS` buckets, each with its count, min and max) locates the
bucket holding each rank; the next query splits that bucket again; once a bucket holds at most
:data:`FETCH` values they are read sorted and the rank picked. Every query is an aggregate over
a bounded number of groups, so memory stays flat whatever the row count, and because the bucket
of a value is the same IEEE arithmetic on both engines, DuckDB and Spark agree exactly. Two or
three passes over the column usually suffice.

Quantiles interpolate linearly between the values at ranks ``floor(h)`` and ``ceil(h)`` with
``h = p * (n - 1)``, as ``quantile_cont`` does (which may round the last bit differently).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lakebed.errors import ConfigError
from lakebed.transform.ops._dual import num

BUCKETS = 4096
"""Buckets per histogram pass."""
FETCH = 65_536
"""A bucket with at most this many values is read whole."""

Query = Callable[[str], list[dict[str, Any]]]


@dataclass
class _Part:
    """Values of the column where ``where`` holds: ``size`` of them, ``below`` smaller ones
    outside, all within [lo, hi]; the ranks (0-based, overall) still to find among them."""

    where: str
    lo: float
    hi: float
    below: int
    size: int
    ranks: list[int]


def exact_quantiles(
    query: Query,
    source: str,
    x: str,
    n: int,
    lo: float,
    hi: float,
    probs: Sequence[float],
) -> list[float]:
    """The ``probs`` quantiles of column ``x`` over ``source``: ``relation WHERE filter``,
    selecting the ``n`` values counted (no NULL or NaN), whose minimum is ``lo`` and maximum
    ``hi``."""
    for p in probs:
        if not 0 <= p <= 1:
            raise ConfigError(f"quantile {p} is outside 0..1", fix="give a fraction from 0 to 1")
    wanted = {p: _ranks(p, n) for p in probs}
    ranks = sorted({r for pair in wanted.values() for r in pair})
    found = _values_at(query, source, x, n, lo, hi, ranks)
    out = []
    for p in probs:
        k0, k1 = wanted[p]
        low, high = found[k0], found[k1]
        out.append(low if k0 == k1 else low + (high - low) * (p * (n - 1) - k0))
    return out


def _ranks(p: float, n: int) -> tuple[int, int]:
    h = p * (n - 1)
    return math.floor(h), min(math.ceil(h), n - 1)


def _values_at(
    query: Query, source: str, x: str, n: int, lo: float, hi: float, ranks: list[int]
) -> dict[int, float]:
    found: dict[int, float] = {}
    todo = [_Part("TRUE", lo, hi, 0, n, ranks)]
    while todo:
        part = todo.pop()
        if part.lo == part.hi:
            found.update(dict.fromkeys(part.ranks, part.lo))
        elif part.size <= FETCH:
            rows = query(f"SELECT {x} AS v FROM {source} AND {part.where} ORDER BY {x}")
            values = [float(r["v"]) for r in rows]
            found.update({r: values[r - part.below] for r in part.ranks})
        else:
            todo.extend(_split(query, source, x, part))
    return found


def _bucket(x: str, part: _Part) -> str:
    """SQL numbering the bucket of ``x`` within ``part``: equal widths, or, when the width is
    not a usable number (infinite ends, or too narrow), the minimum, the inside and the
    maximum."""
    width = (part.hi - part.lo) / BUCKETS
    if math.isfinite(width) and width > 0 and math.isfinite(part.lo):
        # the minimum falls in bucket 0 and the maximum in the last: every pass splits
        scaled = f"floor(({x} - {num(part.lo)}) / {num(width)})"
        return f"least(CAST({scaled} AS BIGINT), {BUCKETS - 1})"
    lo, hi = num(part.lo), num(part.hi)
    return f"CASE WHEN {x} <= {lo} THEN 0 WHEN {x} >= {hi} THEN 2 ELSE 1 END"


def _split(query: Query, source: str, x: str, part: _Part) -> list[_Part]:
    """``part`` cut into buckets; the ones holding a wanted rank."""
    bucket = _bucket(x, part)
    rows = query(
        f"SELECT k, n, lo, hi FROM (SELECT {bucket} AS k, count(*) AS n, min({x}) AS lo, "
        f"max({x}) AS hi FROM {source} AND {part.where} GROUP BY {bucket}) AS h ORDER BY k"
    )
    parts: list[_Part] = []
    start = part.below
    for row in rows:
        size = int(row["n"])
        inside = [r for r in part.ranks if start <= r < start + size]
        if inside:
            where = f"{part.where} AND {bucket} = {int(row['k'])}"
            parts.append(_Part(where, float(row["lo"]), float(row["hi"]), start, size, inside))
        start += size
    return parts
