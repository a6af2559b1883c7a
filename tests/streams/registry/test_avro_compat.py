"""Avro compatibility: the resolution rules, each mode, and transitive checks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lakebed.streams.registry import IncompatibleSchemaError, SchemaRegistry


def record(*fields: dict[str, Any], name: str = "Order") -> str:
    return json.dumps({"type": "record", "name": name, "namespace": "shop", "fields": list(fields)})


def f(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


BASE = record(f("id", "long"), f("price", "double"))
ADDED_WITH_DEFAULT = record(f("id", "long"), f("price", "double"), f("qty", "int", default=1))
ADDED_NO_DEFAULT = record(f("id", "long"), f("price", "double"), f("qty", "int"))
PRICE_REMOVED = record(f("id", "long"))


def reasons(reg: SchemaRegistry, mode: str, old: str, new: str) -> list[str]:
    reg.delete_subject("s") if "s" in reg.subjects() else None
    reg.set_compatibility("NONE", "s")
    reg.register("s", old)
    reg.set_compatibility(mode, "s")
    return reg.check("s", new)


def test_adding_a_field(registry: SchemaRegistry) -> None:
    assert reasons(registry, "BACKWARD", BASE, ADDED_WITH_DEFAULT) == []
    found = reasons(registry, "BACKWARD", BASE, ADDED_NO_DEFAULT)
    assert len(found) == 1 and "field 'qty' was added without a default" in found[0]
    # Old readers ignore a new field: FORWARD accepts it with or without a default.
    assert reasons(registry, "FORWARD", BASE, ADDED_NO_DEFAULT) == []
    assert reasons(registry, "FULL", BASE, ADDED_WITH_DEFAULT) == []
    assert reasons(registry, "FULL", BASE, ADDED_NO_DEFAULT) != []


def test_removing_a_field(registry: SchemaRegistry) -> None:
    assert reasons(registry, "BACKWARD", BASE, PRICE_REMOVED) == []
    found = reasons(registry, "FORWARD", BASE, PRICE_REMOVED)
    assert found and "field 'price' was removed but has no default in version 1" in found[0]
    with_default = record(f("id", "long"), f("price", "double", default=0.0))
    assert reasons(registry, "FORWARD", with_default, PRICE_REMOVED) == []


@pytest.mark.parametrize(
    ("old", "new", "backward_ok", "forward_ok"),
    [
        ("int", "long", True, False),
        ("long", "double", True, False),
        ("float", "double", True, False),
        ("int", "float", True, False),
        ("string", "bytes", True, True),
        ("double", "string", False, False),
        ("long", "int", False, True),
    ],
)
def test_type_promotions(
    registry: SchemaRegistry, old: str, new: str, backward_ok: bool, forward_ok: bool
) -> None:
    before, after = record(f("v", old)), record(f("v", new))
    backward = reasons(registry, "BACKWARD", before, after)
    forward = reasons(registry, "FORWARD", before, after)
    assert (backward == []) is backward_ok
    assert (forward == []) is forward_ok
    for found in (backward, forward):
        if found:
            assert f"field 'v' changed type from {old} to {new}" in found[0]


def test_enum_symbols(registry: SchemaRegistry) -> None:
    def enum(*symbols: str, **extra: Any) -> str:
        return record(
            f("state", {"type": "enum", "name": "State", "symbols": list(symbols), **extra})
        )

    old, more = enum("NEW", "PAID"), enum("NEW", "PAID", "SHIPPED")
    assert reasons(registry, "BACKWARD", old, more) == []
    found = reasons(registry, "FORWARD", old, more)
    assert found and "SHIPPED" in found[0] and "no default" in found[0]
    found = reasons(registry, "BACKWARD", more, old)
    assert found and "SHIPPED removed" in found[0]
    assert reasons(registry, "BACKWARD", more, enum("NEW", "PAID", default="NEW")) == []


def test_unions(registry: SchemaRegistry) -> None:
    plain = record(f("note", "string"))
    optional = record(f("note", ["null", "string"], default=None))
    assert reasons(registry, "BACKWARD", plain, optional) == []  # string reads into the union
    found = reasons(registry, "BACKWARD", optional, plain)
    assert found and "union branch null was removed" in found[0]
    widened = record(f("note", ["null", "string", "long"], default=None))
    assert reasons(registry, "BACKWARD", optional, widened) == []
    assert reasons(registry, "FORWARD", optional, widened) != []


def test_nested_records_arrays_maps_and_named_references(registry: SchemaRegistry) -> None:
    address = {
        "type": "record",
        "name": "Address",
        "fields": [f("city", "string"), f("zip", "int")],
    }
    old = record(
        f("home", address),
        f("work", "Address"),  # a reference to the named type above
        f("lines", {"type": "array", "items": {"type": "record", "name": "Line",
                                               "fields": [f("qty", "int")]}}),
        f("attrs", {"type": "map", "values": "long"}),
    )  # fmt: skip
    address_zip_string = {**address, "fields": [f("city", "string"), f("zip", "string")]}
    new = record(
        f("home", address_zip_string),
        f("work", "Address"),
        f("lines", {"type": "array", "items": {"type": "record", "name": "Line",
                                               "fields": [f("qty", "string")]}}),
        f("attrs", {"type": "map", "values": "string"}),
    )  # fmt: skip
    found = reasons(registry, "BACKWARD", old, new)
    text = "\n".join(found)
    assert "field 'home.zip' changed type from int to string" in text
    assert "field 'work.zip' changed type from int to string" in text  # followed by reference
    assert "field 'lines[].qty' changed type from int to string" in text
    assert "field 'attrs{}' changed type from long to string" in text


def test_recursive_types(registry: SchemaRegistry) -> None:
    def node(value_type: str) -> str:
        return json.dumps(
            {"type": "record", "name": "Node", "fields": [
                f("value", value_type), f("next", ["null", "Node"], default=None)]}
        )  # fmt: skip

    assert reasons(registry, "FULL", node("long"), node("long")) == []
    found = reasons(registry, "BACKWARD", node("long"), node("int"))
    assert found and "field 'value' changed type from long to int" in found[0]


def test_renamed_record_is_incompatible_unless_aliased(registry: SchemaRegistry) -> None:
    old = record(f("id", "long"), name="Order")
    renamed = record(f("id", "long"), name="Purchase")
    assert reasons(registry, "BACKWARD", old, renamed) != []
    aliased = json.dumps({**json.loads(renamed), "aliases": ["Order"]})
    assert reasons(registry, "BACKWARD", old, aliased) == []


def test_transitive_checks_every_version(registry: SchemaRegistry) -> None:
    v1 = record(f("id", "long"))
    v2 = record(f("id", "long"), f("qty", "int", default=0))
    v3 = record(f("id", "long"), f("qty", "int"))  # drops the default: cannot read v1 data
    registry.register("orders", v1)
    registry.register("orders", v2)
    assert registry.check("orders", v3) == []  # BACKWARD: only against v2
    registry.set_compatibility("BACKWARD_TRANSITIVE", "orders")
    found = registry.check("orders", v3)
    assert found == [
        "field 'qty' was added without a default (the new schema cannot read version 1)"
    ]
    with pytest.raises(IncompatibleSchemaError, match="BACKWARD_TRANSITIVE"):
        registry.register("orders", v3)


def test_forward_and_full_transitive(registry: SchemaRegistry) -> None:
    v1 = record(f("id", "long"), f("note", "string"))
    v2 = record(f("id", "long"), f("note", "string", default=""))
    v3 = record(f("id", "long"))  # v1 readers need 'note' and have no default for it
    registry.set_compatibility("FORWARD")
    registry.register("o", v1)
    registry.register("o", v2)
    assert registry.check("o", v3) == []
    registry.set_compatibility("FORWARD_TRANSITIVE")
    assert registry.check("o", v3) == [
        "field 'note' was removed but has no default in version 1 "
        "(version 1 cannot read the new schema)"
    ]
    registry.set_compatibility("FULL_TRANSITIVE")
    assert len(registry.check("o", v3)) == 1


def test_none_accepts_anything(registry: SchemaRegistry) -> None:
    registry.set_compatibility("NONE")
    registry.register("o", BASE)
    assert registry.register("o", record(f("totally", "string"), name="Different")).version == 2
