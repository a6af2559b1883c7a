"""What a crawl did: per-table results, file counts, skipped files with their reasons."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

TableAction = Literal["created", "updated", "unchanged", "deprecated", "deleted"]


@dataclass
class TableResult:
    """One table the crawl touched or looked at."""

    ident: str  # "db.table"
    action: TableAction
    format: str | None
    kind: Literal["external", "iceberg"] = "external"
    files: int = 0
    #: Partition column names, outermost first.
    partition_columns: list[str] = field(default_factory=list)
    #: Distinct partitions (partition value combinations) among the files.
    partitions: int = 0
    #: Schema differences found ("added column x: int64"); ``schema_applied`` says whether the
    #: table took them (False under schema_policy="log", or partly under "add_columns").
    schema_changes: list[str] = field(default_factory=list)
    schema_applied: bool = True
    #: Rows written (convert=True only).
    rows: int | None = None
    #: Records that could not be read and went to the database's quarantine (convert=True
    #: only; rows read = ``rows`` + ``bad_records``).
    bad_records: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class CrawlReport:
    """The outcome of :meth:`Crawler.crawl`.

    ``files_scanned`` counts the objects listed under the prefix; of those, ``files_new`` and
    ``files_changed`` were opened and inspected (``files_inspected``), ``files_unchanged`` were
    taken from the previous crawl's state. ``files_removed`` were known but are gone. ``skipped``
    lists (key, reason) for files that are not tabular, corrupt or unreadable. ``bad_records``
    counts the records a converting crawl quarantined (in ``<database>._quarantine``).
    """

    database: str
    source: str  # store URL + prefix
    tables: list[TableResult] = field(default_factory=list)
    files_scanned: int = 0
    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    files_inspected: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    bad_records: int = 0
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def table(self, ident: str) -> TableResult:
        """The result for ``ident`` ("db.table" or just "table")."""
        full = ident if "." in ident else f"{self.database}.{ident}"
        for result in self.tables:
            if result.ident == full:
                return result
        names = ", ".join(r.ident for r in self.tables) or "none"
        raise KeyError(f"no table {full!r} in this crawl report (tables: {names})")

    def by_action(self, action: TableAction) -> list[str]:
        """Identifiers of the tables with ``action``."""
        return [r.ident for r in self.tables if r.action == action]

    def notes(self) -> list[str]:
        """Lines for a person: general messages, then each skipped file and why."""
        lines = list(self.messages)
        lines.extend(f"skipped {key}: {reason}" for key, reason in self.skipped)
        for result in self.tables:
            lines.extend(f"{result.ident}: {note}" for note in result.notes)
            if result.schema_changes and not result.schema_applied:
                lines.extend(
                    f"{result.ident}: schema change not applied: {c}" for c in result.schema_changes
                )
        return lines

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per table, for a CLI table."""
        return [
            {
                "table": r.ident,
                "action": r.action,
                "kind": r.kind,
                "format": r.format or "",
                "files": r.files,
                "partitions": ", ".join(r.partition_columns),
                "schema changes": len(r.schema_changes),
                "bad records": r.bad_records,
            }
            for r in self.tables
        ]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        data = asdict(self)
        data["skipped"] = [{"key": k, "reason": r} for k, r in self.skipped]
        data["notes"] = self.notes()
        return data
