"""The status index: a listing of many runs reads one file, and still shows every run as it is
now (a status that changed, a damaged one, a run whose process died, a deleted run)."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from workbench.experiment.presets import load_experiment
from workbench.paths import runs_dir
from workbench.runs.folder import RunDir
from workbench.runs.index import INDEX_NAME, SETTLE_S
from workbench.runs.listing import list_runs
from workbench.runs.status import FAILED, RUNNING, STOPPED
from workbench.runs.store import create_run

from ..processes import hold_lock


def settled(run: RunDir) -> RunDir:
    """``run`` with its status.json dated before the index's settling time, as any run not
    written in the last seconds is (the index keeps only those)."""
    past = time.time() - SETTLE_S - 10
    os.utime(run.status_path, (past, past))
    return run


def new_run(name: str) -> RunDir:
    """A run that stopped a while ago, named ``name``."""
    config = load_experiment("digits-mlp")
    config.name = name
    run = create_run(config)
    run.update_status(state=STOPPED)
    return settled(run)


def index() -> dict[str, dict]:
    return json.loads((runs_dir() / INDEX_NAME).read_text())["runs"]


def listed() -> dict[str, tuple[str, str]]:
    return {s.id: (s.name, s.state) for s in list_runs()}


def test_a_listing_keeps_settled_statuses_in_the_index_and_reads_them_from_there() -> None:
    runs = [new_run(f"run {i}") for i in range(3)]
    first = list_runs()
    assert set(index()) == {run.id for run in runs}
    entries = index()
    entries[runs[0].id]["status"]["name"] = "as the index has it"  # same file, so the index is believed
    (runs_dir() / INDEX_NAME).write_text(json.dumps({"version": 1, "runs": entries}))
    assert list_runs()[0].name == "as the index has it"
    assert [s.id for s in list_runs()] == [s.id for s in first]


def test_a_status_rewritten_since_it_was_indexed_lists_as_it_is_now() -> None:
    run = new_run("before")
    list_runs()
    settled(run)  # dated like the old file: only the file's identity tells them apart
    run.update_status(name="after", state=FAILED)
    settled(run)
    assert listed()[run.id] == ("after", FAILED)


def test_a_status_written_this_moment_is_read_from_its_file_and_not_indexed() -> None:
    run = new_run("fresh")
    list_runs()
    run.update_status(name="renamed")
    assert listed()[run.id][0] == "renamed"
    assert run.id not in index()


def test_a_damaged_status_lists_as_damaged_every_time_and_is_never_indexed() -> None:
    healthy, damaged = new_run("healthy"), new_run("damaged")
    list_runs()
    damaged.status_path.write_text("{ not json")
    settled(damaged)
    for _ in range(2):
        assert listed()[damaged.id][1] == "damaged"
        assert listed()[healthy.id][1] == STOPPED
    assert damaged.id not in index()


@pytest.mark.slow
def test_an_indexed_running_run_is_interrupted_once_its_process_dies() -> None:
    run = new_run("training")
    run.update_status(state=RUNNING)
    holder = hold_lock(run)
    settled(run)
    try:
        assert listed()[run.id][1] == RUNNING
        assert run.id in index()
    finally:
        holder.kill()
        holder.wait()
    assert listed()[run.id][1] == "interrupted"


def test_a_damaged_index_is_ignored_and_rewritten() -> None:
    runs = [new_run(f"run {i}") for i in range(2)]
    (runs_dir() / INDEX_NAME).write_text('{"version": 1, "runs": {"x": ')
    assert [s.name for s in list_runs()] == ["run 0", "run 1"]
    assert set(index()) == {run.id for run in runs}


def test_a_deleted_run_leaves_the_listing_and_the_index() -> None:
    kept, gone = new_run("kept"), new_run("gone")
    list_runs()
    shutil.rmtree(gone.path)
    assert list(listed()) == [kept.id]
    assert set(index()) == {kept.id}
