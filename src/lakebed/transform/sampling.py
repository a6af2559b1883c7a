"""Seeded sampling and train/validation/test splits, as SQL over a recipe's relation.

Randomness is an MD5 of the seed and each row's position (or, for grouped splits, of the group
key), so the same snapshot, recipe version and seed give the same rows on every run and on every
engine. Splits are exact: with ratios 0.8/0.1/0.1 over 1,000 rows, 800/100/100 rows land in the
splits (per stratum for stratified splits, to the nearest whole group for grouped ones).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

from lakebed.errors import ConfigError
from lakebed.transform.ops.base import ROW, literal, quote, uniform

SampleMethod = Literal["first", "random", "stratified"]
SplitMethod = Literal["random", "ordered", "stratified", "grouped"]
SPLIT_COLUMN = "__lb_split"


def _rand(seed: int, dialect: str, expr: str = ROW) -> str:
    return uniform(f"concat({literal(f'{seed}:')}, CAST({expr} AS VARCHAR))", dialect)


def sample_sql(
    relation: str,
    columns: Sequence[str],
    *,
    method: SampleMethod = "random",
    n: int | None = None,
    fraction: float | None = None,
    by: str | None = None,
    seed: int = 0,
    dialect: str = "duckdb",
) -> str:
    """A SELECT of a sample of ``relation``: the first ``n`` rows, ``n`` (or ``fraction`` of
    the) rows at random, or stratified by column ``by`` (each value keeps its share)."""
    if (n is None) == (fraction is None):
        raise ConfigError("give a sample size n or a fraction, not both", fix="e.g. n=1000")
    if n is not None and n < 0:
        raise ConfigError(f"sample size n must be 0 or more, not {n}", fix="e.g. n=1000")
    if fraction is not None and not 0 <= fraction <= 1:
        raise ConfigError(f"fraction must be in [0, 1], not {fraction}", fix="e.g. 0.1")
    if method not in ("first", "random", "stratified"):
        raise ConfigError(
            f"unknown sampling method {method!r}", fix="use first, random or stratified"
        )
    cols = ", ".join([quote(c) for c in columns] + [ROW])
    rel = quote(relation)
    u = _rand(seed, dialect)
    total = f"(SELECT count(*) FROM {rel})"
    if method == "first":
        limit = str(n) if n is not None else f"CAST(round({fraction} * {total}) AS BIGINT)"
        return f"SELECT {cols} FROM {rel} ORDER BY {ROW} LIMIT {limit}"
    if method == "random":
        if fraction is not None:
            return f"SELECT {cols} FROM {rel} WHERE {u} < {fraction!r}"
        return f"SELECT {cols} FROM {rel} ORDER BY {u}, {ROW} LIMIT {n}"
    if by is None or by not in columns:
        raise ConfigError(
            f"stratified sampling needs by=<column>; got {by!r}",
            fix="name the column whose values keep their shares, e.g. by='label'",
        )
    share = repr(fraction) if fraction is not None else f"({n} / {total})"
    return (
        f"SELECT {cols} FROM (SELECT *, row_number() OVER (PARTITION BY {quote(by)} "
        f"ORDER BY {u}, {ROW}) AS __lb_rank, count(*) OVER (PARTITION BY {quote(by)}) "
        f"AS __lb_count FROM {rel}) WHERE __lb_rank <= round({share} * __lb_count)"
    )


def check_ratios(ratios: Mapping[str, float]) -> dict[str, float]:
    """Ratios by split name, checked: positive, and summing to 1."""
    if not ratios:
        raise ConfigError("no splits given", fix="e.g. ratios={'train': 0.8, 'test': 0.2}")
    for name, ratio in ratios.items():
        if not name or not isinstance(ratio, int | float) or ratio <= 0:
            raise ConfigError(
                f"split {name!r} has ratio {ratio!r}; ratios must be positive numbers",
                fix="e.g. ratios={'train': 0.8, 'validation': 0.1, 'test': 0.1}",
            )
    total = sum(ratios.values())
    if not math.isclose(total, 1.0, abs_tol=1e-9):
        raise ConfigError(f"split ratios add up to {total}, not 1", fix="make the ratios sum to 1")
    return dict(ratios)


def _label(position: str, size: str, ratios: Mapping[str, float]) -> str:
    """CASE giving the split of a 0-based ``position`` among ``size`` ordered rows."""
    cases, cumulative = [], 0.0
    names = list(ratios)
    for name in names[:-1]:
        cumulative += ratios[name]
        cases.append(f"WHEN {position} < round({cumulative!r} * {size}) THEN {literal(name)}")
    return f"CASE {' '.join(cases)} ELSE {literal(names[-1])} END"


def split_sql(
    relation: str,
    columns: Sequence[str],
    ratios: Mapping[str, float],
    *,
    method: SplitMethod = "random",
    by: str | None = None,
    seed: int = 0,
    dialect: str = "duckdb",
) -> str:
    """A SELECT of ``relation`` with a split name per row in column :data:`SPLIT_COLUMN`.

    ``random``: rows in seeded random order; ``ordered``: rows ordered by column ``by`` (e.g. a
    time column: the latest rows go to the last split); ``stratified``: random within each value
    of ``by`` (the label), so every split keeps the label's shares; ``grouped``: all rows of one
    value of ``by`` (e.g. a user id) go to the same split.
    """
    ratios = check_ratios(ratios)
    if method not in ("random", "ordered", "stratified", "grouped"):
        raise ConfigError(
            f"unknown split method {method!r}", fix="use random, ordered, stratified or grouped"
        )
    if method != "random" and (by is None or by not in columns):
        raise ConfigError(
            f"a {method} split needs by=<column>; got {by!r}",
            fix="name the column to order, stratify or group by: one of " + ", ".join(columns),
        )
    cols = ", ".join([quote(c) for c in columns] + [ROW])
    rel = quote(relation)
    u = _rand(seed, dialect)
    if method == "grouped":
        assert by is not None
        key = quote(by)
        gu = _rand(seed, dialect, key)
        label = _label("g.__lb_before", "g.__lb_total", ratios)
        return (
            f"WITH groups AS (SELECT {key} AS __lb_key, count(*) AS __lb_n, {gu} AS __lb_u "
            f"FROM {rel} GROUP BY {key}), g AS (SELECT __lb_key, sum(__lb_n) OVER (ORDER BY "
            "__lb_u, __lb_key ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - __lb_n AS "
            "__lb_before, sum(__lb_n) OVER () AS __lb_total FROM groups) "
            f"SELECT {', '.join('r.' + c for c in cols.split(', '))}, {label} AS {SPLIT_COLUMN} "
            f"FROM {rel} r JOIN g ON r.{key} IS NOT DISTINCT FROM g.__lb_key"
        )
    if method == "ordered":
        order, partition = f"{quote(by or '')}, {ROW}", ""
    elif method == "stratified":
        order, partition = f"{u}, {ROW}", f"PARTITION BY {quote(by or '')} "
    else:
        order, partition = f"{u}, {ROW}", ""
    label = _label("__lb_pos", "__lb_size", ratios)
    return (
        f"SELECT {cols}, {label} AS {SPLIT_COLUMN} FROM (SELECT *, row_number() OVER "
        f"({partition}ORDER BY {order}) - 1 AS __lb_pos, count(*) OVER ({partition.strip()}) "
        f"AS __lb_size FROM {rel})"
    )
