"""Web functions (DataBrew's WEB category): IPv4 addresses as integers and back, URL query
parameters as JSON.

Each reads ``sourceColumn`` or a constant ``value`` (one of them) and writes ``targetColumn``.
Values that are not what the function expects (not an IPv4 address, an integer out of range)
give NULL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakebed.transform.ops import register
from lakebed.transform.ops._common import one_of, operand
from lakebed.transform.ops._dual import Dual
from lakebed.transform.ops.base import Ctx, Operation, Param, literal
from lakebed.transform.ops.math import TARGET, as_number

CATEGORY = "web"
_OCTET = "([0-9]{1,3})"
_IPV4 = "^" + "[.]".join([_OCTET] * 4) + "$"


class WebFunction(Operation):
    category = CATEGORY
    params = {
        "sourceColumn": Param("column", required=False, doc="the column to read"),
        "value": Param("value", required=False, doc="a constant, instead of sourceColumn"),
        "targetColumn": TARGET,
    }

    def check(self, p: Mapping[str, Any], schema: pa.Schema) -> None:
        one_of(p, "sourceColumn", "value", self.name)

    def text(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        """The input as text."""
        return operand(ctx, p)


@register
class IpToInt(WebFunction):
    name = "IP_TO_INT"
    doc = "An IPv4 address (a.b.c.d) as its integer (192.168.1.1 -> 3232235777)."
    examples = ({"parameters": {"sourceColumn": "notes", "targetColumn": "ip_int"}},)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        text = f"trim({self.text(p, ctx)})"
        octets = [
            f"CAST(nullif(regexp_extract({text}, {literal(_IPV4)}, {i}), '') AS BIGINT)"
            for i in range(1, 5)
        ]
        valid = " AND ".join(f"{o} <= 255" for o in octets)
        number = f"{octets[0]} * 16777216 + {octets[1]} * 65536 + {octets[2]} * 256 + {octets[3]}"
        expr = f"CASE WHEN {valid} THEN {number} END"
        return ctx.project(add=[(p["targetColumn"], expr, p.get("sourceColumn"))])


@register
class IntToIp(WebFunction):
    name = "INT_TO_IP"
    doc = "An integer (0 to 4294967295) as an IPv4 address (167772410 -> 10.0.0.250)."
    examples = (
        {"parameters": {"sourceColumn": "id", "targetColumn": "ip"}},
        {"parameters": {"value": "167772410", "targetColumn": "ip"}},
    )

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        if p.get("sourceColumn") is None:
            n = f"TRY_CAST({literal(str(p['value']).strip())} AS DOUBLE)"
        else:
            n = as_number(ctx, p["sourceColumn"])
        parts = [
            f"CAST(CAST(floor({n} / {256**k}) AS BIGINT) % 256 AS VARCHAR)" for k in (3, 2, 1, 0)
        ]
        valid = f"{n} = floor({n}) AND {n} >= 0 AND {n} <= 4294967295"
        dotted = " || '.' || ".join(parts)
        expr = f"CASE WHEN {valid} THEN {dotted} END"
        return ctx.project(add=[(p["targetColumn"], expr, p.get("sourceColumn"))])


_DUCK_PAIRS = (
    "list_filter(string_split(regexp_extract({0}, '[?]([^#]*)', 1), '&'), lambda _p: _p <> '')"
)
_SPARK_PAIRS = "filter(split(regexp_extract({0}, '[?]([^#]*)', 1), '&'), _p -> _p <> '')"
_KEY = "split_part({v}, '=', 1)"
_VALUE = "CASE WHEN instr({v}, '=') > 0 THEN substr({v}, instr({v}, '=') + 1) ELSE '' END"


def _duck_url_params() -> str:
    pairs = _DUCK_PAIRS
    keys_all = f"list_transform({pairs}, lambda _p: {_KEY.format(v='_p')})"
    keys = f"list_filter({keys_all}, lambda _k, _i: list_position({keys_all}, _k) = _i)"
    values = (
        f"list_transform({keys}, lambda _k: list_transform(list_filter({pairs}, "
        f"lambda _p: {_KEY.format(v='_p')} = _k), lambda _p: {_VALUE.format(v='_p')}))"
    )
    return f"CAST(to_json(map({keys}, {values})) AS VARCHAR)"


def _spark_url_params() -> str:
    pairs = _SPARK_PAIRS
    keys_all = f"transform({pairs}, _p -> {_KEY.format(v='_p')})"
    keys = f"filter({keys_all}, (_k, _i) -> array_position({keys_all}, _k) = _i + 1)"
    values = (
        f"transform({keys}, _k -> transform(filter({pairs}, "
        f"_p -> {_KEY.format(v='_p')} = _k), _p -> {_VALUE.format(v='_p')}))"
    )
    return f"to_json(map_from_arrays({keys}, {values}))"


def _escape(template: str) -> str:
    """``template`` with literal braces doubled, keeping the ``{0}`` placeholder."""
    return template.replace("{", "{{").replace("}", "}}").replace("{{0}}", "{0}")


@register
class UrlParams(WebFunction):
    name = "URL_PARAMS"
    doc = (
        'The query parameters of a URL as a JSON object of lists: "https://x/?a=1&b=2&a=3" -> '
        '{"a":["1","3"],"b":["2"]} (values as written, not percent-decoded; {} without any).'
    )
    examples = ({"parameters": {"sourceColumn": "notes", "targetColumn": "params"}},)

    def sql(self, p: Mapping[str, Any], ctx: Ctx) -> str:
        dual = Dual(ctx)
        text = self.text(p, ctx)
        expr = dual.pick(_escape(_duck_url_params()), _escape(_spark_url_params()), text)
        expr = f"CASE WHEN {text} IS NOT NULL THEN {expr} END"
        return dual.done(ctx.project(add=[(p["targetColumn"], expr, p.get("sourceColumn"))]))
