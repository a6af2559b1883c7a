"""DataBrew condition expressions as SQL predicates.

A step's ``ConditionExpressions`` restrict it to the rows where every condition holds (they are
ANDed). Each names a ``TargetColumn``, a ``Condition`` and usually a ``Value`` (a string; for
``IS``/``IS_NOT`` a JSON list of values or one value; for ``IS_BETWEEN`` a JSON object with
``greaterThanEqual`` and ``lessThanEqual`` or a two-item list).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from lakebed.errors import ConfigError
from lakebed.transform.ops.base import NUMERIC, blank, literal, quote

CONDITIONS = (
    "IS", "IS_NOT", "IS_BETWEEN", "CONTAINS", "NOT_CONTAINS", "STARTS_WITH", "NOT_STARTS_WITH",
    "ENDS_WITH", "NOT_ENDS_WITH", "LESS_THAN", "LESS_THAN_EQUAL", "GREATER_THAN",
    "GREATER_THAN_EQUAL", "IS_INVALID", "IS_MISSING",
)  # fmt: skip

_COMPARE = {
    "LESS_THAN": "<",
    "LESS_THAN_EQUAL": "<=",
    "GREATER_THAN": ">",
    "GREATER_THAN_EQUAL": ">=",
}
_TEXT = {
    "CONTAINS": ("contains({c}, {v})", False),
    "NOT_CONTAINS": ("contains({c}, {v})", True),
    "STARTS_WITH": ("starts_with({c}, {v})", False),
    "NOT_STARTS_WITH": ("starts_with({c}, {v})", True),
    "ENDS_WITH": ("ends_with({c}, {v})", False),
    "NOT_ENDS_WITH": ("ends_with({c}, {v})", True),
}
_INVALID_TYPES = {
    "int": "BIGINT", "integer": "BIGINT", "long": "BIGINT", "double": "DOUBLE",
    "float": "DOUBLE", "number": "DOUBLE", "decimal": "DOUBLE", "boolean": "BOOLEAN",
    "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP", "datetime": "TIMESTAMP",
}  # fmt: skip


@dataclass(frozen=True)
class Condition:
    """One DataBrew condition expression."""

    condition: str
    target_column: str
    value: str | None = None

    @classmethod
    def parse(cls, raw: Any, where: str) -> Condition:
        """From a DataBrew ``{"Condition", "TargetColumn", "Value"}`` dict (or lowercase keys)."""
        if isinstance(raw, Condition):
            return raw
        if not isinstance(raw, dict):
            raise ConfigError(
                f"{where}: a condition must be an object, got {raw!r}",
                fix='write {"Condition": "IS", "TargetColumn": "col", "Value": "x"}',
            )
        keys = {k.lower().replace("_", ""): v for k, v in raw.items()}
        unknown = set(keys) - {"condition", "targetcolumn", "value"}
        if unknown or "condition" not in keys or "targetcolumn" not in keys:
            raise ConfigError(
                f"{where}: condition {raw!r} needs Condition and TargetColumn (and maybe Value)",
                fix="use the keys Condition, TargetColumn and Value",
            )
        name = str(keys["condition"]).upper()
        if name not in CONDITIONS:
            raise ConfigError(
                f"{where}: unknown condition {keys['condition']!r}",
                fix="use one of " + ", ".join(CONDITIONS),
            )
        value = keys.get("value")
        if value is not None and not isinstance(value, str):
            value = json.dumps(value)
        return cls(name, str(keys["targetcolumn"]), value)

    def to_dict(self) -> dict[str, str]:
        out = {"Condition": self.condition, "TargetColumn": self.target_column}
        if self.value is not None:
            out["Value"] = self.value
        return out


def _values(value: str | None) -> list[Any]:
    if value is None:
        return []
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return [value]
    return parsed if isinstance(parsed, list) else [parsed]


def _typed(value: Any, dtype: pa.DataType) -> str:
    """``value`` as a literal comparable with a column of ``dtype``."""
    if any(test(dtype) for test in NUMERIC):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return "NULL"
        return repr(int(number)) if number.is_integer() and "." not in str(value) else repr(number)
    if pa.types.is_boolean(dtype):
        return "TRUE" if str(value).lower() == "true" else "FALSE"
    if pa.types.is_timestamp(dtype):
        return f"CAST({literal(str(value))} AS TIMESTAMP)"
    if pa.types.is_date(dtype):
        return f"CAST({literal(str(value))} AS DATE)"
    return literal(str(value))


def _between(value: str | None, where: str) -> tuple[Any, Any]:
    parsed: Any = None
    with contextlib.suppress(json.JSONDecodeError):
        parsed = json.loads(value or "")
    if isinstance(parsed, list) and len(parsed) == 2:
        return parsed[0], parsed[1]
    if isinstance(parsed, dict):
        lows = [v for k, v in parsed.items() if "greater" in k.lower() or "min" in k.lower()]
        highs = [v for k, v in parsed.items() if "less" in k.lower() or "max" in k.lower()]
        if len(lows) == 1 and len(highs) == 1:
            return lows[0], highs[0]
    raise ConfigError(
        f"{where}: IS_BETWEEN needs a Value with both ends, got {value!r}",
        fix='give Value as {"greaterThanEqual": "1", "lessThanEqual": "5"} or ["1", "5"]',
    )


def predicate(conditions: Sequence[Condition], schema: pa.Schema, where: str) -> str | None:
    """The SQL predicate (DuckDB dialect) for ``conditions`` over ``schema``; None for none."""
    parts = []
    for cond in conditions:
        if cond.target_column not in schema.names:
            raise ConfigError(
                f"{where}: condition {cond.condition} is on column {cond.target_column!r}, "
                "which the input does not have",
                fix="use one of the columns: " + ", ".join(schema.names),
            )
        dtype = schema.field(cond.target_column).type
        col = quote(cond.target_column)
        text = f"CAST({col} AS VARCHAR)"
        name = cond.condition
        if name in ("IS", "IS_NOT"):
            values = _values(cond.value)
            if not values:
                raise ConfigError(f"{where}: {name} needs a Value", fix='give Value as ["a"]')
            inside = f"{col} IN ({', '.join(_typed(v, dtype) for v in values)})"
            parts.append(inside if name == "IS" else f"NOT coalesce({inside}, FALSE)")
        elif name == "IS_BETWEEN":
            low, high = _between(cond.value, where)
            parts.append(f"{col} BETWEEN {_typed(low, dtype)} AND {_typed(high, dtype)}")
        elif name in _COMPARE:
            if cond.value is None:
                raise ConfigError(f"{where}: {name} needs a Value", fix='give Value as "10"')
            parts.append(f"{col} {_COMPARE[name]} {_typed(cond.value, dtype)}")
        elif name in _TEXT:
            template, negate = _TEXT[name]
            test = template.format(c=text, v=literal(cond.value or ""))
            parts.append(f"NOT coalesce({test}, FALSE)" if negate else test)
        elif name == "IS_MISSING":
            empty = f" OR {blank(text)}" if pa.types.is_string(dtype) else ""
            parts.append(f"({col} IS NULL{empty})")
        elif name == "IS_INVALID":
            target = _INVALID_TYPES.get((cond.value or "").lower())
            if target is None:
                raise ConfigError(
                    f"{where}: IS_INVALID needs the expected type as Value, got {cond.value!r}",
                    fix="give Value as one of " + ", ".join(sorted(_INVALID_TYPES)),
                )
            parts.append(f"({col} IS NOT NULL AND TRY_CAST({text} AS {target}) IS NULL)")
    return " AND ".join(f"({p})" for p in parts) if parts else None
