"""Runs as processes: detached launch, signals, control from another process, `logs`, one trainer per run.

Each test starts real `workbench` processes and watches the run's files, as a user's second
terminal would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.atomic import TEMP_PREFIX
from workbench.engine.checkpoint_io import read_checkpoint
from workbench.errors import WorkbenchError
from workbench.experiment.presets import load_experiment
from workbench.runs.folder import RunDir
from workbench.runs.listing import list_runs
from workbench.runs.process_control import send_request, wait_for_state
from workbench.runs.store import create_run, find_run
from workbench.scheduling.plan import carry_out, plan_new_run

from ..processes import LONG_EPOCHS, epochs_done, train_in_background, wait_until, workbench

pytestmark = pytest.mark.slow


def test_a_detached_run_trains_in_a_session_of_its_own_and_prints_its_id_at_once() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "train", "digits-cnn", "--epochs", "2", "--detach"],
        capture_output=True,
        text=True,
        check=True,
    )
    run = find_run(done.stdout.strip())
    wait_until(lambda: run.state() == "finished", what="the detached run to finish")
    status = run.read_status()
    assert status.pid != os.getpid() and status.epochs_done == 2 and status.test["acc"] > 0.5
    # Its output went to the run's log file (the last line follows the status by a moment).
    wait_until(lambda: "test  loss" in run.log_path.read_text(), what="the test line in the log")
    assert "epoch 2/2" in run.log_path.read_text()


def test_the_launched_process_has_no_controlling_terminal_of_the_launcher() -> None:
    run = carry_out(plan_new_run(load_experiment("digits-cnn", [f"train.epochs={LONG_EPOCHS}"]))).run
    wait_until(lambda: run.state() == "running", what="the run to start")
    pid = run.read_status().pid
    assert pid is not None and os.getsid(pid) == pid != os.getsid(0)  # a session leader of its own
    send_request(run, "stop")
    assert wait_for_state(run, "stop", 90) == "stopped"


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT])
def test_hangup_terminate_and_interrupt_each_stop_with_a_checkpoint(signum: signal.Signals) -> None:
    process, run = train_in_background()
    process.send_signal(signum)
    assert process.wait(timeout=90) == 130
    assert run.state() == "stopped"
    assert read_checkpoint(run.last_checkpoint)["epoch"] >= 1


def test_pause_continue_and_stop_from_another_process() -> None:
    process, run = train_in_background()
    assert subprocess.run([sys.executable, "-m", "workbench", "pause", run.id], capture_output=True, text=True).returncode == 0
    assert run.state() == "paused"
    held = epochs_done(run)
    assert epochs_done(run) == held
    done = subprocess.run([sys.executable, "-m", "workbench", "continue", run.id], capture_output=True, text=True)
    assert done.returncode == 0 and "is running" in done.stdout
    wait_until(lambda: epochs_done(run) > held, what="training to go on")
    done = subprocess.run([sys.executable, "-m", "workbench", "stop", run.id], capture_output=True, text=True)
    assert done.returncode == 0 and "workbench resume" in done.stdout
    assert run.state() == "stopped" and run.last_checkpoint.is_file()
    assert process.wait(timeout=90) == 130


def test_a_second_trainer_of_a_running_run_is_refused_in_one_line() -> None:
    process, run = train_in_background()
    second = subprocess.run(
        [sys.executable, "-m", "workbench", "train", "--run-dir", str(run.path)], capture_output=True, text=True
    )
    assert second.returncode == 1
    assert second.stderr.strip().splitlines() == [
        f"error: run {run.id} is being trained by another process (process {process.pid} on {run.read_status().host}); "
        "only one can train it"
    ]
    assert run.state() == "running"
    process.terminate()
    process.wait(timeout=90)


def test_kill_9_leaves_an_interrupted_run_that_refuses_control_and_resumes() -> None:
    process, run = train_in_background()
    process.kill()
    process.wait()
    assert run.state() == "interrupted"
    with pytest.raises(WorkbenchError, match="interrupted .*`workbench resume"):
        send_request(run, "stop")
    done = subprocess.run([sys.executable, "-m", "workbench", "resume", run.id, "--detach"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == run.id
    wait_until(lambda: run.state() == "running", what="the resumed run")
    send_request(run, "stop")
    assert wait_for_state(run, "stop", 90) == "stopped"


def test_control_of_a_finished_or_unknown_run_is_one_clear_line() -> None:
    run = create_run(load_experiment("digits-mlp"))
    run.update_status(state="finished")
    for action in ("pause", "continue", "stop"):
        done = subprocess.run([sys.executable, "-m", "workbench", action, run.id], capture_output=True, text=True)
        assert done.returncode == 1 and done.stderr.strip() == f"error: run {run.id} is finished; there is nothing to {action}"
    done = subprocess.run([sys.executable, "-m", "workbench", "stop", "nope"], capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.strip() == "error: no run matches 'nope'; see `workbench runs`"


def test_logs_prints_the_epochs_and_follow_keeps_printing_until_the_run_ends() -> None:
    run = carry_out(plan_new_run(load_experiment("digits-cnn", ["train.epochs=3"]))).run
    follower = workbench("logs", run.id, "--follow")
    out, _ = follower.communicate(timeout=120)
    assert follower.returncode == 0
    lines = out.splitlines()
    assert [line.split()[1:3] for line in lines if line.split()[1:2] == ["epoch"]][:3] == [  # after the time
        ["epoch", "1/3"],
        ["epoch", "2/3"],
        ["epoch", "3/3"],
    ]
    assert "Finished after 3 epochs" in out
    again = subprocess.run([sys.executable, "-m", "workbench", "logs", run.id], capture_output=True, text=True)
    assert again.stdout == out  # the same lines, from the same events


def test_logs_of_a_missing_run_is_one_line() -> None:
    done = subprocess.run([sys.executable, "-m", "workbench", "logs", "latest"], capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "no runs yet" in done.stderr


@pytest.mark.parametrize("kill_after_epochs", [1, 2])
def test_kill_9_mid_epoch_then_resume_gives_readable_checkpoints_and_each_epoch_once(kill_after_epochs: int) -> None:
    """A crash-exact history: killed at once after some epochs (so mid-way through the next),
    the resumed run records every epoch exactly once and every checkpoint reads back checked."""
    epochs = 12  # of about half a second each with batches of 8: the kill lands mid-run
    process = workbench("train", "digits-cnn", "--set", f"train.epochs={epochs}", "--set", "data.batch_size=8")
    wait_until(lambda: list_runs() and list_runs()[-1].epochs_done >= kill_after_epochs, what="the epochs before the kill")
    process.kill()
    process.wait()
    run = RunDir(Path(list_runs()[-1].path))
    assert run.state() == "interrupted" and run.read_status().epochs_done < epochs
    done = subprocess.run([sys.executable, "-m", "workbench", "resume", run.id], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in run.metrics_path.read_text().splitlines()]
    assert [r["epoch"] for r in records if r["event"] == "EpochEnded"] == list(range(1, epochs + 1))
    for checkpoint in run.checkpoints_dir.glob("*.pt"):
        read_checkpoint(checkpoint)  # checksum verified
    assert run.read_status().state == "finished" and not list(run.path.rglob(TEMP_PREFIX + "*"))
