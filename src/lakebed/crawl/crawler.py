"""The crawler: list a prefix, inspect what is new, group files into tables, register them.

A crawl lists the objects under the prefix, compares them with the state of the previous crawl
(one query), opens only new and changed objects (a few at a time, in threads, since most of the
time is spent waiting on storage), groups all known tabular files into tables, and writes each
table that changed once: as an external table over the files in place, or, with ``convert``, as
an Iceberg table. Nothing about a single file is fatal: a file that cannot be read is reported
in ``CrawlReport.skipped`` with its reason, and a record a converting crawl cannot read goes to
the database's quarantine. The state is saved last, in one transaction; a converting crawl
writes each commit ahead and the next crawl settles what a crash left pending
(:mod:`lakebed.crawl.recovery`), so no file is converted twice.

Table names derived from files never start with ``_``: those are lakebed's own
(``<database>._quarantine``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pyarrow.fs as pafs

from lakebed.crawl.convert import ConvertRun, convert_table, retire_iceberg
from lakebed.crawl.external import register_external, retire_external
from lakebed.crawl.grouping import FileFacts, PlannedTable, file_stem, plan_tables
from lakebed.crawl.inspect import Inspection, inspect_object
from lakebed.crawl.options import CrawlOptions
from lakebed.crawl.partitions import table_name
from lakebed.crawl.reconcile import Retirement, TableWork, plan_work
from lakebed.crawl.recovery import recover
from lakebed.crawl.report import CrawlReport, TableResult
from lakebed.crawl.schema_merge import fingerprint
from lakebed.crawl.state import CrawlState, FileState, ListingDiff, Scope, diff_listing
from lakebed.errors import AlreadyExistsError, LakebedError, NotFoundError
from lakebed.quarantine import Quarantine
from lakebed.storage.base import ObjectInfo, ObjectStore

if TYPE_CHECKING:
    import pyarrow as pa

    from lakebed.catalog import Catalog

ProgressCallback = Callable[[int, int], None]
LOCAL_WORKERS = 2
REMOTE_WORKERS = 8


def _hidden(parts: Sequence[str]) -> bool:
    """Marker and temporary files (``_SUCCESS``, ``.crc``, ``_temporary/``) are not data."""
    return any(p.startswith((".", "_")) for p in parts)


def _folder_exists(store: ObjectStore, prefix: str) -> bool:
    try:
        fs, root = store.arrow_filesystem()
        path = "/".join(p for p in (root.rstrip("/"), prefix) if p)
        return fs.get_file_info(path).type != pafs.FileType.NotFound
    except (OSError, LakebedError):
        return False


def list_objects(store: ObjectStore, prefix: str) -> tuple[list[ObjectInfo], bool]:
    """The visible objects under ``prefix`` (or the one object it names) and whether the
    prefix is a single object. NotFoundError when the prefix names nothing at all."""
    listed = list(store.list(prefix + "/" if prefix else ""))
    if not listed:
        if prefix:
            try:
                return [store.head(prefix)], True
            except NotFoundError:
                pass
        if not _folder_exists(store, prefix):
            raise NotFoundError(
                f"nothing to crawl at {store.uri(prefix)}: no such folder or object",
                fix="check the path (list what exists with `lakebed ls`)",
            )
        return [], False
    start = len(prefix) + 1 if prefix else 0
    visible = [
        info
        for info in listed
        if not info.key.endswith("/") and not _hidden(info.key[start:].split("/"))
    ]
    return visible, False


def _inspect_safely(store: ObjectStore, key: str, sample_rows: int) -> Inspection:
    try:
        return inspect_object(store, key, sample_rows=sample_rows)
    except Exception as err:  # a bug in one reader must not end the crawl; report it instead
        return Inspection(key, skip_reason=f"unreadable: {type(err).__name__}: {err}")


class Crawler:
    """Infers tables from files, as a Glue crawler does; see :meth:`crawl`."""

    def __init__(self, catalog: Catalog, *, workers: int | None = None) -> None:
        """``workers``: files inspected at once; by default 2 on local folders (parsing holds
        the interpreter lock, so more threads only add contention) and 8 on object stores,
        where most of the time is spent waiting for the network."""
        self.catalog = catalog
        self.workers = workers
        self._state: CrawlState | None = None

    @property
    def state(self) -> CrawlState:
        """The crawl state store, in the catalog's SQL database."""
        if self._state is None:
            self._state = CrawlState(self.catalog.engine)
        return self._state

    def crawl(
        self,
        store: ObjectStore,
        prefix: str = "",
        *,
        database: str,
        options: CrawlOptions | None = None,
        progress: ProgressCallback | None = None,
    ) -> CrawlReport:
        """Crawl ``prefix`` of ``store`` into tables of ``database`` (created if missing).

        Re-crawling the same prefix into the same database inspects only new and changed
        files and applies ``options.schema_policy`` and ``options.removed_policy``.
        ``progress(done, total)`` is called as files are inspected.
        """
        options = options or CrawlOptions()
        started = time.perf_counter()
        prefix = prefix.strip("/")
        report = CrawlReport(database=database, source=store.uri(prefix))
        listing, single = list_objects(store, prefix)
        listing = self._without_warehouse(store, listing, report)
        self.catalog.create_database(database, exist_ok=True)
        scope = Scope(store.url, database, prefix)
        report.messages.extend(recover(self.catalog, self.state, scope))
        known = self.state.load(scope)
        diff = diff_listing(listing, known)
        removed_policy = options.removed_policy
        if options.new_folders_only:
            removed_policy = "log"
            self._only_new_folders(diff, known, report)
        report.files_scanned = len(listing)
        report.files_new, report.files_changed = len(diff.new), len(diff.changed)
        report.files_unchanged, report.files_removed = len(diff.unchanged), len(diff.removed)

        current, new_schemas, sampled_bad = self._inspect(store, diff, options, progress, report)
        schemas = self._schemas(current, new_schemas)
        planned = plan_tables(
            self._facts(current, prefix, single),
            schemas,
            prefix_name=file_stem(prefix.rsplit("/", 1)[-1]) if prefix else "",
            threshold=options.similarity,
        )

        def ident_of(table: PlannedTable) -> str:
            return f"{database}.{table_name(options.table_prefix + table.name)}"

        existing = set(self.catalog.list_tables(database))
        works, retirements = plan_work(planned, ident_of, known, diff, existing, removed_policy)
        run = ConvertRun(
            self.catalog,
            store,
            prefix,
            scope,
            self.state,
            Quarantine(self.catalog, database),
            options.schema_policy,
            current,
            schemas,
        )
        failed_tables, conflicts = self._write(run, works, options, sampled_bad, report)
        failed_files = run.failed
        for retirement in retirements:
            report.tables.append(self._retire(retirement))

        works = [w for w in works if w.ident not in conflicts]  # their files stay unassigned
        writes, deletes = self._state_changes(
            current, known, works, diff, removed_policy, failed_files, failed_tables
        )
        # Commits of tables whose state is not saved stay pending; the next crawl settles them.
        done = [
            commit_id
            for ident, ids in run.commit_ids.items()
            if ident not in failed_tables and ident not in conflicts
            for commit_id in ids
        ]
        self.state.save(scope, writes, delete=deletes, schemas=new_schemas, done=done)
        report.bad_records = sum(r.bad_records for r in report.tables)
        reasons = {k: s.skip_reason for k, s in current.items() if s.skip_reason}
        reasons.update(dict(failed_files))
        report.skipped = sorted((k, r) for k, r in reasons.items() if r)
        if not listing:
            report.messages.append(f"no files under {report.source}; nothing to catalog")
        elif not planned:
            report.messages.append(f"no tabular files under {report.source}")
        report.seconds = time.perf_counter() - started
        return report

    # -- steps ---------------------------------------------------------------------------------

    def _without_warehouse(
        self, store: ObjectStore, listing: list[ObjectInfo], report: CrawlReport
    ) -> list[ObjectInfo]:
        """Leave out the catalog's own Iceberg files when the crawl covers the warehouse."""
        warehouse = getattr(self.catalog, "warehouse", None)
        if not warehouse:
            return listing
        inside = warehouse.rstrip("/") + "/"
        kept = [info for info in listing if not store.uri(info.key).startswith(inside)]
        if len(kept) < len(listing):
            report.messages.append(
                f"left out {len(listing) - len(kept)} file(s) of the Iceberg warehouse {warehouse}"
            )
        return kept

    @staticmethod
    def _only_new_folders(
        diff: ListingDiff, known: dict[str, FileState], report: CrawlReport
    ) -> None:
        """Keep only files in folders the last crawl did not see; the rest stays as it was."""
        folders = {key.rpartition("/")[0] for key in known}
        ignored = [i for i in diff.new if i.key.rpartition("/")[0] in folders]
        diff.new = [i for i in diff.new if i.key.rpartition("/")[0] not in folders]
        diff.unchanged.extend(known[i.key] for i in diff.changed)
        if ignored or diff.changed:
            report.messages.append(
                f"new_folders_only: left {len(ignored)} new and {len(diff.changed)} changed "
                "file(s) in already crawled folders alone"
            )
        diff.changed = []

    def _inspect(
        self,
        store: ObjectStore,
        diff: ListingDiff,
        options: CrawlOptions,
        progress: ProgressCallback | None,
        report: CrawlReport,
    ) -> tuple[dict[str, FileState], dict[str, pa.Schema], dict[str, int]]:
        """Inspect new and changed objects; returns the states of all present files, the
        schemas seen for the first time, by fingerprint, and the bad records met while
        sampling, by key."""
        todo = diff.new + diff.changed
        total = len(todo)
        if progress:
            progress(0, total)
        current = {s.key: s for s in diff.unchanged}
        schemas: dict[str, pa.Schema] = {}
        sampled_bad: dict[str, int] = {}

        def run(info: ObjectInfo) -> Inspection:
            return _inspect_safely(store, info.key, options.sample_rows)

        default = LOCAL_WORKERS if store.url.startswith("file://") else REMOTE_WORKERS
        workers = min(self.workers or default, total)
        with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
            results = pool.map(run, todo) if workers > 1 else map(run, todo)
            for done, (info, found) in enumerate(zip(todo, results, strict=True), 1):
                state = FileState.seen(info).with_(
                    format=found.format, options=found.options, skip_reason=found.skip_reason
                )
                if found.schema is not None and found.skip_reason is None:
                    print_ = fingerprint(found.schema)
                    schemas.setdefault(print_, found.schema)
                    state = state.with_(fingerprint=print_)
                current[info.key] = state
                if found.bad_sampled:
                    sampled_bad[info.key] = found.bad_sampled
                if progress:
                    progress(done, total)
        report.files_inspected = total
        return current, schemas, sampled_bad

    def _schemas(
        self, current: dict[str, FileState], new: dict[str, pa.Schema]
    ) -> dict[str, pa.Schema]:
        wanted = {s.fingerprint for s in current.values() if s.fingerprint} - set(new)
        schemas = dict(new)
        schemas.update(self.state.load_schemas(wanted))
        return schemas

    @staticmethod
    def _facts(current: dict[str, FileState], prefix: str, single: bool) -> list[FileFacts]:
        start = len(prefix) + 1 if prefix else 0
        facts = []
        for key, state in current.items():
            if not state.fingerprint or not state.format:
                continue
            rel = (key.rsplit("/", 1)[-1],) if single else tuple(key[start:].split("/"))
            options = tuple(sorted(state.options.items()))
            facts.append(FileFacts(key, rel, state.format, state.fingerprint, options))
        return facts

    def _write(
        self,
        run: ConvertRun,
        works: list[TableWork],
        options: CrawlOptions,
        sampled_bad: dict[str, int],
        report: CrawlReport,
    ) -> tuple[set[str], set[str]]:
        """Write every table that needs it; returns the idents whose write failed, and those
        left alone because another table holds the name."""
        failed: set[str] = set()
        conflicts: set[str] = set()
        for work in works:
            try:
                if options.convert:
                    result = convert_table(run, work)
                else:
                    result = register_external(
                        self.catalog, run.store, run.prefix, work, options.schema_policy
                    )
                    unread = sum(sampled_bad.get(f.key, 0) for f in work.table.files)
                    if unread:
                        result.notes.append(
                            f"{unread} unreadable record(s) in the rows sampled from new files; "
                            "they stay in the files (convert=True quarantines them)"
                        )
            except LakebedError as err:
                (conflicts if isinstance(err, AlreadyExistsError) else failed).add(work.ident)
                result = TableResult(
                    work.ident,
                    "unchanged",
                    work.table.format,
                    kind="iceberg" if options.convert else "external",
                    files=len(work.table.files),
                    notes=[f"not written: {err}"],
                )
            report.tables.append(result)
        return failed, conflicts

    def _retire(self, retirement: Retirement) -> TableResult:
        result = TableResult(
            retirement.ident, retirement.action, retirement.format, notes=list(retirement.notes)
        )
        try:
            table = self.catalog.load_table(retirement.ident)
            result.kind = "iceberg" if table.kind == "iceberg" else "external"
            if table.kind == "iceberg":
                retire_iceberg(self.catalog, retirement)
            else:
                retire_external(self.catalog, retirement)
        except LakebedError as err:
            result.action = "unchanged"
            result.notes.append(f"could not be {retirement.action}: {err}")
        return result

    @staticmethod
    def _state_changes(
        current: dict[str, FileState],
        known: dict[str, FileState],
        works: list[TableWork],
        diff: ListingDiff,
        removed_policy: str,
        failed_files: list[tuple[str, str]],
        failed_tables: set[str],
    ) -> tuple[list[FileState], list[str]]:
        """The state rows to write and the keys to forget after this crawl."""
        assigned: dict[str, str] = {}
        rewritten: set[str] = set()
        for work in works:
            for facts in work.table.files:
                assigned[facts.key] = work.ident
            if work.action != "unchanged":
                rewritten.update(
                    [f.key for f in work.table.files] if work.rebuild else work.new_keys
                )
        failed_reason = dict(failed_files)
        writes: list[FileState] = []
        for key, state in current.items():
            table = assigned.get(key)
            if table in failed_tables:
                continue  # not written: leave the old state so the next crawl retries
            new = state.with_(table=table)
            if key in rewritten or key in failed_reason:
                new = new.with_(skip_reason=failed_reason.get(key))
            if known.get(key) != new:
                writes.append(new)
        deletes: list[str] = []
        for state in diff.removed:
            if removed_policy == "log" and state.table:
                writes.append(state.with_(gone=True))
            else:
                deletes.append(state.key)
        if removed_policy != "log":
            deletes.extend(s.key for s in diff.gone)
        return writes, deletes
