"""The quarantine: records a job could not read, kept with their reasons, one table per database.

The house rule is that bad input never crashes a job and is never silently dropped, and that
counts reconcile: rows read = rows written + rows quarantined. Every job that reads records
(the crawler's convert, batch and stream ingestion) hands what it could not parse to
:class:`Quarantine`, which appends it to the Iceberg table ``<database>._quarantine``:

=================  ==========================================================================
``target``         the table the record was bound for, ``"db.table"``
``job``            what met the record: ``"crawl"``, ``"ingest"``, ...
``run_id``         the write the record belongs to (the crawler's commit id), or null; a job
                   whose data commit never happened takes its records back by it
``source``         the file or stream the record came from (URI or key)
``location``       where in the source: ``"line 17"``, ``"row 4"``, ``"byte 4096"``
``reason``         why it could not be read
``raw``            the record's bytes decoded as UTF-8, undecodable bytes replaced by U+FFFD;
                   records longer than :data:`RAW_LIMIT` bytes are cut there (the text says so)
``quarantined_at`` when it was quarantined (timestamp, UTC)
=================  ==========================================================================

``raw`` is text rather than base64 so a person can read it in SQL
(``SELECT reason, raw FROM web._quarantine``); the exact bytes are still in the source, which
``source`` and ``location`` point to.

The name starts with an underscore, which no crawled or user-derived table name does, so it
never clashes with a data table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from lakebed.catalog.naming import TableRef, check_name
from lakebed.errors import AlreadyExistsError, ConfigError
from lakebed.formats.base import BadRecord

if TYPE_CHECKING:
    from lakebed.catalog import Catalog, Table

#: The quarantine table's name in every database.
QUARANTINE_TABLE = "_quarantine"
#: Raw bytes kept per record; a longer record is cut and marked.
RAW_LIMIT = 64 << 10
#: Records turned into one Arrow batch at a time (the Python objects are let go after each).
BATCH_RECORDS = 10_000

SCHEMA = pa.schema(
    [
        pa.field("target", pa.string()),
        pa.field("job", pa.string()),
        pa.field("run_id", pa.string()),
        pa.field("source", pa.string()),
        pa.field("location", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("raw", pa.string()),
        pa.field("quarantined_at", pa.timestamp("us", tz="UTC")),
    ]
)


def raw_text(raw: bytes) -> str:
    """``raw`` as the quarantine stores it: UTF-8 with replacement, cut at :data:`RAW_LIMIT`."""
    if len(raw) <= RAW_LIMIT:
        return raw.decode("utf-8", errors="replace")
    kept = raw[:RAW_LIMIT].decode("utf-8", errors="replace")
    return f"{kept}…[cut: {len(raw) - RAW_LIMIT} more bytes]"


def is_reserved(name: str) -> bool:
    """Whether a table name is lakebed's own (the quarantine), not a data table's."""
    return name == QUARANTINE_TABLE


class Quarantine:
    """The quarantine table of one database; created on the first :meth:`add`.

    ```python
    quarantine = Quarantine(catalog, "web")
    quarantine.add(bad_records, target="web.clicks", job="crawl")  # one snapshot
    quarantine.read("web.clicks")                                  # a pyarrow Table
    ```
    """

    def __init__(self, catalog: Catalog, database: str) -> None:
        self.catalog = catalog
        self.database = check_name(database, "database")
        self.ident = f"{database}.{QUARANTINE_TABLE}"

    def __repr__(self) -> str:
        return f"Quarantine({self.ident!r})"

    def _table(self, *, create: bool) -> Table | None:
        from lakebed.catalog import Table

        if not self.catalog.table_exists(self.ident):
            if not create:
                return None
            self.catalog.create_database(self.database, exist_ok=True)
            try:
                return self.catalog.create_table(
                    self.ident,
                    SCHEMA,
                    description=f"records of database {self.database!r} that could not be "
                    "read, with their reasons",
                    exist_ok=True,
                )
            except AlreadyExistsError:
                pass  # created by another writer at the same moment
        table = self.catalog.load_table(self.ident)
        if not isinstance(table, Table):
            raise ConfigError(
                f"{self.ident} is an external table, but the name is reserved for the quarantine",
                fix=f"drop it (catalog.drop_table({self.ident!r})); its files are kept",
            )
        return table

    def add(
        self,
        records: Iterable[BadRecord],
        *,
        target: str,
        job: str,
        run_id: str | None = None,
        source: str | None = None,
    ) -> int:
        """Quarantine ``records`` bound for ``target`` in one snapshot; returns how many.

        ``source``, when given, replaces each record's own source (a reader knows the file by
        the key it was given; the caller may know its full URI). Nothing is written for no
        records. Records are turned into Arrow batches of :data:`BATCH_RECORDS`, so the
        memory held is the compact columns, not the record objects.
        """
        ref = TableRef.parse(target)
        if ref.database != self.database:
            raise ConfigError(
                f"target {target!r} is not in database {self.database!r}, whose quarantine this is",
                fix=f"use Quarantine(catalog, {ref.database!r}) for it",
            )
        if not job:
            raise ConfigError("job must name what met the records", fix="e.g. job='crawl'")
        now = datetime.now(UTC)
        batches = list(self._batches(records, str(ref), job, run_id, source, now))
        count = sum(b.num_rows for b in batches)
        if not count:
            return 0
        table = self._table(create=True)
        assert table is not None
        table.append(pa.Table.from_batches(batches, schema=SCHEMA), properties={"lakebed.job": job})
        return count

    @staticmethod
    def _batches(
        records: Iterable[BadRecord],
        target: str,
        job: str,
        run_id: str | None,
        source: str | None,
        now: datetime,
    ) -> Iterator[pa.RecordBatch]:
        columns: dict[str, list[str]] = {"source": [], "location": [], "reason": [], "raw": []}

        def flush() -> pa.RecordBatch:
            n = len(columns["source"])
            batch = pa.record_batch(
                [
                    pa.array([target] * n, pa.string()),
                    pa.array([job] * n, pa.string()),
                    pa.array([run_id] * n, pa.string()),
                    pa.array(columns["source"], pa.string()),
                    pa.array(columns["location"], pa.string()),
                    pa.array(columns["reason"], pa.string()),
                    pa.array(columns["raw"], pa.string()),
                    pa.array([now] * n, SCHEMA.field("quarantined_at").type),
                ],
                schema=SCHEMA,
            )
            for values in columns.values():
                values.clear()
            return batch

        for record in records:
            columns["source"].append(source or record.source)
            columns["location"].append(record.location)
            columns["reason"].append(record.reason)
            columns["raw"].append(raw_text(record.raw))
            if len(columns["source"]) >= BATCH_RECORDS:
                yield flush()
        if columns["source"]:
            yield flush()

    def read(self, target: str | None = None) -> pa.Table:
        """The quarantined records, all or those bound for ``target`` ("db.table")."""
        table = self._table(create=False)
        if table is None:
            return SCHEMA.empty_table()
        if target is None:
            return table.scan()
        return table.scan(filter=f"target = '{TableRef.parse(target)}'")

    def discard(self, run_id: str) -> None:
        """Remove the records of ``run_id``, in one snapshot (a job whose data commit never
        happened takes its records back, so a retry does not quarantine them twice)."""
        self._delete(f"run_id = {_quoted(run_id)}")

    def supersede(self, *, target: str, job: str, keep: Iterable[str]) -> None:
        """Remove ``job``'s records for ``target`` except those of the runs in ``keep``, in one
        snapshot: a job that rewrote ``target`` from scratch re-met every bad record, so the
        records of its earlier runs would count them twice."""
        kept = ", ".join(_quoted(run) for run in keep)
        condition = f"target = {_quoted(str(TableRef.parse(target)))} AND job = {_quoted(job)}"
        self._delete(f"{condition} AND run_id NOT IN ({kept})" if kept else condition)

    def _delete(self, condition: str) -> None:
        table = self._table(create=False)
        if table is None or not table.scan(filter=condition, limit=1).num_rows:
            return  # nothing to remove: no empty snapshot
        table.overwrite(SCHEMA.empty_table(), filter=condition)


def _quoted(value: str) -> str:
    """``value`` as a filter string literal (run ids and job names have no quotes)."""
    if not value or "'" in value:
        raise ConfigError(f"invalid value {value!r} in a quarantine filter", fix="drop the quotes")
    return f"'{value}'"
