"""Protobuf compatibility: wire rules by field number."""

from __future__ import annotations

import pytest

from lakebed.errors import SchemaError
from lakebed.streams.registry import SchemaRegistry

BASE = """
syntax = "proto3";
package shop;
message Order {
  int64 id = 1;
  double price = 2;
  repeated string tags = 3;
  Address address = 4;
  reserved 9;
  reserved "legacy";
}
message Address { string city = 1; }
"""


def reasons(reg: SchemaRegistry, mode: str, old: str, new: str) -> list[str]:
    if "s" in reg.subjects():
        reg.delete_subject("s")
    reg.register("s", old, "PROTOBUF")
    reg.set_compatibility(mode, "s")
    return reg.check("s", new, "PROTOBUF")


def test_adding_and_removing_fields_is_compatible(registry: SchemaRegistry) -> None:
    added = BASE.replace("Address address = 4;", "Address address = 4; string note = 5;")
    assert reasons(registry, "FULL", BASE, added) == []
    removed = BASE.replace("repeated string tags = 3;", "")
    assert reasons(registry, "FULL", BASE, removed) == []


def test_changing_a_field_type_or_number(registry: SchemaRegistry) -> None:
    typed = BASE.replace("double price = 2;", "string price = 2;")
    found = reasons(registry, "BACKWARD", BASE, typed)
    assert found == [
        "field 'shop.Order.price' (number 2) changed type from double to string "
        "(the new schema cannot read version 1)"
    ]
    renumbered = BASE.replace("double price = 2;", "double price = 6;")
    found = reasons(registry, "BACKWARD", BASE, renumbered)
    assert found and "field 'shop.Order.price' changed number from 2 to 6" in found[0]
    relabeled = BASE.replace("repeated string tags = 3;", "string tags = 3;")
    assert (
        "changed type from repeated string to string"
        in reasons(registry, "BACKWARD", BASE, relabeled)[0]
    )
    retyped_message = BASE.replace("Address address = 4;", "Order address = 4;")
    assert (
        "from shop.Address to shop.Order" in reasons(registry, "BACKWARD", BASE, retyped_message)[0]
    )


def test_wire_compatible_type_changes_pass(registry: SchemaRegistry) -> None:
    widened = BASE.replace("int64 id = 1;", "uint64 id = 1;")
    assert reasons(registry, "FULL", BASE, widened) == []
    as_bytes = BASE.replace("repeated string tags = 3;", "repeated bytes tags = 3;")
    assert reasons(registry, "FULL", BASE, as_bytes) == []


def test_reusing_reserved_numbers_or_names(registry: SchemaRegistry) -> None:
    reuse_number = BASE.replace("reserved 9;", "int32 flag = 9;")
    assert (
        "reuses number 9, reserved in the old version"
        in reasons(registry, "BACKWARD", BASE, reuse_number)[0]
    )
    reuse_name = BASE.replace('reserved "legacy";', "string legacy = 10;")
    assert "reuses a name reserved" in reasons(registry, "BACKWARD", BASE, reuse_name)[0]


def test_removing_a_message(registry: SchemaRegistry) -> None:
    without = BASE.replace("message Address { string city = 1; }", "").replace(
        "Address address = 4;", ""
    )
    found = reasons(registry, "BACKWARD", BASE, without)
    assert found and "message 'shop.Address' was removed" in found[0]


def test_transitive_protobuf(registry: SchemaRegistry) -> None:
    v1 = "syntax = 'proto3'; message M { int64 a = 1; string b = 2; }"
    v2 = "syntax = 'proto3'; message M { int64 a = 1; }"
    v3 = "syntax = 'proto3'; message M { int64 a = 1; double b = 2; }"  # 2 was a string once
    registry.register("m", v1, "PROTOBUF")
    registry.register("m", v2, "PROTOBUF")
    assert registry.check("m", v3, "PROTOBUF") == []
    registry.set_compatibility("FULL_TRANSITIVE", "m")
    assert any(
        "changed type from string to double" in r for r in registry.check("m", v3, "PROTOBUF")
    )


def test_protoc_errors_are_reported_with_line(registry: SchemaRegistry) -> None:
    text = 'syntax = "proto3";\nmessage Order { int64 id = 1; }\nmessage X { Ordr o = 1; }'
    with pytest.raises(SchemaError, match=r"subject 'm'.*line 3:\d+: \"Ordr\" is not defined"):
        registry.register("m", text, "PROTOBUF")
