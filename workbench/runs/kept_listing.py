"""Every run listed once, then kept current: only the runs that changed are read again.

The app shows a listing of every run (the Runs screen, the runs that started live elsewhere).
Listing a thousand runs costs about 0.1 s of a core even through the status index; listing them
every 2 s while nothing changed was most of what an idle app cost (issue 31). A
:class:`KeptListing` lists a root whole the first time, when it appears, and when a run appears
in it (so that the order, oldest first, stays the listing's own); a run whose files changed is
summarised again in its place, a run deleted is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from workbench.runs.changes import RunChanges
from workbench.runs.folder import RunDir
from workbench.runs.listing import RunSummary, list_runs, summarize


class KeptListing:
    """Each root's runs, summarised, oldest first (read from one thread)."""

    def __init__(self) -> None:
        self._roots: dict[Path, list[RunSummary]] = {}
        #: How many times a root was listed whole (the tests count them: none while nothing changes).
        self.full_listings = 0

    def summaries(self, root: Path) -> list[RunSummary]:
        """The runs of ``root`` as last read (none for a root that is not there)."""
        return self._roots.get(root, [])

    def update(self, roots: list[Path], changes: RunChanges, runs: Iterable[Path] = ()) -> set[Path]:
        """Bring the listing of ``roots`` up to ``changes``, and read ``runs`` (run folders) again
        too; the roots whose listing changed."""
        changed = {root for root in self._roots if root not in roots}
        for root in changed:
            del self._roots[root]
        whole = {root for root in roots if root in changes.roots or root not in self._roots}
        by_root: dict[Path, set[Path]] = {}
        for run in {*changes.listed, *runs}:
            if run.parent in self._roots and run.parent not in whole:
                by_root.setdefault(run.parent, set()).add(run)
        for root, moved in by_root.items():
            fresh = self._read_again(root, moved)
            if fresh is None:
                whole.add(root)  # a run appeared: listed whole, in its place
            elif fresh != self._roots[root]:
                self._roots[root] = fresh
                changed.add(root)
        for root in whole:
            listed = list_runs(root)
            self.full_listings += 1
            if listed != self._roots.get(root):
                changed.add(root)
            self._roots[root] = listed
        return changed

    def _read_again(self, root: Path, runs: set[Path]) -> list[RunSummary] | None:
        """The listing of ``root`` with ``runs`` summarised again where they are and the deleted
        ones dropped; None when one of them is new to it."""
        listed: list[RunSummary | None] = list(self._roots[root])
        places = {summary.id: i for i, summary in enumerate(self._roots[root])}
        for run in runs:
            there = run.is_dir()
            if run.name not in places:
                if there:
                    return None
                continue  # built and removed between two looks, or never a run
            listed[places[run.name]] = summarize(RunDir(run)) if there else None
        return [summary for summary in listed if summary is not None]
