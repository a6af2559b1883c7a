"""Table properties for both kinds: stored, merged, replaced, and shown by describe_table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa
import pytest

from lakebed.catalog import Catalog, ExternalTable, Table, describe_table
from lakebed.errors import ConfigError, NotFoundError

SCHEMA = pa.schema([("id", pa.int64())])


def register(
    catalog: Catalog,
    properties: Mapping[str, Any] | None = None,
    description: str | None = None,
    replace: bool = False,
) -> ExternalTable:
    return catalog.register_external_table(
        "db.raw",
        location="file:///data/raw",
        format="csv",
        schema=SCHEMA,
        properties=properties,
        description=description,
        replace=replace,
    )


def test_external_properties_are_stored_and_survive_a_new_connection(
    catalog: Catalog, open_catalog: Callable[[], Catalog]
) -> None:
    created = register(catalog, properties={"owner": "ml-team", "lakebed.deprecated": "false"})
    assert created.properties == {"owner": "ml-team", "lakebed.deprecated": "false"}
    loaded = open_catalog().load_table("db.raw")
    assert isinstance(loaded, ExternalTable)
    assert loaded.properties == created.properties
    assert register(catalog, replace=True).properties == {}  # a replace is the whole entry


def test_set_table_properties_merges_for_both_kinds(catalog: Catalog) -> None:
    register(catalog, properties={"owner": "ml-team"})
    catalog.set_table_properties("db.raw", **{"lakebed.deprecated": "true"})
    raw = catalog.load_table("db.raw")
    assert raw.properties == {"owner": "ml-team", "lakebed.deprecated": "true"}

    catalog.create_table("db.clean", SCHEMA, properties={"owner": "ml-team"})
    catalog.set_table_properties("db.clean", tier="gold")
    clean = catalog.load_table("db.clean")
    assert isinstance(clean, Table)
    assert clean.properties["owner"] == "ml-team" and clean.properties["tier"] == "gold"

    with pytest.raises(NotFoundError, match=r"db\.nope"):
        catalog.set_table_properties("db.nope", tier="gold")
    with pytest.raises(ConfigError, match="string pair"):
        register(catalog, properties={"rows": 3}, replace=True)


def test_describe_table_shows_properties_of_both_kinds(catalog: Catalog) -> None:
    register(catalog, properties={"lakebed.deprecated": "true"}, description="raw drops")
    catalog.create_table("db.clean", SCHEMA, properties={"tier": "gold"}, description="clean")

    raw = describe_table(catalog.load_table("db.raw"))
    assert raw["properties"] == {"lakebed.deprecated": "true"}
    assert raw["description"] == "raw drops"
    clean = describe_table(catalog.load_table("db.clean"))
    assert clean["properties"]["tier"] == "gold"
    assert "comment" not in clean["properties"]  # the description is shown once, as such
