"""The registry's storage behaviour, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from lakebed.errors import ConfigError, NotFoundError, SchemaError
from lakebed.streams.registry import IncompatibleSchemaError, SchemaRegistry


def avro(*fields: tuple[str, object], name: str = "Order") -> str:
    return json.dumps(
        {"type": "record", "name": name, "fields": [{"name": n, "type": t} for n, t in fields]}
    )


V1 = avro(("id", "long"), ("price", "double"))
V2 = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "price", "type": "double"},
            {"name": "qty", "type": "int", "default": 1},
        ],
    }
)


def test_versions_ids_and_lookups(any_engine: sa.Engine) -> None:
    reg = SchemaRegistry(any_engine)
    first = reg.register("orders-value", V1)
    assert (first.subject, first.version, first.schema_type) == ("orders-value", 1, "AVRO")
    second = reg.register("orders-value", V2)
    assert second.version == 2 and second.id != first.id
    assert reg.versions("orders-value") == [1, 2]
    assert reg.latest("orders-value").schema == V2
    assert reg.version("orders-value", 1).schema == V1
    assert reg.get(first.id).schema == V1
    assert reg.subjects() == ["orders-value"]
    # A second registry on the same database sees the same state (it is stored, not cached).
    assert SchemaRegistry(any_engine).latest("orders-value").id == second.id


def test_identical_schema_returns_the_existing_version(any_engine: sa.Engine) -> None:
    reg = SchemaRegistry(any_engine)
    first = reg.register("orders-value", V1)
    reg.register("orders-value", V2)
    # Same schema, different whitespace and key order: still version 1, no new version.
    reformatted = json.dumps(json.loads(V1), indent=2, sort_keys=True)
    again = reg.register("orders-value", reformatted)
    assert (again.version, again.id) == (1, first.id)
    assert reg.versions("orders-value") == [1, 2]


def test_schema_ids_are_global_across_subjects(any_engine: sa.Engine) -> None:
    reg = SchemaRegistry(any_engine)
    a = reg.register("a-value", V1)
    b = reg.register("b-value", V1)
    c = reg.register("c-value", avro(("x", "string"), name="Other"))
    assert a.id == b.id and b.version == 1
    assert c.id not in (a.id,)
    assert reg.subjects() == ["a-value", "b-value", "c-value"]


def test_delete_subject_keeps_ids_resolvable(any_engine: sa.Engine) -> None:
    reg = SchemaRegistry(any_engine)
    v1 = reg.register("orders-value", V1)
    reg.set_compatibility("NONE", "orders-value")
    assert reg.delete_subject("orders-value") == [1]
    assert reg.subjects() == []
    with pytest.raises(NotFoundError, match="orders-value"):
        reg.latest("orders-value")
    assert reg.get(v1.id).schema == V1  # old records with this id still decode
    assert reg.compatibility("orders-value") == "BACKWARD"  # its own mode went with it
    # Registering again starts at version 1, and compatibility against the deleted versions
    # no longer applies.
    assert reg.register("orders-value", avro(("other", "string"))).version == 1


def test_compatibility_config_per_subject_and_global(any_engine: sa.Engine) -> None:
    reg = SchemaRegistry(any_engine)
    assert reg.compatibility() == "BACKWARD"
    reg.set_compatibility("full")
    assert reg.compatibility() == "FULL"
    assert reg.compatibility("orders-value") == "FULL"  # falls back to the global mode
    reg.set_compatibility("NONE", "orders-value")
    assert reg.compatibility("orders-value") == "NONE"
    assert reg.compatibility("other") == "FULL"
    with pytest.raises(ConfigError, match="SIDEWAYS"):
        reg.set_compatibility("SIDEWAYS")


def test_not_found_errors_name_the_input(any_engine: sa.Engine) -> None:
    reg = SchemaRegistry(any_engine)
    with pytest.raises(NotFoundError, match="id 42"):
        reg.get(42)
    reg.register("orders-value", V1)
    with pytest.raises(NotFoundError, match="no version 7"):
        reg.version("orders-value", 7)
    with pytest.raises(NotFoundError, match="'nope'"):
        reg.versions("nope")


def test_incompatible_registration_is_rejected_with_reasons(any_engine: sa.Engine) -> None:
    reg = SchemaRegistry(any_engine)
    reg.register("orders-value", V1)
    broken = avro(("id", "long"), ("price", "string"), ("qty", "int"))
    with pytest.raises(IncompatibleSchemaError) as caught:
        reg.register("orders-value", broken)
    err = caught.value
    assert isinstance(err, SchemaError)
    assert err.subject == "orders-value" and err.mode == "BACKWARD"
    assert any("field 'price' changed type from double to string" in r for r in err.reasons)
    assert any("field 'qty' was added without a default" in r for r in err.reasons)
    assert "price" in str(err) and "qty" in str(err) and "fix:" in str(err)
    assert reg.versions("orders-value") == [1]  # nothing was stored


@pytest.mark.parametrize(
    ("schema_type", "text", "problem"),
    [
        ("AVRO", '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "nope"}]}',
         "nope"),
        ("AVRO", "{not json", "not valid JSON"),
        ("JSON", '{"type": "strnig"}', "strnig"),
        ("PROTOBUF", "message Order { int64 id = 1 }", "Expected \";\""),
    ],
)  # fmt: skip
def test_invalid_schema_text_names_subject_and_problem(
    registry: SchemaRegistry, schema_type: str, text: str, problem: str
) -> None:
    with pytest.raises(SchemaError) as caught:
        registry.register("orders-value", text, schema_type)  # type: ignore[arg-type]
    assert "'orders-value'" in str(caught.value)
    assert problem in str(caught.value)
    assert registry.subjects() == []


def test_changing_the_schema_type_of_a_subject_is_incompatible(registry: SchemaRegistry) -> None:
    registry.register("orders-value", V1)
    reasons = registry.check("orders-value", '{"type": "object"}', "JSON")
    assert reasons == ["version 1 is AVRO, the new schema JSON"]
