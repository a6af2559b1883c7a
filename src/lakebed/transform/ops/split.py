"""Splitting a column into several: by delimiters, positions or fixed intervals.

The new columns are named ``<column>_1``, ``<column>_2``, ... (as DataBrew names them), placed
after the source column, which is kept. They are text; a part that does not exist in a value
is NULL. How many columns a split makes is known from its parameters (``limit`` + 1 for a
delimiter split, two or three for position splits); SPLIT_COLUMN_WITH_INTERVALS learns the
longest value when fitted, so the output schema is fixed by the recipe version.
Delimiters are literal text; positions count from 1.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._common import escape_regex, positions, positive, text_of
from lakebed.transform.ops.base import Ctx, Operation, Param, literal

CATEGORY = "column structure"
ANY = "(?s:.)"
MAX_PARTS = 50


def _names(col: str, n: int, schema: pa.Schema) -> list[str]:
    names = [f"{col}_{i}" for i in range(1, n + 1)]
    taken = [c for c in names if c in schema.names]
    if taken:
        raise ConfigError(
            f"splitting {col!r} would create {', '.join(taken)}, which already exist",
            fix="RENAME or DELETE those columns first",
        )
    return names


def _project(ctx: Ctx, col: str, exprs: list[str]) -> str:
    names = _names(col, len(exprs), ctx.schema)
    return ctx.project(add=[(n, e, col) for n, e in zip(names, exprs, strict=True)])


def delimiter_parts(s: str, delim: str, limit: int, include: bool) -> list[str]:
    """SQL for the ``limit`` + 1 parts of ``s`` split on regex ``delim`` (left to right)."""
    exprs = []
    for i in range(1, limit + 2):
        skip = f"(?:{ANY}*?(?:{delim})){{{i - 1}}}" if i > 1 else ""
        exists = f"regexp_matches({s}, {literal('^' + skip)})" if i > 1 else f"{s} IS NOT NULL"
        if i <= limit:
            pattern = f"^{skip}({ANY}*?)({delim}|$)"
            part = f"regexp_extract({s}, {literal(pattern)}, 1)"
            if include:
                part = f"({part} || regexp_extract({s}, {literal(pattern)}, 2))"
        else:
            part = f"regexp_extract({s}, {literal('^' + skip + '(' + ANY + '*)$')}, 1)"
        exprs.append(f"CASE WHEN {exists} THEN {part} END")
    return exprs


class _Split(Operation):
    category = CATEGORY
    conditions = False

    def parts(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> list[str]:
        raise NotImplementedError

    def count(self, p: Mapping[str, Any]) -> int:
        raise NotImplementedError

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        _names(p["sourceColumn"], self.count(p), schema)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        col = p["sourceColumn"]
        return _project(ctx, col, self.parts(p, ctx, text_of(ctx, col)))


def _limit(p: Mapping[str, Any], op: str) -> int:
    limit = p.get("limit") or 1
    if not 1 <= limit <= 20:
        raise ConfigError(f"{op}: limit must be 1..20, got {limit}", fix="give limit 1 to 20")
    return int(limit)


@register
class SplitColumnSingleDelimiter(_Split):
    name = "SPLIT_COLUMN_SINGLE_DELIMITER"
    doc = (
        "Split at the first `limit` occurrences of a delimiter into limit + 1 columns "
        "(the last holds the rest). With includeInSplit the delimiter stays at the end of "
        "each part."
    )
    params = {
        "sourceColumn": Param("column"),
        "pattern": Param("str", doc="the delimiter (literal text)"),
        "limit": Param("int", required=False, default=1, doc="how many splits, 1..20"),
        "includeInSplit": Param("bool", required=False, default=False),
    }
    examples = (
        {"parameters": {"sourceColumn": "email", "pattern": "@", "limit": "1"}},
        {
            "parameters": {
                "sourceColumn": "notes",
                "pattern": ",",
                "limit": "2",
                "includeInSplit": "true",
            }
        },
    )

    def count(self, p: Mapping[str, Any]) -> int:
        return _limit(p, self.name) + 1

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if not p["pattern"]:
            raise ConfigError(f"{self.name}: pattern is empty", fix="give the delimiter")
        super().check(p, schema)

    def parts(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> list[str]:
        return delimiter_parts(
            s, escape_regex(p["pattern"]), self.count(p) - 1, p["includeInSplit"]
        )


@register
class SplitColumnMultipleDelimiter(_Split):
    name = "SPLIT_COLUMN_MULTIPLE_DELIMITER"
    doc = (
        "Split at the first `limit` occurrences of any of several delimiters "
        '(patternOptions: [{"pattern": ",", "includeInSplit": false}, ...]).'
    )
    params = {
        "sourceColumn": Param("column"),
        "patternOptions": Param("json"),
        "limit": Param("int", required=False, default=1),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "notes",
                "limit": "3",
                "patternOptions": json.dumps([{"pattern": d} for d in ",;|"]),
            }
        },
    )

    def _options(self, p: Mapping[str, Any]) -> tuple[list[str], bool]:
        options = p["patternOptions"]
        fix = 'give patternOptions as [{"pattern": ",", "includeInSplit": false}, ...]'
        if not isinstance(options, list) or not options:
            raise ConfigError(f"{self.name}: patternOptions must be a non-empty list", fix=fix)
        pats, includes = [], set()
        for o in options:
            if not isinstance(o, dict) or not o.get("pattern"):
                raise ConfigError(f"{self.name}: bad pattern option {o!r}", fix=fix)
            pats.append(str(o["pattern"]))
            includes.add(str(o.get("includeInSplit", False)).lower() == "true")
        if len(includes) > 1:
            raise ConfigError(
                f"{self.name}: includeInSplit differs between the patterns",
                fix="use the same includeInSplit for every pattern",
            )
        return pats, includes.pop()

    def count(self, p: Mapping[str, Any]) -> int:
        self._options(p)
        return _limit(p, self.name) + 1

    def parts(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> list[str]:
        pats, include = self._options(p)
        delim = "|".join(escape_regex(x) for x in sorted(pats, key=len, reverse=True))
        return delimiter_parts(s, delim, self.count(p) - 1, include)


def _option(raw: Any, name: str) -> tuple[str, bool]:
    if isinstance(raw, str):
        raw = {"pattern": raw}
    if not isinstance(raw, dict) or not raw.get("pattern"):
        raise ConfigError(
            f"SPLIT_COLUMN_BETWEEN_DELIMITER: {name} must be like "
            '{"pattern": "(", "includeInSplit": false}',
            fix=f"give {name} as a JSON object with pattern",
        )
    return str(raw["pattern"]), str(raw.get("includeInSplit", False)).lower() == "true"


@register
class SplitColumnBetweenDelimiter(_Split):
    name = "SPLIT_COLUMN_BETWEEN_DELIMITER"
    doc = (
        "Split into three columns: before the first delimiter, between it and the second, and "
        "after. Values without both delimiters go whole into the first column."
    )
    params = {
        "sourceColumn": Param("column"),
        "patternOption1": Param("json"),
        "patternOption2": Param("json"),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "email",
                "patternOption1": '{"pattern": "@", "includeInSplit": false}',
                "patternOption2": '{"pattern": ".", "includeInSplit": true}',
            }
        },
    )

    def count(self, p: Mapping[str, Any]) -> int:
        _option(p["patternOption1"], "patternOption1")
        _option(p["patternOption2"], "patternOption2")
        return 3

    def parts(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> list[str]:
        d1, inc1 = _option(p["patternOption1"], "patternOption1")
        d2, inc2 = _option(p["patternOption2"], "patternOption2")
        pattern = literal(f"^({ANY}*?)({escape_regex(d1)})({ANY}*?)({escape_regex(d2)})({ANY}*)$")
        hit = f"regexp_matches({s}, {pattern})"

        def group(*ns: int) -> str:
            return " || ".join(f"regexp_extract({s}, {pattern}, {n})" for n in ns)

        first = group(1, 2) if inc1 else group(1)
        second = group(3, 4) if inc2 else group(3)
        return [
            f"CASE WHEN {hit} THEN {first} ELSE {s} END",
            f"CASE WHEN {hit} THEN {second} END",
            f"CASE WHEN {hit} THEN {group(5)} END",
        ]


def _cut(s: str, start: int, length: int | None = None) -> str:
    """Characters from ``start`` (from 1), NULL when the value is shorter than that."""
    part = f"substr({s}, {start})" if length is None else f"substr({s}, {start}, {length})"
    return f"CASE WHEN length({s}) >= {start} THEN {part} END"


@register
class SplitColumnBetweenPositions(_Split):
    name = "SPLIT_COLUMN_BETWEEN_POSITIONS"
    doc = (
        "Split into three columns: characters before startPosition, startPosition to "
        "endPosition (inclusive), and after endPosition."
    )
    params = {
        "sourceColumn": Param("column"),
        "startPosition": Param("int"),
        "endPosition": Param("int"),
    }
    examples = (
        {"parameters": {"sourceColumn": "phone", "startPosition": "2", "endPosition": "5"}},
    )

    def count(self, p: Mapping[str, Any]) -> int:
        positions(p, self.name)
        return 3

    def parts(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> list[str]:
        a, b = p["startPosition"], p["endPosition"]
        return [f"substr({s}, 1, {a - 1})", _cut(s, a, b - a + 1), _cut(s, b + 1)]


@register
class SplitColumnFromStart(_Split):
    name = "SPLIT_COLUMN_FROM_START"
    doc = "Split into two columns after the first `position` characters."
    params = {"sourceColumn": Param("column"), "position": Param("int")}
    examples = ({"parameters": {"sourceColumn": "name", "position": "3"}},)

    def count(self, p: Mapping[str, Any]) -> int:
        positive(p, self.name, "position")
        return 2

    def parts(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> list[str]:
        n = p["position"]
        return [f"left({s}, {n})", _cut(s, n + 1)]


@register
class SplitColumnFromEnd(_Split):
    name = "SPLIT_COLUMN_FROM_END"
    doc = "Split into two columns before the last `position` characters."
    params = {"sourceColumn": Param("column"), "position": Param("int")}
    examples = ({"parameters": {"sourceColumn": "email", "position": "4"}},)

    def count(self, p: Mapping[str, Any]) -> int:
        positive(p, self.name, "position")
        return 2

    def parts(self, p: Mapping[str, Any], ctx: Ctx, s: str) -> list[str]:
        n = p["position"]
        head = f"substr({s}, 1, greatest(length({s}) - {n}, 0))"
        return [head, f"CASE WHEN length({s}) > {n} THEN right({s}, {n}) END"]


@register
class SplitColumnWithIntervals(_Split):
    name = "SPLIT_COLUMN_WITH_INTERVALS"
    doc = (
        "Split into pieces of `interval` characters from startPosition (characters before it "
        "form the first column). How many columns: enough for the longest value seen when the "
        f"recipe was fitted (at most {MAX_PARTS}); longer values lose the rest."
    )
    learns = True
    params = {
        "sourceColumn": Param("column"),
        "startPosition": Param("int"),
        "interval": Param("int"),
    }
    examples = ({"parameters": {"sourceColumn": "phone", "startPosition": "1", "interval": "4"}},)

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        positive(p, self.name, "startPosition", "interval")

    def fit(self, p: Mapping[str, Any], ctx: Ctx) -> Any:
        c = text_of(ctx, p["sourceColumn"])
        longest = ctx.query(f"SELECT max(length({c})) AS n FROM {ctx.input}").column(0)[0].as_py()
        return {"longest": int(longest or 0)}

    def _count(self, p: Mapping[str, Any], longest: int) -> int:
        start, step = p["startPosition"], p["interval"]
        pieces = max(1, -(-(longest - start + 1) // step))
        return min(MAX_PARTS, pieces + (1 if start > 1 else 0))

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        col = p["sourceColumn"]
        s = text_of(ctx, col)
        start, step = p["startPosition"], p["interval"]
        n = self._count(p, (ctx.state or {}).get("longest", 0))
        exprs = [f"substr({s}, 1, {start - 1})"] if start > 1 else []
        k = 0
        while len(exprs) < n:
            exprs.append(_cut(s, start + k * step, step))
            k += 1
        return _project(ctx, col, exprs)

    def count(self, p: Mapping[str, Any]) -> int:  # the real count comes from the state
        return 1
