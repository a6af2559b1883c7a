"""Avro schemas in the registry: parsing and the schema-resolution rules of the Avro spec.

fastavro checks that a schema is valid (and is what the decoders read with), but it has no
"can this reader read that writer" check, so the resolution rules are written here: fields
matched by name (or reader alias), added fields need a default, numeric promotions
int→long→float→double, string↔bytes, enum symbols, unions branch by branch, records, arrays,
maps and fixed types compared recursively with named types followed by reference.
"""

from __future__ import annotations

import json
from typing import Any

import fastavro

from lakebed.streams.registry.compat import Pair

_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
_PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}


class AvroSchema:
    """A parsed Avro schema: the fastavro form plus its named types by full name."""

    def __init__(self, text: str) -> None:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc}") from exc
        try:
            self.parsed: Any = fastavro.parse_schema(raw, _write_hint=False)
        except Exception as exc:  # fastavro raises several unrelated types
            raise ValueError(f"not a valid Avro schema: {type(exc).__name__}: {exc}") from exc
        self.named: dict[str, dict[str, Any]] = {}
        self._collect(self.parsed)
        self.canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"))

    def _collect(self, schema: Any) -> None:
        if isinstance(schema, list):
            for branch in schema:
                self._collect(branch)
        elif isinstance(schema, dict):
            kind = schema.get("type")
            if kind in ("record", "error", "enum", "fixed"):
                self.named[schema["name"]] = schema
            if kind in ("record", "error"):
                for field in schema["fields"]:
                    self._collect(field["type"])
            elif kind == "array":
                self._collect(schema["items"])
            elif kind == "map":
                self._collect(schema["values"])
            elif isinstance(kind, dict | list):
                self._collect(kind)

    def resolve(self, schema: Any) -> Any:
        """Follow a named-type reference (and unwrap ``{"type": "int"}``) to its definition."""
        while True:
            if isinstance(schema, str) and schema in self.named:
                schema = self.named[schema]
            elif isinstance(schema, dict) and not _is_complex(schema):
                schema = schema["type"]
            else:
                return schema


def _is_complex(schema: dict[str, Any]) -> bool:
    return schema.get("type") in ("record", "error", "enum", "fixed", "array", "map")


def _describe(schema: Any) -> str:
    if isinstance(schema, str):
        return schema.rsplit(".", 1)[-1] if "." in schema else schema
    if isinstance(schema, list):
        return "union[" + ", ".join(_describe(b) for b in schema) + "]"
    kind = schema.get("type")
    if kind in ("record", "error", "enum", "fixed"):
        return f"{kind} {schema['name'].rsplit('.', 1)[-1]}"
    if kind == "array":
        return f"array<{_describe(schema['items'])}>"
    if kind == "map":
        return f"map<{_describe(schema['values'])}>"
    return str(kind)


def parse(text: str) -> AvroSchema:
    """Parse Avro schema text; ``ValueError`` says what is wrong."""
    return AvroSchema(text)


def canonical(text: str) -> str:
    """A whitespace- and key-order-independent form, to find identical schemas."""
    return AvroSchema(text).canonical


def can_read(pair: Pair[AvroSchema]) -> list[str]:
    """Reasons why ``pair.reader`` cannot read data written with ``pair.writer`` (empty: it can)."""
    checker = _Checker(pair)
    checker.check(pair.reader.parsed, pair.writer.parsed, "")
    return checker.reasons


class _Checker:
    def __init__(self, pair: Pair[AvroSchema]) -> None:
        self.pair = pair
        self.reasons: list[str] = []
        self._active: set[tuple[str, str]] = set()  # named pairs being compared (recursion)

    def _at(self, path: str) -> str:
        return f"field '{path}'" if path else "the top-level schema"

    def _changed(self, r: Any, w: Any, path: str) -> None:
        change = self.pair.describe(_describe(r), _describe(w))
        self.reasons.append(f"{self._at(path)} changed type from {change}")

    def check(self, reader: Any, writer: Any, path: str) -> None:
        r = self.pair.reader.resolve(reader)
        w = self.pair.writer.resolve(writer)
        if isinstance(w, list):
            self._writer_union(r, w, path)
            return
        if isinstance(r, list):
            if not any(self._matches(branch, w, path) for branch in r):
                self._changed(r, w, path)
            return
        if not self._same_kind(r, w):
            self._changed(r, w, path)
            return
        if isinstance(r, str):
            return
        kind = r["type"]
        if kind in ("record", "error"):
            key = (r["name"], w["name"])
            if key in self._active:
                return  # a recursive type: already being compared further up
            self._active.add(key)
            try:
                self._record(r, w, path)
            finally:
                self._active.discard(key)
        elif kind == "enum":
            self._enum(r, w, path)
        elif kind == "fixed":
            if r["size"] != w["size"]:
                self.reasons.append(
                    f"{self._at(path)}: fixed size changed from "
                    f"{self.pair.describe(str(r['size']), str(w['size']))}"
                )
        elif kind == "array":
            self.check(r["items"], w["items"], f"{path}[]" if path else "[]")
        elif kind == "map":
            self.check(r["values"], w["values"], f"{path}{{}}" if path else "{}")

    def _writer_union(self, reader: Any, branches: list[Any], path: str) -> None:
        for branch in branches:
            wb = self.pair.writer.resolve(branch)
            if isinstance(reader, list):
                ok = any(self._matches(rb, wb, path) for rb in reader)
            else:
                ok = self._matches(reader, wb, path)
            if not ok:
                self.reasons.append(
                    f"{self._at(path)}: union branch {_describe(wb)} "
                    + (
                        "was removed"
                        if self.pair.reader_is_new
                        else f"was added but version {self.pair.other} cannot read it"
                    )
                )

    def _matches(self, reader: Any, writer: Any, path: str) -> bool:
        """Whether reader reads writer without any reason (a trial check)."""
        r = self.pair.reader.resolve(reader)
        w = self.pair.writer.resolve(writer)
        if isinstance(r, list) or isinstance(w, list) or not self._same_kind(r, w):
            return False
        saved = self.reasons
        self.reasons = []
        self.check(r, w, path)
        ok = not self.reasons
        self.reasons = saved
        if ok:
            return True
        if isinstance(r, dict) and isinstance(w, dict) and r.get("name") == w.get("name"):
            # Same named type: report its inner problems rather than a vague union mismatch.
            self.check(r, w, path)
            return True
        return False

    def _same_kind(self, r: Any, w: Any) -> bool:
        if isinstance(r, str) and isinstance(w, str):
            return r == w or r in _PROMOTIONS.get(w, set())
        if isinstance(r, dict) and isinstance(w, dict):
            if r["type"] != w["type"]:
                return False
            if r["type"] in ("record", "error", "enum", "fixed"):
                return _short(r["name"]) == _short(w["name"]) or _short(w["name"]) in {
                    _short(a) for a in r.get("aliases", [])
                }
            return True
        return False

    def _record(self, r: dict[str, Any], w: dict[str, Any], path: str) -> None:
        writer_fields = {f["name"]: f for f in w["fields"]}
        prefix = f"{path}." if path else ""
        for field in r["fields"]:
            names = [field["name"], *field.get("aliases", [])]
            match = next((writer_fields[n] for n in names if n in writer_fields), None)
            name = prefix + field["name"]
            if match is not None:
                self.check(field["type"], match["type"], name)
            elif "default" not in field:
                if self.pair.reader_is_new:
                    self.reasons.append(f"field '{name}' was added without a default")
                else:
                    self.reasons.append(
                        f"field '{name}' was removed but has no default in "
                        f"version {self.pair.other}"
                    )

    def _enum(self, r: dict[str, Any], w: dict[str, Any], path: str) -> None:
        if "default" in r:
            return
        missing = [s for s in w["symbols"] if s not in r["symbols"]]
        if missing:
            verb = "removed" if self.pair.reader_is_new else "added"
            self.reasons.append(
                f"{self._at(path)}: enum symbol(s) {', '.join(missing)} {verb} "
                "and the reading enum has no default"
            )


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]
