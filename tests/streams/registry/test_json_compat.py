"""JSON Schema compatibility: what the new schema accepts versus what the old one did."""

from __future__ import annotations

import json
from typing import Any

from lakebed.streams.registry import SchemaRegistry


def obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> str:
    return json.dumps({"type": "object", "properties": props, "required": required or [], **extra})


def reasons(reg: SchemaRegistry, mode: str, old: str, new: str) -> list[str]:
    if "s" in reg.subjects():
        reg.delete_subject("s")
    reg.register("s", old, "JSON")
    reg.set_compatibility(mode, "s")
    return reg.check("s", new, "JSON")


BASE = obj({"id": {"type": "integer"}, "price": {"type": "number"}}, ["id"])


def test_adding_an_optional_property_is_compatible_both_ways(registry: SchemaRegistry) -> None:
    new = obj({**json.loads(BASE)["properties"], "note": {"type": "string"}}, ["id"])
    assert reasons(registry, "FULL", BASE, new) == []


def test_adding_a_required_property(registry: SchemaRegistry) -> None:
    new = obj({**json.loads(BASE)["properties"], "qty": {"type": "integer"}}, ["id", "qty"])
    found = reasons(registry, "BACKWARD", BASE, new)
    assert found and "property 'qty' was made required" in found[0]
    assert reasons(registry, "FORWARD", BASE, new) == []  # old readers accept new documents


def test_narrowing_and_widening_a_type(registry: SchemaRegistry) -> None:
    narrowed = obj({"id": {"type": "integer"}, "price": {"type": "integer"}}, ["id"])
    found = reasons(registry, "BACKWARD", BASE, narrowed)
    assert found and "property 'price' changed type from number to integer" in found[0]
    assert reasons(registry, "FORWARD", BASE, narrowed) == []
    widened = obj({"id": {"type": "integer"}, "price": {"type": ["number", "string"]}}, ["id"])
    assert reasons(registry, "BACKWARD", BASE, widened) == []
    assert reasons(registry, "FORWARD", BASE, widened) != []


def test_closing_additional_properties(registry: SchemaRegistry) -> None:
    closed = json.dumps({**json.loads(BASE), "additionalProperties": False})
    found = reasons(registry, "BACKWARD", BASE, closed)
    assert any("additionalProperties was closed" in r for r in found)
    assert reasons(registry, "FORWARD", BASE, closed) == []
    # Removing a property from a closed schema rejects documents that still carry it.
    closed_without_price = obj({"id": {"type": "integer"}}, ["id"], additionalProperties=False)
    found = reasons(registry, "BACKWARD", closed, closed_without_price)
    assert found and "property 'price' was removed while additionalProperties is false" in found[0]


def test_enums_nested_objects_and_items(registry: SchemaRegistry) -> None:
    old = obj(
        {
            "state": {"type": "string", "enum": ["NEW", "PAID"]},
            "address": json.loads(obj({"zip": {"type": "string"}})),
            "lines": {"type": "array", "items": json.loads(obj({"qty": {"type": "number"}}))},
        }
    )
    new = obj(
        {
            "state": {"type": "string", "enum": ["NEW"]},
            "address": json.loads(obj({"zip": {"type": "integer"}})),
            "lines": {"type": "array", "items": json.loads(obj({"qty": {"type": "integer"}}))},
        }
    )
    text = "\n".join(reasons(registry, "BACKWARD", old, new))
    assert "property 'state': enum value(s) \"PAID\" removed" in text
    assert "property 'address.zip' changed type from string to integer" in text
    assert "property 'lines[].qty' changed type from number to integer" in text
    more = obj({**json.loads(old)["properties"],
                "state": {"type": "string", "enum": ["NEW", "PAID", "SHIPPED"]}})  # fmt: skip
    assert reasons(registry, "BACKWARD", old, more) == []


def test_bounds_tightened(registry: SchemaRegistry) -> None:
    old = obj({"name": {"type": "string", "maxLength": 100}})
    new = obj({"name": {"type": "string", "maxLength": 10}})
    found = reasons(registry, "BACKWARD", old, new)
    assert found and "maxLength changed from 100 to 10" in found[0]


def test_transitive_json(registry: SchemaRegistry) -> None:
    v1 = obj({"id": {"type": "integer"}})
    v2 = obj({"id": {"type": "integer"}, "qty": {"type": "integer"}}, ["qty"])
    v3 = obj({"id": {"type": "integer"}, "qty": {"type": "integer"}}, ["qty"], title="v3")
    registry.set_compatibility("FORWARD")
    registry.register("o", v1, "JSON")
    registry.register("o", v2, "JSON")
    registry.set_compatibility("BACKWARD_TRANSITIVE")
    # v3 reads v2's documents, but v1's documents may lack the now-required 'qty'.
    found = registry.check("o", v3, "JSON")
    assert found == ["property 'qty' was made required (the new schema cannot read version 1)"]
    registry.set_compatibility("BACKWARD")
    assert registry.check("o", v3, "JSON") == []
