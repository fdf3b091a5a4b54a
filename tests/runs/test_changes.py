"""Which runs changed (workbench.runs.changes) and the listing kept from them (workbench.runs.kept_listing)."""

from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path

import pytest

from tests.processes import wait_until
from tests.tui.runs import recorded_run
from workbench.paths import runs_dir
from workbench.runs.changes import RunChanges, RunWatch
from workbench.runs.kept_listing import KeptListing
from workbench.runs.listing import list_runs


def test_a_change_counts_against_its_run_and_only_status_config_and_the_folder_change_its_listing(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    changes = RunChanges()
    for path in (
        "a",
        "b/status.json",
        "c/config.toml",
        "d/metrics.jsonl",
        "e/checkpoints/last.pt",
        ".status-index.json",
        ".creating-f/status.json",
    ):
        changes.add_path([root], root / path)
    changes.add_path([root], tmp_path / "elsewhere" / "status.json")
    assert changes.listed == {root / "a", root / "b", root / "c"}
    assert changes.written == {root / name for name in "abcde"}


# The fallback (stamps) in the slow suite: the quick one checks the file system's own signals.
@pytest.mark.parametrize("signals", [True, pytest.param(False, marks=pytest.mark.slow)], ids=["signals", "stamps"])
def test_the_watch_reports_a_new_changed_and_deleted_run_and_a_root_that_appears(signals: bool) -> None:
    woken = threading.Event()
    watch = RunWatch(woken.set, signals=signals)
    try:
        assert watch.take().roots == set()  # no runs folder yet: nothing to watch
        run = recorded_run("first")
        seen = RunChanges()

        def taken(condition: object) -> bool:
            seen.update(watch.take())
            return bool(condition())  # type: ignore[operator]

        wait_until(lambda: taken(lambda: runs_dir() in seen.roots), timeout=10, what="the runs folder watched")
        seen = RunChanges()
        second = recorded_run("second")
        wait_until(lambda: taken(lambda: second.path in seen.listed), timeout=10, what="the new run")
        seen = RunChanges()
        run.update_status(name="renamed")
        wait_until(lambda: taken(lambda: run.path in seen.listed), timeout=10, what="the changed run")
        seen = RunChanges()
        shutil.rmtree(second.path)
        wait_until(lambda: taken(lambda: second.path in seen.listed), timeout=10, what="the deleted run")
    finally:
        watch.close()


def test_a_watcher_that_cannot_watch_gives_way_to_stamps(tmp_path: Path) -> None:
    """watchfiles fails on a root it cannot watch (here: gone before its watch started): the
    watch goes on with stamps, and lists every root whole again."""
    gone = tmp_path / "gone"
    watch = RunWatch(lambda: None, roots=lambda: [gone], signals=True)
    try:
        assert watch.kind == "file system signals (watchfiles)" and watch.take().roots == {gone}
        seen = RunChanges()
        wait_until(lambda: seen.update(watch.take()) or watch.kind == "directory stamps", timeout=10, what="stamps")
        seen.update(watch.take())
        assert seen.roots == {gone}
    finally:
        watch.close()


def test_without_watchfiles_the_watch_uses_stamps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "watchfiles", None)  # as where it is not installed: the import fails
    assert RunWatch(lambda: None, signals=True).kind == "directory stamps"


def test_the_kept_listing_reads_again_only_the_runs_that_changed() -> None:
    runs = [recorded_run(f"run-{i}") for i in range(3)]
    root = runs_dir()
    listing = KeptListing()
    assert listing.update([root], RunChanges(roots={root})) == {root}
    assert listing.summaries(root) == list_runs() and listing.full_listings == 1

    runs[1].update_status(name="renamed")
    assert listing.update([root], RunChanges(listed={runs[1].path})) == {root}
    assert [s.name for s in listing.summaries(root)] == ["run-0", "renamed", "run-2"] and listing.full_listings == 1
    assert listing.update([root], RunChanges(listed={runs[2].path})) == set()  # nothing in it changed

    shutil.rmtree(runs[0].path)
    listing.update([root], RunChanges(listed={runs[0].path}))
    assert [s.name for s in listing.summaries(root)] == ["renamed", "run-2"] and listing.full_listings == 1

    new = recorded_run("new")  # a new run: listed whole, so that it takes its place in the order
    listing.update([root], RunChanges(listed={new.path}))
    assert listing.summaries(root) == list_runs() and listing.full_listings == 2
    assert listing.update([], RunChanges()) == {root} and listing.summaries(root) == []  # the root went
