"""The run store: ids, lookup by prefix and `latest`, the status a new run starts with, deletion."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from workbench.atomic import TEMP_PREFIX
from workbench.errors import RunNotFoundError, WorkbenchError
from workbench.experiment.presets import load_experiment
from workbench.paths import runs_dir
from workbench.runs.checkpoints import resolve_checkpoint
from workbench.runs.listing import list_runs
from workbench.runs.store import CREATING_PREFIX, create_run, delete_run, find_run, new_run_id


def _config(name: str = "digits-cnn"):
    config = load_experiment("digits-mlp")
    config.name = name
    return config


def test_run_ids_sort_by_time_and_say_what_ran() -> None:
    earlier = new_run_id("digits-cnn", time.mktime((2026, 11, 23, 11, 5, 1, 0, 0, -1)))
    later = new_run_id("Wide LR / test!", time.mktime((2026, 11, 23, 11, 5, 2, 0, 0, -1)))
    assert earlier == "20261123-110501-digits-cnn"
    assert later == "20261123-110502-wide-lr-test"
    assert sorted([later, earlier]) == [earlier, later]


def test_two_runs_started_in_the_same_second_get_distinct_ids() -> None:
    # One creation time for both: two calls to the clock may straddle a second's boundary.
    when = time.time()
    first, second = create_run(_config(), when=when), create_run(_config(), when=when)
    assert first.id != second.id and second.id.startswith(first.id)
    assert first.config_path.is_file() and first.checkpoints_dir.is_dir()
    status = first.read_status()
    assert status.state == "starting" and status.pid is None and status.host == socket.gethostname()


def test_a_run_is_found_by_full_id_unique_prefix_or_latest() -> None:
    a = create_run(_config("alpha"))
    b = create_run(_config("beta"))
    assert find_run(a.id) == a
    assert find_run("latest") == b
    assert find_run(b.id[: b.id.index("beta") + 2]) == b
    with pytest.raises(RunNotFoundError, match="matches 2 runs"):
        find_run(a.id[:8])
    with pytest.raises(RunNotFoundError, match="no run matches 'zzz'"):
        find_run("zzz")


def test_with_no_runs_a_lookup_says_how_to_start_one() -> None:
    with pytest.raises(RunNotFoundError, match="workbench train"):
        find_run("latest")


def test_an_empty_or_blank_run_argument_matches_nothing() -> None:
    create_run(_config())
    for ref in ("", "  "):
        with pytest.raises(RunNotFoundError, match="empty RUN matches nothing"):
            find_run(ref)


def test_a_run_is_also_found_by_the_path_of_its_folder() -> None:
    run = create_run(_config())
    assert find_run(str(run.path)) == run


def test_delete_refuses_a_run_in_progress_and_removes_a_finished_one() -> None:
    from workbench.runs.liveness import RunLock

    run = create_run(_config())
    lock = RunLock(run.path)
    lock.acquire(run.id)
    run.update_status(state="running")
    with pytest.raises(WorkbenchError, match="stop it first"):
        delete_run(run)
    lock.release()
    assert run.state() == "interrupted"  # its lock was let go without an end recorded
    run.update_status(state="finished")
    delete_run(run)
    assert not run.path.exists() and list_runs() == []


def test_checkpoint_choices_name_what_is_missing() -> None:
    run = create_run(_config())
    (run.checkpoints_dir / f"{TEMP_PREFIX}epoch-001.pt.x").write_bytes(b"partial")
    assert run.epoch_checkpoints() == []  # a crash's temp file is not a checkpoint
    with pytest.raises(WorkbenchError, match="no checkpoint for epoch 3"):
        resolve_checkpoint(run, "3")
    with pytest.raises(WorkbenchError, match="no such checkpoint"):
        resolve_checkpoint(run, "best")


@pytest.mark.slow  # a process started to have a dead one's pid
def test_a_run_folder_appears_whole_and_a_creation_that_died_is_never_listed() -> None:
    """Built under a hidden name and renamed into place: a kill during creation leaves no run
    without a status (it used to show as "unknown" forever); its leftovers go after an hour."""
    root = runs_dir()
    root.mkdir(parents=True, exist_ok=True)
    died = root / f"{CREATING_PREFIX}digits-mlp-1-dead"
    died.mkdir()
    (died / "config.toml").write_text('name = "half"\n')
    building = root / f"{CREATING_PREFIX}digits-mlp-{os.getpid()}-busy"  # a live process, right now
    building.mkdir()
    os.utime(died, (time.time() - 2 * 3600, time.time() - 2 * 3600))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    killed = root / f"{CREATING_PREFIX}digits-mlp-{gone.stdout.strip()}-fresh"  # its process was killed a moment ago
    killed.mkdir()
    run = create_run(_config("whole"))
    assert sorted(p.name for p in run.path.iterdir()) == ["checkpoints", "config.toml", "status.json"]
    assert run.read_status().id == run.id and run.read_status().state == "starting"
    assert [s.id for s in list_runs()] == [run.id]
    assert not died.exists() and not killed.exists() and building.exists()


def test_any_command_naming_a_run_removes_the_temp_files_a_crash_left_but_not_fresh_ones() -> None:
    """Temp files of a crash stayed until someone resumed; a fresh one may be a live writer's."""
    run = create_run(_config("leftovers"))
    old = run.checkpoints_dir / f"{TEMP_PREFIX}last.pt"
    old.write_bytes(b"half a checkpoint")
    os.utime(old, (time.time() - 2 * 3600, time.time() - 2 * 3600))
    fresh = run.path / f"{TEMP_PREFIX}status.json"
    fresh.write_bytes(b"{")
    assert find_run(run.id) == run
    assert not old.exists() and fresh.exists()
