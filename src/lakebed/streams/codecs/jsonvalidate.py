"""Validate decoded JSON records against the JSON Schema subset the registry understands.

Keywords: ``type``, ``properties``, ``required``, ``additionalProperties``, ``enum``, ``const``,
``items``, ``minimum``/``maximum``, ``exclusiveMinimum``/``exclusiveMaximum``,
``minLength``/``maxLength``, ``pattern``, ``anyOf``/``oneOf``/``allOf``; others are ignored.
Written here because no JSON Schema library is among the dependencies and records need only
this subset; the first problem found is reported, with the path to the value.
"""

from __future__ import annotations

import functools
import re
from typing import Any


def _is_type(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True


def _kind(value: Any) -> str:
    for kind in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is_type(value, kind):
            return kind
    return type(value).__name__


@functools.lru_cache(maxsize=256)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate(schema: Any, value: Any, path: str = "$") -> str | None:
    """The first way ``value`` breaks ``schema`` (e.g. "$.qty: expected integer, got string
    'abc'"), or None when it is valid."""
    if schema is True or schema == {}:
        return None
    if schema is False:
        return f"{path}: no value is allowed here"
    kinds = schema.get("type")
    if kinds is not None:
        allowed = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is_type(value, k) for k in allowed):
            return f"{path}: expected {' or '.join(allowed)}, got {_kind(value)} {_show(value)}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{path}: {_show(value)} is not one of {schema['enum']}"
    if "const" in schema and value != schema["const"]:
        return f"{path}: must be {_show(schema['const'])}, got {_show(value)}"
    if isinstance(value, dict):
        problem = _object(schema, value, path)
    elif isinstance(value, list):
        problem = _array(schema, value, path)
    elif isinstance(value, str):
        problem = _string(schema, value, path)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        problem = _number(schema, value, path)
    else:
        problem = None
    return problem or _combinators(schema, value, path)


def _object(schema: dict[str, Any], value: dict[str, Any], path: str) -> str | None:
    for name in schema.get("required", ()):
        if name not in value:
            return f"{path}: required property '{name}' is missing"
    props: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        sub = props.get(name)
        if sub is None:
            if extra is False:
                return f"{path}: property '{name}' is not allowed (additionalProperties is false)"
            sub = extra
        problem = validate(sub, item, f"{path}.{name}")
        if problem:
            return problem
    return None


def _array(schema: dict[str, Any], value: list[Any], path: str) -> str | None:
    items = schema.get("items")
    if isinstance(items, dict | bool):
        for i, item in enumerate(value):
            problem = validate(items, item, f"{path}[{i}]")
            if problem:
                return problem
    return None


def _string(schema: dict[str, Any], value: str, path: str) -> str | None:
    if "minLength" in schema and len(value) < schema["minLength"]:
        return f"{path}: shorter than {schema['minLength']} characters"
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return f"{path}: longer than {schema['maxLength']} characters"
    if "pattern" in schema and not _pattern(schema["pattern"]).search(value):
        return f"{path}: {_show(value)} does not match pattern {schema['pattern']!r}"
    return None


def _number(schema: dict[str, Any], value: float, path: str) -> str | None:
    if "minimum" in schema and value < schema["minimum"]:
        return f"{path}: {value} is less than the minimum {schema['minimum']}"
    if "maximum" in schema and value > schema["maximum"]:
        return f"{path}: {value} is more than the maximum {schema['maximum']}"
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        return f"{path}: {value} is not more than {schema['exclusiveMinimum']}"
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        return f"{path}: {value} is not less than {schema['exclusiveMaximum']}"
    return None


def _combinators(schema: dict[str, Any], value: Any, path: str) -> str | None:
    for sub in schema.get("allOf", ()):
        problem = validate(sub, value, path)
        if problem:
            return problem
    if "anyOf" in schema:
        problems = [validate(sub, value, path) for sub in schema["anyOf"]]
        if all(problems):
            return f"{path}: matches none of anyOf ({problems[0]})"
    if "oneOf" in schema:
        matched = sum(1 for sub in schema["oneOf"] if validate(sub, value, path) is None)
        if matched != 1:
            return f"{path}: matches {matched} of oneOf's schemas, expected exactly 1"
    return None
