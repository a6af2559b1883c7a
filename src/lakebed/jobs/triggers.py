"""New-file triggers: list a prefix on each poll and tell what was not there before.

An object counts as new when its (key, size, modified time) was not in the previous listing,
so a rewritten object fires again. The first poll has nothing to compare with: if the job has
run before (a run is recorded for it), the first listing is taken as already seen and only
later arrivals fire; if it has never run, everything already there counts as new, so a job
started on a folder that already holds files loads them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from lakebed.errors import LakebedError, NotFoundError

if TYPE_CHECKING:
    from lakebed.lake import Lake

log = logging.getLogger("lakebed.jobs")

Seen = frozenset[tuple[str, int, datetime]]


def job_has_run(lake: Lake, job: str) -> bool:
    """Whether the catalog's run log records a run of ``job`` (False when it cannot tell)."""
    try:
        return bool(lake.runs(job=job, limit=1))
    except LakebedError as exc:
        log.debug("job %s: cannot read the run log (%s); treating it as never run", job, exc)
        return False


class NewFileWatcher:
    """Remembers one prefix's listing between polls; :meth:`poll` returns what is new."""

    def __init__(self, lake: Lake, location: str, *, seen_before: bool) -> None:
        self.lake = lake
        self.location = location
        #: Whether the first listing is taken as already seen (the job has run before).
        self.seen_before = seen_before
        self._seen: Seen | None = None
        self._missing_logged = False

    def listing(self) -> Seen:
        """The objects under the prefix now (empty while the prefix does not exist yet): the
        objects a load of the same prefix reads."""
        try:
            store, prefix = self.lake.resolve_source(self.location)
        except NotFoundError:
            if not self._missing_logged:
                log.warning("trigger %s: nothing there yet; waiting for files", self.location)
                self._missing_logged = True
            return frozenset()
        # Keys under the folder the prefix names (or the one object it names), as the load
        # reads them: not siblings that merely start with the same letters ("landing-old/").
        folder = f"{prefix}/" if prefix else ""
        return frozenset(
            (i.key, i.size, i.modified)
            for i in store.list(prefix)
            if i.key == prefix or i.key.startswith(folder)
        )

    def poll(self) -> tuple[Seen, Seen]:
        """``(listing, new)``: the listing now, and what in it the previous poll did not see.

        The new objects stay new until :meth:`accept` is called with the listing, so files
        that arrive while the job is busy fire a run once it is free.
        """
        current = self.listing()
        if self._seen is None:
            self._seen = current if self.seen_before else frozenset()
        new = current - self._seen
        if not new:
            self._seen = current  # forget deleted objects; re-added ones are new again
        return current, new

    def accept(self, listing: Seen) -> None:
        """Take ``listing`` as seen (its job has been started on it)."""
        self._seen = listing
