"""Applying the crawl's decisions as external tables (files registered in place)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakebed.crawl.reconcile import Retirement, TableWork
from lakebed.crawl.report import TableResult
from lakebed.crawl.schema_merge import policy_outcome
from lakebed.errors import AlreadyExistsError
from lakebed.storage.base import ObjectStore

if TYPE_CHECKING:
    from lakebed.catalog import Catalog

#: Table property the crawler sets to "true" on a table whose files are all gone
#: (removed_policy="deprecate") and back to "false" when files come back.
DEPRECATED_PROPERTY = "lakebed.deprecated"


def table_location(store: ObjectStore, prefix: str, folder: tuple[str, ...]) -> str:
    """The URI of a table's folder."""
    key = "/".join(p for p in (prefix, *folder) if p)
    return store.uri(key)


def partition_count(work: TableWork) -> int:
    """Distinct partition folders among the table's files (0 when unpartitioned)."""
    table = work.table
    if not table.partition_columns:
        return 0
    return len({table.partition_folder(f) for f in table.files})


def result_for(work: TableWork, kind: str) -> TableResult:
    """A TableResult with the facts every writer reports."""
    table = work.table
    return TableResult(
        ident=work.ident,
        action=work.action,
        format=table.format,
        kind="iceberg" if kind == "iceberg" else "external",
        files=len(table.files) + len(work.retained),
        partition_columns=[c.name for c in table.partition_columns],
        partitions=partition_count(work),
        notes=list(work.notes),
    )


def register_external(
    catalog: Catalog, store: ObjectStore, prefix: str, work: TableWork, schema_policy: str
) -> TableResult:
    """Create or update the external table of ``work`` (one catalog write, or none)."""
    result = result_for(work, "external")
    table = work.table
    old = None
    properties: dict[str, str] = {}
    if work.exists:
        current = catalog.load_table(work.ident)
        if current.kind != "external":
            raise AlreadyExistsError(
                f"table {work.ident} exists as an Iceberg table",
                fix="crawl with convert=True, or drop it to register the files in place",
            )
        old = current.schema
        properties = dict(current.properties)
        if properties.get(DEPRECATED_PROPERTY) == "true":
            properties[DEPRECATED_PROPERTY] = "false"
        if work.adopted and current.location != table_location(store, prefix, table.folder):
            raise AlreadyExistsError(
                f"table {work.ident} already covers {current.location}",
                fix="pass table_prefix to crawl these files under other names",
            )
    if work.action == "unchanged":
        return result
    schema, changes, applied = policy_outcome(old, table.schema, schema_policy)
    result.schema_changes, result.schema_applied = changes, applied
    location = table_location(store, prefix, table.folder)
    catalog.register_external_table(
        work.ident,
        location=location,
        format=table.format,
        schema=schema,
        files=[store.uri(f.key) for f in table.files] + [store.uri(k) for k in work.retained],
        partition_columns={c.name: c.type for c in table.partition_columns},
        options=table.options,
        description=f"crawled from {location}",
        properties=properties,
        replace=work.exists,
    )
    return result


def retire_external(catalog: Catalog, retirement: Retirement) -> None:
    """Delete or mark deprecated an external table whose files are all gone."""
    if retirement.action == "deleted":
        catalog.drop_table(retirement.ident)
    elif retirement.action == "deprecated":
        catalog.set_table_properties(retirement.ident, **{DEPRECATED_PROPERTY: "true"})
