"""What to do with each table: compare the tables the files call for with the last crawl. Pure.

For every planned table: create it (not in the catalog), leave it (same files, none changed),
or update it (files added, changed, moved or dropped). ``rebuild`` tells a converting crawl
that appending is not enough (a file changed or left the table), so the table is rewritten from
its files. Tables of the last crawl that no longer have files are retired by the removed policy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from lakebed.crawl.grouping import PlannedTable
from lakebed.crawl.state import FileState, ListingDiff


@dataclass
class TableWork:
    """One planned table and what the crawl must do to it."""

    ident: str
    table: PlannedTable
    action: Literal["created", "updated", "unchanged"]
    exists: bool
    #: Keys not in the table before this crawl (what a converting crawl appends).
    new_keys: list[str] = field(default_factory=list)
    #: Rewrite the table from all its files (a file changed, moved out, or was dropped).
    rebuild: bool = False
    #: Keys gone from the store but kept in the table (removed_policy="log").
    retained: list[str] = field(default_factory=list)
    #: Files of this table that disappeared since the last crawl.
    removed: int = 0
    #: The table exists in the catalog but the last crawl did not make it.
    adopted: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class Retirement:
    """A table of the last crawl that no file calls for any more."""

    ident: str
    action: Literal["deleted", "deprecated", "unchanged"]
    removed: int
    format: str | None
    notes: list[str] = field(default_factory=list)


def _by_table(states: Mapping[str, FileState]) -> dict[str, list[FileState]]:
    grouped: dict[str, list[FileState]] = defaultdict(list)
    for state in states.values():
        if state.table:
            grouped[state.table].append(state)
    return grouped


def plan_work(
    planned: Sequence[PlannedTable],
    ident_of: Callable[[PlannedTable], str],
    known: Mapping[str, FileState],
    diff: ListingDiff,
    existing: Collection[str],
    removed_policy: str,
) -> tuple[list[TableWork], list[Retirement]]:
    """Decide the work for each planned table and the retirements of vanished tables."""
    previous = _by_table(known)
    changed = {info.key for info in diff.changed}
    removed_by_table: dict[str, list[str]] = defaultdict(list)
    for state in diff.removed:
        if state.table:
            removed_by_table[state.table].append(state.key)
    works = []
    for table in planned:
        ident = ident_of(table)
        keys = {f.key for f in table.files}
        prev = previous.get(ident, [])
        prev_live = {s.key for s in prev if not s.gone}
        prev_gone = [s.key for s in prev if s.gone]
        removed = removed_by_table.get(ident, [])
        keep_gone = removed_policy == "log"
        dropped = [] if keep_gone else prev_gone + removed
        moved_out = prev_live - keys - set(removed)
        work = TableWork(
            ident=ident,
            table=table,
            action="unchanged",
            exists=ident in existing,
            new_keys=sorted(keys - prev_live),
            retained=sorted(prev_gone + removed) if keep_gone else [],
            removed=len(removed),
        )
        if not work.exists:
            work.action, work.new_keys = "created", sorted(keys)
        elif not prev:
            work.action, work.rebuild, work.adopted = "updated", True, True
        elif work.new_keys or (keys & changed) or dropped or moved_out:
            work.action = "updated"
            work.rebuild = bool((keys & changed) or dropped or moved_out)
        if removed:
            verb = "still referenced (removed_policy=log)" if keep_gone else "dropped from it"
            work.notes.append(f"{len(removed)} file(s) removed from the store; {verb}")
        if moved_out:
            work.notes.append(f"{len(moved_out)} file(s) now belong to another table")
        works.append(work)
    planned_idents = {w.ident for w in works}
    retired = []
    for ident, prev in sorted(previous.items()):
        if ident in planned_idents or ident not in existing:
            continue
        removed = removed_by_table.get(ident, [])
        live = [s for s in prev if not s.gone]
        if not removed and not live:
            continue  # retired by an earlier crawl under removed_policy=log
        action: Literal["deleted", "deprecated", "unchanged"] = {
            "delete": "deleted",
            "deprecate": "deprecated",
        }.get(removed_policy, "unchanged")  # type: ignore[assignment]
        notes = []
        if removed:
            notes.append(f"all {len(removed)} remaining file(s) removed from the store")
        moved = [s for s in live if s.key not in {r for r in removed}]
        if moved:
            notes.append(f"{len(moved)} file(s) regrouped into other tables")
        if action == "unchanged":
            notes.append("kept as is (removed_policy=log)")
        retired.append(Retirement(ident, action, len(removed), prev[0].format, notes))
    return works, retired
