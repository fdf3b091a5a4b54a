"""The run store: ids, lookup by prefix and `latest`, status, crash detection, deletion, the log."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from workbench.atomic import TEMP_PREFIX
from workbench.errors import RunNotFoundError, WorkbenchError
from workbench.presets import load_experiment
from workbench.store import (
    create_run,
    delete_run,
    find_run,
    list_runs,
    new_run_id,
    resolve_checkpoint,
)


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
    first, second = create_run(_config()), create_run(_config())
    assert first.id != second.id and second.id.startswith(first.id)
    assert first.config_path.is_file() and first.checkpoints_dir.is_dir()
    status = first.read_status()
    assert status["state"] == "running" and status["pid"] == os.getpid() and status["host"] == socket.gethostname()


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


def test_a_running_run_whose_process_died_shows_as_interrupted() -> None:
    run = create_run(_config())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    run.update_status(pid=int(dead.stdout))
    assert run.state() == "interrupted"
    assert list_runs()[0].state == "interrupted"
    run.update_status(host="another-machine")
    assert run.state() == "running"  # cannot tell from here: trust the file


def test_delete_refuses_a_run_in_progress_and_removes_a_finished_one() -> None:
    run = create_run(_config())
    with pytest.raises(WorkbenchError, match="stop it first"):
        delete_run(run)
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
