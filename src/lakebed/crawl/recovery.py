"""Reconciling a crawl that stopped between an Iceberg commit and its state save.

Runs at the start of every crawl of a scope, before the state is read, over the commits the
previous crawl left pending (see :mod:`lakebed.crawl.commits`). Each one is looked up in its
table's snapshots by the commit id of its snapshot summary:

* not there: the commit never happened. The table still has its old rows and the state its
  old files, so nothing changes but the records the commit quarantined, which are taken back
  (the files are read, and their bad records met, again).
* there, with the same file hash: the files are the table's, as the state save would have
  said. After a rewrite (``overwrite``), the table's other files are no longer in it, so they
  go back to being unconverted and this crawl appends them; quarantined records of earlier
  runs for the table are dropped, as the rewrite would have done.
* there, with another file hash (the log and the table disagree): the table's files are all
  forgotten, so this crawl rewrites the table from its files — slower, never wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakebed.crawl.commits import COMMIT_PROPERTY, HASH_PROPERTY, PendingCommit, pending
from lakebed.crawl.state import CrawlState, FileState, Scope
from lakebed.errors import NotFoundError
from lakebed.quarantine import Quarantine

if TYPE_CHECKING:
    from lakebed.catalog import Catalog

#: The ``job`` of the records a converting crawl quarantines.
CRAWL_JOB = "crawl"


def committed_summary(catalog: Catalog, commit: PendingCommit) -> dict[str, str] | None:
    """The snapshot summary that carries ``commit``'s id, or None when it never committed."""
    try:
        table = catalog.load_table(commit.ident)
    except NotFoundError:
        return None
    if table.kind != "iceberg":
        return None
    for snapshot in reversed(table.snapshots()):  # type: ignore[union-attr]
        if snapshot.summary.get(COMMIT_PROPERTY) == commit.commit_id:
            return snapshot.summary
    return None


def recover(catalog: Catalog, state: CrawlState, scope: Scope) -> list[str]:
    """Settle the commits left pending in ``scope``; returns lines for the crawl report."""
    commits = pending(state, scope)
    if not commits:
        return []
    known = state.load(scope)
    quarantine = Quarantine(catalog, scope.database)
    changed: dict[str, FileState] = {}
    messages: list[str] = []

    def unassign(ident: str, keep: set[str]) -> None:
        for key, file_state in known.items():
            if file_state.table == ident and key not in keep:
                changed[key] = known[key] = file_state.with_(table=None)

    for index, commit in enumerate(commits):
        count = len(commit.states)
        summary = committed_summary(catalog, commit)
        if summary is None:
            quarantine.discard(commit.commit_id)
            messages.append(
                f"{commit.ident}: the last crawl stopped before committing {count} file(s); "
                "they are converted again"
            )
            continue
        if summary.get(HASH_PROPERTY) != commit.files_hash:
            unassign(commit.ident, set())
            messages.append(
                f"{commit.ident}: the last crawl's commit log does not match the table; "
                "the table is rewritten from its files"
            )
            continue
        keys = {s.key for s in commit.states}
        if commit.mode == "overwrite":
            unassign(commit.ident, keys)
            later = [c.commit_id for c in commits[index:] if c.ident == commit.ident]
            quarantine.supersede(target=commit.ident, job=CRAWL_JOB, keep=later)
        for file_state in commit.states:
            changed[file_state.key] = known[file_state.key] = file_state
        messages.append(
            f"{commit.ident}: recovered the commit of {count} file(s) of a crawl that stopped "
            "before saving its state; they are not converted twice"
        )
    state.save(scope, list(changed.values()), done=[c.commit_id for c in commits])
    return messages
