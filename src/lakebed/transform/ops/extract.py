"""Cleaning by position, delimiter or pattern: extract a part into a new column, or replace it.

Positions count characters from 1 and include both ends (``startPosition`` 3 and
``endPosition`` 9 is characters 3 to 9). Delimiters and patterns are regular expressions in the
subset DuckDB and Spark share. A value without a match gives NULL when extracting and is left
unchanged when replacing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops import register
from lakebed.transform.ops._common import (
    SOURCE,
    TARGET,
    backref,
    check_regex,
    groups,
    new_column,
    positions,
    regex_replace,
    replacement_text,
    text_of,
)
from lakebed.transform.ops.base import Ctx, Operation, Param, literal, quote
from lakebed.transform.ops.cleaning import _InPlace

CATEGORY = "cleaning"
ANY = "(?s:.)"


class _Extract(Operation):
    category = CATEGORY

    def expr(self, p: Mapping[str, Any], ctx: Ctx, text: str) -> str:
        raise NotImplementedError

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        new_column(p, schema)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        src = p["sourceColumn"]
        return ctx.project(add=[(p["targetColumn"], self.expr(p, ctx, text_of(ctx, src)), src)])


@register
class ExtractBetweenDelimiters(_Extract):
    name = "EXTRACT_BETWEEN_DELIMITERS"
    doc = "Copy the text between the first startPattern and the next endPattern (regexes)."
    params = {
        "sourceColumn": SOURCE,
        "targetColumn": TARGET,
        "startPattern": Param("str", doc="regex before the part"),
        "endPattern": Param("str", doc="regex after the part"),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "email",
                "targetColumn": "domain",
                "startPattern": "@",
                "endPattern": "\\.",
            }
        },
        {
            "parameters": {
                "sourceColumn": "notes",
                "targetColumn": "host",
                "startPattern": "//",
                "endPattern": "/",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        check_regex(p["startPattern"], "startPattern", self.name)
        check_regex(p["endPattern"], "endPattern", self.name)

    def expr(self, p: Mapping[str, Any], ctx: Ctx, text: str) -> str:
        pattern = f"(?:{p['startPattern']})({ANY}*?)(?:{p['endPattern']})"
        group = groups(p["startPattern"]) + 1
        return (
            f"CASE WHEN regexp_matches({text}, {literal(pattern)}) "
            f"THEN regexp_extract({text}, {literal(pattern)}, {group}) END"
        )


@register
class ExtractBetweenPositions(_Extract):
    name = "EXTRACT_BETWEEN_POSITIONS"
    doc = "Copy characters startPosition to endPosition (from 1, inclusive) to a new column."
    params = {
        "sourceColumn": SOURCE,
        "targetColumn": TARGET,
        "startPosition": Param("int"),
        "endPosition": Param("int"),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "name",
                "targetColumn": "chars_3_to_5",
                "startPosition": "3",
                "endPosition": "5",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        positions(p, self.name)

    def expr(self, p: Mapping[str, Any], ctx: Ctx, text: str) -> str:
        start, end = p["startPosition"], p["endPosition"]
        return f"substr({text}, {start}, {end - start + 1})"


@register
class ExtractPattern(_Extract):
    name = "EXTRACT_PATTERN"
    doc = "Copy the first match of a regular expression to a new column (NULL without a match)."
    params = {"sourceColumn": SOURCE, "targetColumn": TARGET, "pattern": Param("str")}
    examples = (
        {
            "parameters": {
                "sourceColumn": "notes",
                "targetColumn": "first_number",
                "pattern": "[0-9]+",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        check_regex(p["pattern"], "pattern", self.name)

    def expr(self, p: Mapping[str, Any], ctx: Ctx, text: str) -> str:
        pattern = literal(p["pattern"])
        found = f"regexp_extract({text}, {pattern}, 0)"
        return f"CASE WHEN regexp_matches({text}, {pattern}) THEN {found} END"


_SEGMENT = re.compile(r"`((?:[^`]|``)*)`|\[(\d+)\]|([^.`\[\]]+)")


def parse_path(path: str) -> list[str | int]:
    """A DataBrew path (`a`.`b`[1]) as field names and 0-based list indexes."""
    out: list[str | int] = []
    pos = 0
    while pos < len(path):
        if path[pos] == ".":
            pos += 1
            continue
        m = _SEGMENT.match(path, pos)
        if m is None:
            raise ConfigError(
                f"path {path!r} cannot be read at position {pos + 1}",
                fix="write the path as `column`.`field`[0] (fields in back ticks, indexes from 0)",
            )
        if m.group(1) is not None:
            out.append(m.group(1).replace("``", "`"))
        elif m.group(2) is not None:
            out.append(int(m.group(2)))
        else:
            out.append(m.group(3))
        pos = m.end()
    if not out:
        raise ConfigError("path is empty", fix="write the path as `column`.`field`")
    return out


@register
class ExtractValue(_Extract):
    name = "EXTRACT_VALUE"
    doc = (
        "Copy the value at a path (`column`.`field`[index], indexes from 0) out of a struct or "
        "list column, or out of JSON text, into a new column. Missing parts give NULL."
    )
    params = {"sourceColumn": SOURCE, "targetColumn": TARGET, "path": Param("str")}
    examples = (
        {
            "parameters": {
                "sourceColumn": "address",
                "targetColumn": "lat",
                "path": "`address`.`geo`.`lat`",
            }
        },
        {
            "parameters": {
                "sourceColumn": "payload",
                "targetColumn": "c",
                "path": "`payload`.`b`.`c`",
            }
        },
        {"parameters": {"sourceColumn": "tags", "targetColumn": "first_tag", "path": "`tags`[0]"}},
    )

    @staticmethod
    def _steps(p: Mapping[str, Any]) -> list[str | int]:
        steps = parse_path(p["path"])
        return steps[1:] if steps[0] == p["sourceColumn"] else steps

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        super().check(p, schema)
        t = schema.field(p["sourceColumn"]).type
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return
        for step in self._steps(p):
            if isinstance(step, int) and (pa.types.is_list(t) or pa.types.is_large_list(t)):
                t = t.value_type
            elif isinstance(step, str) and pa.types.is_struct(t) and t.get_field_index(step) >= 0:
                t = t.field(step).type
            else:
                raise ConfigError(
                    f"EXTRACT_VALUE: path {p['path']!r} does not fit column "
                    f"{p['sourceColumn']!r} of type {schema.field(p['sourceColumn']).type}",
                    fix="name struct fields in back ticks and list items as [0], [1], ...",
                )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        src = p["sourceColumn"]
        steps = self._steps(p)
        expr = quote(src)
        if ctx.is_string(src):
            json_path = "$" + "".join(f"[{s}]" if isinstance(s, int) else "." + s for s in steps)
            if ctx.dialect == "spark":  # NULL for invalid JSON, as below
                expr = f"get_json_object({expr}, {literal(json_path)})"
            else:
                expr = (
                    f"CASE WHEN json_valid({expr}) THEN "
                    f"json_extract_string({expr}, {literal(json_path)}) END"
                )
        else:
            for s in steps:
                if isinstance(s, str):
                    expr = f"struct_extract({expr}, {literal(s)})"
                elif ctx.dialect == "spark":
                    expr = f"try_element_at({expr}, {s + 1})"
                else:
                    expr = f"{expr}[{s + 1}]"
        return ctx.project(add=[(p["targetColumn"], expr, src)])


@register
class ReplaceBetweenDelimiters(_InPlace):
    name = "REPLACE_BETWEEN_DELIMITERS"
    doc = "Replace the text between startPattern and endPattern (regexes; kept) with value."
    params = {
        "sourceColumn": SOURCE,
        "startPattern": Param("str"),
        "endPattern": Param("str"),
        "value": Param("str", doc="the replacement text"),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "email",
                "startPattern": "@",
                "endPattern": "\\.com",
                "value": "***",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        check_regex(p["startPattern"], "startPattern", self.name)
        check_regex(p["endPattern"], "endPattern", self.name)

    def expr(self, p: Mapping[str, Any], ctx: Ctx, text: str) -> str:
        start, end = p["startPattern"], p["endPattern"]
        pattern = f"({start})({ANY}*?)({end})"
        last = groups(start) + 3
        repl = backref(ctx, 1) + replacement_text(ctx, p["value"]) + backref(ctx, last)
        return regex_replace(ctx, text, pattern, literal(repl))


@register
class ReplaceBetweenPositions(_InPlace):
    name = "REPLACE_BETWEEN_POSITIONS"
    doc = "Replace characters startPosition to endPosition (from 1, inclusive) with value."
    params = {
        "sourceColumn": SOURCE,
        "startPosition": Param("int"),
        "endPosition": Param("int"),
        "value": Param("str"),
    }
    examples = (
        {
            "parameters": {
                "sourceColumn": "phone",
                "startPosition": "1",
                "endPosition": "3",
                "value": "XXX",
            }
        },
    )

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        positions(p, self.name)

    def expr(self, p: Mapping[str, Any], ctx: Ctx, text: str) -> str:
        start, end = p["startPosition"], p["endPosition"]
        head, tail = f"substr({text}, 1, {start - 1})", f"substr({text}, {end + 1})"
        return f"({head} || {literal(p['value'])} || {tail})"


@register
class ReplaceText(_InPlace):
    name = "REPLACE_TEXT"
    doc = "Replace every occurrence of the text pattern (literal, case-sensitive) with value."
    params = {"sourceColumn": SOURCE, "pattern": Param("str"), "value": Param("str")}
    examples = ({"parameters": {"sourceColumn": "notes", "pattern": "repeat", "value": "again"}},)

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        if not p["pattern"]:
            raise ConfigError("REPLACE_TEXT: pattern is empty", fix="give the text to replace")

    def expr(self, p: Mapping[str, Any], ctx: Ctx, text: str) -> str:
        return f"replace({text}, {literal(p['pattern'])}, {literal(p['value'])})"
