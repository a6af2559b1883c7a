"""The converting crawl's commit log, closing the gap between an Iceberg commit and the state save.

A converting crawl commits each chunk of files to its Iceberg table, and saves which files it
converted at the end, in the crawl state. A crash in between would leave rows in the table that
the state does not know about, and the next crawl would append them again. So every commit is
written ahead:

1. before the commit, the chunk's file states go into ``lakebed_crawl_commits`` as a *pending*
   row under a fresh commit id (with the schemas they reference);
2. the Iceberg commit carries, in its snapshot summary, the commit id, the file count and a
   SHA-256 over the file list (small, whatever the number of files);
3. the crawl's final state save removes the pending rows of the tables it saved, in the same
   transaction (removing the row is how a commit is marked done: nothing is left to reconcile).

The next crawl of the scope first reconciles what is still pending (:func:`recover`): a commit
found in its table's snapshots is applied to the state, so its files count as converted; one
not found never happened, and the records it quarantined are taken back.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import pyarrow as pa
import sqlalchemy as sa

from lakebed.crawl.state import CrawlState, FileState, Scope, commits_table

#: Snapshot summary properties of a converting crawl's commit.
COMMIT_PROPERTY = "lakebed.crawl.commit"
FILES_PROPERTY = "lakebed.crawl.files"
HASH_PROPERTY = "lakebed.crawl.files-sha256"

CommitMode = Literal["append", "overwrite"]


def files_hash(states: Sequence[FileState]) -> str:
    """SHA-256 over the sorted (key, size, modification time) of ``states``."""
    digest = hashlib.sha256()
    for state in sorted(states, key=lambda s: s.key):
        digest.update(f"{state.key}\t{state.size}\t{state.modified_us}\n".encode())
    return digest.hexdigest()


def summary_properties(commit_id: str, states: Sequence[FileState]) -> dict[str, str]:
    """What a chunk's snapshot summary records about the chunk."""
    return {
        COMMIT_PROPERTY: commit_id,
        FILES_PROPERTY: str(len(states)),
        HASH_PROPERTY: files_hash(states),
    }


@dataclass(frozen=True)
class PendingCommit:
    """A commit written ahead: which files go into which table, not yet marked done."""

    commit_id: str
    ident: str
    mode: CommitMode
    states: list[FileState]
    files_hash: str


def _state_json(states: Sequence[FileState]) -> str:
    return json.dumps([asdict(s) for s in states], sort_keys=True)


def begin(
    state: CrawlState,
    scope: Scope,
    commit: PendingCommit,
    schemas: Mapping[str, pa.Schema],
) -> None:
    """Write ``commit`` as pending, with the schemas its files reference, in one transaction."""
    row = {
        "commit_id": commit.commit_id,
        "store_url": scope.store_url,
        "database_name": scope.database,
        "prefix": scope.prefix,
        "table_ident": commit.ident,
        "mode": commit.mode,
        "files_hash": commit.files_hash,
        "states": _state_json(commit.states),
        "created_ns": time.time_ns(),
    }
    wanted = {s.fingerprint for s in commit.states if s.fingerprint}
    with state.engine.begin() as conn:
        state.save_schemas(conn, {fp: schemas[fp] for fp in wanted if fp in schemas})
        conn.execute(sa.insert(commits_table), [row])


def pending(state: CrawlState, scope: Scope) -> list[PendingCommit]:
    """The pending commits of ``scope``, oldest first."""
    query = (
        sa.select(commits_table)
        .where(
            commits_table.c.store_url == scope.store_url,
            commits_table.c.database_name == scope.database,
            commits_table.c.prefix == scope.prefix,
        )
        .order_by(commits_table.c.created_ns, commits_table.c.commit_id)
    )
    with state.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        PendingCommit(
            commit_id=row["commit_id"],
            ident=row["table_ident"],
            mode=row["mode"],
            states=[FileState(**item) for item in json.loads(row["states"])],
            files_hash=row["files_hash"],
        )
        for row in rows
    ]
