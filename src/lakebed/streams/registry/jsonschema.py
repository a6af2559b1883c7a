"""JSON Schema in the registry: parsing and compatibility for a practical subset.

Supported keywords: ``type`` (a name or a list; ``integer`` is a kind of ``number``),
``properties``, ``required``, ``additionalProperties`` (bool or a schema), ``enum``, ``const``,
``items``, ``minimum``/``maximum``, ``minLength``/``maxLength``. Other keywords are kept but not
compared. "Reader can read writer" means every document the writer's schema accepts is accepted
by the reader's: so requiring a new property, narrowing a type, shrinking an enum or closing
``additionalProperties`` breaks it. Adding an optional property to an open object is allowed
(a practical choice: Confluent is stricter here).

No JSON Schema library is in the dependencies and none offers a compatibility check, so this is
written here; the matching validator for records is :mod:`lakebed.streams.codecs.jsonvalidate`.
"""

from __future__ import annotations

import json
from typing import Any

from lakebed.streams.registry.compat import Pair

TYPES = {"null", "boolean", "integer", "number", "string", "array", "object"}


class JsonSchema:
    """A parsed JSON Schema document."""

    def __init__(self, text: str) -> None:
        try:
            self.document: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc}") from exc
        _validate(self.document, "#")
        self.canonical = json.dumps(self.document, sort_keys=True, separators=(",", ":"))


def _validate(schema: Any, where: str) -> None:
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise ValueError(f"{where}: a schema must be an object or a boolean, not {schema!r}")
    kinds = schema.get("type")
    for kind in [kinds] if isinstance(kinds, str) else kinds or []:
        if kind not in TYPES:
            raise ValueError(f"{where}: unknown type {kind!r}; one of {sorted(TYPES)}")
    props = schema.get("properties", {})
    if not isinstance(props, dict):
        raise ValueError(f"{where}: 'properties' must be an object")
    for name, sub in props.items():
        _validate(sub, f"{where}/properties/{name}")
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(n, str) for n in required):
        raise ValueError(f"{where}: 'required' must be a list of property names")
    if "enum" in schema and not isinstance(schema["enum"], list):
        raise ValueError(f"{where}: 'enum' must be a list")
    for key in ("items", "additionalProperties"):
        if key in schema:
            _validate(schema[key], f"{where}/{key}")


def parse(text: str) -> JsonSchema:
    """Parse JSON Schema text; ``ValueError`` says what is wrong."""
    return JsonSchema(text)


def _types(schema: Any) -> set[str] | None:
    """The set of types a schema allows, or None for any."""
    if schema is False:
        return set()
    if not isinstance(schema, dict):
        return None
    if "const" in schema:
        return {_type_of(schema["const"])}
    if "enum" in schema and "type" not in schema:
        return {_type_of(v) for v in schema["enum"]}
    kinds = schema.get("type")
    if kinds is None:
        return None
    found = {kinds} if isinstance(kinds, str) else set(kinds)
    return found


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _covers(reader: set[str], writer: set[str]) -> bool:
    return all(t in reader or (t == "integer" and "number" in reader) for t in writer)


def _fmt(types: set[str] | None) -> str:
    return "any" if types is None else "|".join(sorted(types)) or "nothing"


def can_read(pair: Pair[JsonSchema]) -> list[str]:
    """Reasons why documents valid for ``pair.writer`` may be invalid for ``pair.reader``."""
    reasons: list[str] = []
    _check(pair, pair.reader.document, pair.writer.document, "", reasons)
    return reasons


def _name(path: str) -> str:
    return f"property '{path}'" if path else "the document"


def _check(pair: Pair[Any], r: Any, w: Any, path: str, out: list[str]) -> None:
    if r is True or r == {}:
        return
    if w is False:
        return
    rt, wt = _types(r), _types(w)
    if rt is not None and (wt is None or not _covers(rt, wt)):
        out.append(f"{_name(path)} changed type from {pair.describe(_fmt(rt), _fmt(wt))}")
        return
    if not isinstance(r, dict):
        return
    w = w if isinstance(w, dict) else {}
    if "enum" in r:
        wvals = w.get("enum", [w["const"]] if "const" in w else None)
        if wvals is None:
            out.append(f"{_name(path)}: an enum was {_verb(pair, 'added', 'removed')}")
        else:
            extra = [v for v in wvals if v not in r["enum"]]
            if extra:
                out.append(
                    f"{_name(path)}: enum value(s) {', '.join(map(json.dumps, extra))} "
                    f"{_verb(pair, 'removed', 'added')}"
                )
    _bounds(pair, r, w, path, out)
    _object(pair, r, w, path, out)
    if "items" in r and isinstance(r["items"], dict | bool):
        _check(pair, r["items"], w.get("items", True), f"{path}[]" if path else "[]", out)


def _verb(pair: Pair[Any], when_reader_new: str, when_reader_old: str) -> str:
    return when_reader_new if pair.reader_is_new else when_reader_old


def _bounds(
    pair: Pair[Any], r: dict[str, Any], w: dict[str, Any], path: str, out: list[str]
) -> None:
    for key, tighter in (
        ("minimum", lambda a, b: a > b),
        ("minLength", lambda a, b: a > b),
        ("maximum", lambda a, b: a < b),
        ("maxLength", lambda a, b: a < b),
    ):
        if key in r and (key not in w or tighter(r[key], w[key])):
            before = w.get(key, "none")
            out.append(
                f"{_name(path)}: {key} changed from {pair.describe(str(r[key]), str(before))}"
            )


def _object(
    pair: Pair[Any], r: dict[str, Any], w: dict[str, Any], path: str, out: list[str]
) -> None:
    prefix = f"{path}." if path else ""
    rprops: dict[str, Any] = r.get("properties", {})
    wprops: dict[str, Any] = w.get("properties", {})
    r_extra = r.get("additionalProperties", True)
    w_extra = w.get("additionalProperties", True)
    wrequired = set(w.get("required", []))
    for name in r.get("required", []):
        if name not in wrequired:
            if pair.reader_is_new:
                out.append(f"property '{prefix}{name}' was made required")
            else:
                out.append(
                    f"property '{prefix}{name}' is required by version {pair.other} "
                    "but no longer required"
                )
    for name, sub in rprops.items():
        if name in wprops:
            _check(pair, sub, wprops[name], prefix + name, out)
        elif isinstance(w_extra, dict) and w_extra:
            _check(pair, sub, w_extra, prefix + name, out)
    for name, sub in wprops.items():
        if name in rprops:
            continue
        if r_extra is False:
            what = "was removed" if pair.reader_is_new else "was added"
            out.append(f"property '{prefix}{name}' {what} while additionalProperties is false")
        elif r_extra is not True:
            _check(pair, r_extra, sub, prefix + name, out)
    if r_extra is False and w_extra is not False:
        out.append(
            f"{_name(path)}: additionalProperties was "
            + ("closed" if pair.reader_is_new else "opened")
        )
    elif isinstance(r_extra, dict) and w_extra is not False:
        _check(pair, r_extra, w_extra, f"{prefix}*", out)
