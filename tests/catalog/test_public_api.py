"""The curated public names of lakebed.catalog."""

from __future__ import annotations

import lakebed.catalog as catalog
from lakebed.catalog import TableRef, safe_name
from lakebed.errors import ConfigError


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in dir(catalog) if not name.startswith("_")}
    modules = {
        "catalog",
        "describe",
        "errors",
        "external",
        "filters",
        "models",
        "naming",
        "order",
        "partitioning",
        "prefetch",
        "schema",
        "streaming",
        "datafiles",
        "table",
    }
    assert set(catalog.__all__) == public - modules
    for name in catalog.__all__:
        assert getattr(catalog, name).__doc__, f"{name} needs a docstring"


def test_table_ref_and_safe_name() -> None:
    ref = TableRef.parse("web.clicks")
    assert (ref.database, ref.name, str(ref)) == ("web", "clicks", "web.clicks")
    assert safe_name("My Data-2024!") == "my_data_2024"
    assert safe_name("2024 sales") == "_2024_sales"
    for bad in ("web", "a.b.c", "web.2x", "we b.x"):
        try:
            TableRef.parse(bad)
        except ConfigError as err:
            assert repr(bad) in str(err) or bad.split(".")[-1] in str(err)
        else:
            raise AssertionError(f"{bad!r} was accepted")
