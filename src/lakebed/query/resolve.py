"""Table references in a query → DuckDB views over the lake, and the query rewritten to use them.

Every ``db.table`` in the query is resolved through the catalog. Each reference gets its own
view (named ``__lakebed_<n>_<db>_<table>``), because two references to the same table may ask
for different snapshots or prune different files. The reference in the tree is replaced by the
view, keeping the alias (or the table's own name as alias, so ``t.col`` and ``db.t.col`` still
resolve). What was planned for each reference is returned as a :class:`TablePlan`.

Within one query a table is loaded from the catalog once. Scan plans are kept across queries
in a :class:`PlanCache`, keyed by what makes a plan immutable — the table's UUID, the snapshot
id, the current schema id and the pushed-down filter — so a new commit or schema change is
always planned afresh and every query sees the latest state.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
from sqlglot import exp

from lakebed.errors import NotFoundError, QueryError
from lakebed.query.dialect import TimeTravel, pop_time_travel
from lakebed.query.external import SkippedRows, register_external
from lakebed.query.pushdown import has_where, pushdown_filter
from lakebed.query.sources import FileSystemSpec, Method, Views, register_snapshot

if TYPE_CHECKING:
    from lakebed.catalog import Catalog, ExternalTable, ScanPlan, Table

VIEW_PREFIX = "__lakebed_"
#: What a scan plan depends on: the table's UUID, the snapshot asked for (None: the current
#: one, read with the current schema) and the one it resolved to, the current schema (a rename
#: commits no snapshot), and the pushed-down filter.
PlanKey = tuple[str, int | None, int | None, int, str | None]


class PlanCache:
    """Scan plans of immutable snapshots, shared by an engine's queries (thread-safe LRU)."""

    def __init__(self, size: int = 256) -> None:
        self._plans: OrderedDict[PlanKey, tuple[ScanPlan, str | None]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: PlanKey) -> tuple[ScanPlan, str | None] | None:
        with self._lock:
            found = self._plans.get(key)
            if found is not None:
                self._plans.move_to_end(key)
            return found

    def put(self, key: PlanKey, plan: tuple[ScanPlan, str | None]) -> None:
        with self._lock:
            self._plans[key] = plan
            if len(self._plans) > self._size:
                self._plans.popitem(last=False)


@dataclass(frozen=True)
class TablePlan:
    """How one table reference of a query is read: which snapshot, filter, files and method."""

    ident: str
    kind: str  # "iceberg" or "external"
    view: str
    method: Method
    snapshot_id: int | None = None
    filter: str | None = None
    files: list[str] = field(default_factory=list)
    #: Counts the malformed rows the read skips (CSV/TSV external tables), once it has run.
    skipped: SkippedRows | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Reference:
    """One ``db.table`` reference found in a query tree."""

    node: exp.Table
    database: str
    name: str

    @property
    def ident(self) -> str:
        return f"{self.database}.{self.name}"


def cte_names(tree: exp.Expr) -> set[str]:
    """Names the query defines itself with WITH (lowercased)."""
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def find_references(tree: exp.Expr) -> list[Reference]:
    """The lake tables ``tree`` reads, in order; unqualified unknown names are NotFoundError."""
    ctes = cte_names(tree)
    found: list[Reference] = []
    for node in tree.find_all(exp.Table):
        if not isinstance(node.this, exp.Identifier):
            continue  # a table function such as read_parquet(...) or range(10)
        if node.db:
            found.append(Reference(node, node.db, node.name))
            continue
        if node.name.lower() in ctes:
            continue
        if node.this.quoted and ("/" in node.name or "." in node.name):
            continue  # DuckDB reads a quoted file path in FROM directly
        raise NotFoundError(
            f"table {node.name!r} is not qualified with a database",
            fix=f"write it as <database>.{node.name}",
        )
    return found


def resolve_table(catalog: Catalog, ref: Reference) -> Table | ExternalTable:
    """Load the catalog entry ``ref`` names; NotFoundError lists the database's tables."""
    candidates = [ref.ident]
    if ref.ident.lower() != ref.ident:
        candidates.append(ref.ident.lower())
    for ident in candidates:
        try:
            return catalog.load_table(ident)
        except NotFoundError:
            continue
    if not catalog.database_exists(ref.database) and not catalog.database_exists(
        ref.database.lower()
    ):
        known = ", ".join(catalog.list_databases()) or "none"
        raise NotFoundError(
            f"table {ref.ident} not found: database {ref.database!r} does not exist "
            f"(databases: {known})",
            fix="check the database name, or create it with catalog.create_database()",
        )
    database = ref.database if catalog.database_exists(ref.database) else ref.database.lower()
    tables = ", ".join(catalog.list_tables(database)) or "none"
    raise NotFoundError(
        f"table {ref.ident} not found; tables in database {database!r}: {tables}",
        fix="check the table name, or create it with CREATE TABLE ... AS SELECT",
    )


def view_name(index: int, ref: Reference) -> str:
    """A safe, unique DuckDB view name for the ``index``-th reference."""
    safe = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in ref.ident)
    return f"{VIEW_PREFIX}{index}_{safe}"


def plan_reference(
    catalog: Catalog,
    ref: Reference,
    travel: TimeTravel,
    loaded: dict[str, Table | ExternalTable] | None = None,
) -> tuple[Table | ExternalTable, str | None]:
    """The catalog entry and the pushed-down filter for one reference.

    ``loaded`` holds the entries this query already loaded, so a table read twice (a self
    join) is loaded once, and both references read the same snapshot.
    """
    entry = loaded.get(ref.ident) if loaded is not None else None
    if entry is None:
        entry = resolve_table(catalog, ref)
        if loaded is not None:
            loaded[ref.ident] = entry
    if entry.kind != "iceberg":
        if travel.snapshot_id is not None or travel.as_of is not None:
            raise QueryError(
                f"{ref.ident} is an external table: it has no snapshots to travel to",
                fix="remove FOR VERSION/TIMESTAMP AS OF, or query an Iceberg table",
            )
        return entry, None
    if travel.snapshot_id is not None or travel.as_of is not None:
        # An older snapshot may have other columns; push nothing rather than guess.
        return entry, None
    if not has_where(ref.node):
        return entry, None
    return entry, pushdown_filter(ref.node, entry.schema)


def register_reference(
    views: Views,
    entry: Table | ExternalTable,
    ref: Reference,
    travel: TimeTravel,
    row_filter: str | None,
    view: str,
    filesystem: FileSystemSpec | None,
    planned: PlanCache | None = None,
) -> TablePlan:
    """Add ``view`` for ``entry`` to ``views``; returns the plan used.

    ``planned`` holds scan plans of immutable snapshots (this engine's, across queries), so a
    snapshot read again with the same schema and filter is not planned again.
    """
    try:
        return _register(views, entry, ref, travel, row_filter, view, filesystem, planned)
    except duckdb.Error as err:
        raise QueryError(
            f"cannot read table {ref.ident}: {err}",
            fix="check that the table's files exist and match its format and options",
        ) from err


def _register(
    views: Views,
    entry: Table | ExternalTable,
    ref: Reference,
    travel: TimeTravel,
    row_filter: str | None,
    view: str,
    filesystem: FileSystemSpec | None,
    planned: PlanCache | None,
) -> TablePlan:
    if entry.kind != "iceberg":
        method, files, skipped = register_external(views, view, entry, filesystem)  # type: ignore[arg-type]
        return TablePlan(ref.ident, "external", view, method, files=files, skipped=skipped)
    table: Table = entry  # type: ignore[assignment]
    snapshot_id = travel.snapshot_id
    if travel.as_of is not None:
        snapshot_id = table.snapshot_as_of(travel.as_of).snapshot_id
    keyed_id = snapshot_id
    if keyed_id is None:  # the current snapshot, read with the current schema
        current = table.current_snapshot()
        keyed_id = current.snapshot_id if current is not None else None
    metadata = table.iceberg.metadata
    key = (str(metadata.table_uuid), snapshot_id, keyed_id, metadata.current_schema_id, row_filter)
    cached = planned.get(key) if planned is not None else None
    if cached is not None:
        plan, row_filter = cached
    else:
        plan, row_filter = _plan(table, snapshot_id, row_filter)
        if planned is not None:
            planned.put(key, (plan, row_filter))
    method = register_snapshot(
        views,
        view,
        table,
        files=plan.files,
        schema=plan.schema,
        has_deletes=plan.has_deletes,
        snapshot_id=plan.snapshot_id,
        row_filter=row_filter,
        filesystem=filesystem,
        time_travel=travel.snapshot_id is not None or travel.as_of is not None,
    )
    return TablePlan(
        ref.ident, "iceberg", view, method, plan.snapshot_id, row_filter, list(plan.files)
    )


def _plan(
    table: Table, snapshot_id: int | None, row_filter: str | None
) -> tuple[ScanPlan, str | None]:
    """The files to read, pruned by ``row_filter`` when the catalog can bind it; and the filter
    used (None when it was dropped)."""
    if row_filter is not None:
        try:
            return table.plan_files(snapshot_id=snapshot_id, filter=row_filter), row_filter
        except NotFoundError:
            raise
        except Exception:
            pass  # pruning is an optimisation: a filter it cannot bind is dropped
    return table.plan_files(snapshot_id=snapshot_id), None


def rewrite(ref: Reference, view: str) -> None:
    """Point ``ref``'s node at ``view``, keeping its alias (or its name as the alias)."""
    node = ref.node
    alias = node.args.get("alias")
    if alias is None:
        alias = exp.TableAlias(this=exp.to_identifier(ref.name))
    replacement = exp.Table(this=exp.to_identifier(view, quoted=True), alias=alias)
    for key in ("joins", "pivots", "laterals", "sample", "hints"):
        if node.args.get(key):
            replacement.set(key, node.args[key])
    node.replace(replacement)


def unqualify_columns(tree: exp.Expr, refs: list[Reference]) -> None:
    """Turn ``db.t.col`` column references into ``t.col`` (the view keeps alias ``t``)."""
    owned = {(r.database.lower(), r.name.lower()) for r in refs if r.node.args.get("alias") is None}
    for column in tree.find_all(exp.Column):
        db = column.args.get("db")
        if db is not None and (db.name.lower(), column.table.lower()) in owned:
            column.set("db", None)
            column.set("catalog", None)


def bind(
    views: Views,
    catalog: Catalog,
    tree: exp.Expr,
    filesystem: FileSystemSpec | None,
    plans_cache: PlanCache | None = None,
) -> list[TablePlan]:
    """Register a view for every lake table ``tree`` reads and rewrite ``tree`` to use them."""
    refs = find_references(tree)
    plans: list[TablePlan] = []
    pending: list[tuple[Reference, str]] = []
    loaded: dict[str, Table | ExternalTable] = {}
    planned = plans_cache if plans_cache is not None else PlanCache()
    for index, ref in enumerate(refs):
        travel = pop_time_travel(ref.node)
        view = view_name(index, ref)
        entry, row_filter = plan_reference(catalog, ref, travel, loaded)
        plans.append(
            register_reference(views, entry, ref, travel, row_filter, view, filesystem, planned)
        )
        pending.append((ref, view))
    unqualify_columns(tree, refs)
    for ref, view in pending:
        rewrite(ref, view)
    return plans
