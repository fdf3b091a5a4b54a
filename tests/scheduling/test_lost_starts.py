"""Runs that never started training are never lost: a launcher or a run's process killed before
training leaves a run shown interrupted at once (not 'starting' for 60 s), and the queue, or
`workbench resume`, starts it again from scratch as the same run.

Before: the sweep said "3 points: 3 ended" with a point "interrupted 0/3" in state "starting" and
no checkpoint; resume said it had no checkpoint; the next feeder dropped the point's claim, and the
queue first stalled 60 s on it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.experiment.presets import load_experiment
from workbench.runs.folder import RunDir
from workbench.runs.history import RunHistory
from workbench.runs.liveness import HandedLock, lock_is_held
from workbench.runs.store import all_runs, create_run, find_run
from workbench.scheduling import queue
from workbench.scheduling.sweep import all_sweeps, find_sweep, sweep_progress

from ..processes import wait_until

pytestmark = pytest.mark.slow

TINY = ["train.epochs=2", "data.subset=300"]

#: A launcher killed (SIGKILL) after it made the run's folder and before it started its process.
LAUNCHER_KILLED = """
import os, signal
from workbench.experiment.presets import load_experiment
from workbench.runs.liveness import HandedLock
from workbench.runs.store import create_run

create_run(load_experiment("digits-mlp", ["train.epochs=2", "data.subset=300"]), lock=HandedLock())
os.kill(os.getpid(), signal.SIGKILL)
"""


def recorded_epochs(run: RunDir) -> list[int]:
    return [epoch.epoch for epoch in RunHistory.from_records(run.read_events()).epochs]


def test_a_run_whose_launcher_died_before_starting_it_is_interrupted_at_once_and_resume_trains_it_from_scratch() -> None:
    killed = subprocess.run([sys.executable, "-c", LAUNCHER_KILLED], capture_output=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    run = find_run("latest")
    assert run.read_status().state == "starting" and run.state() == "interrupted"  # no grace to wait out
    assert main(["resume", run.id]) == 0
    status = run.read_status()
    assert (status.state, status.epochs_done, status.id) == ("finished", 2, run.id) and status.test
    assert recorded_epochs(run) == [1, 2] and [r.id for r in all_runs()] == [run.id]


def process_training(run: RunDir) -> int | None:
    """The pid of the process whose command line names ``run``'s folder (what the feeder started)."""
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(run.path).encode() in (entry / "cmdline").read_bytes():
                return int(entry.name)
        except OSError:
            continue
    return None


def gone(pid: int) -> bool:
    """The process has exited (a zombie awaiting its parent counts: its descriptors are closed)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def test_a_point_whose_process_dies_before_training_is_seen_at_once_and_the_queue_starts_it_again() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "train", "digits-mlp", *(f"--set={o}" for o in TINY)]
        + ["--sweep", "train.seed=1,2", "--parallel", "1"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sweep = find_sweep(done.stdout.strip())
    wait_until(lambda: queue.queue_runs(), what="the first point's run")
    ((first, _, _),) = queue.queue_runs()
    wait_until(lambda: process_training(first), what="the point's process")  # started just after its folder
    pid = process_training(first)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: gone(pid), what="the point's process to end")
    if first.read_status().epochs_done:
        pytest.skip("the point trained an epoch before the kill reached it: nothing to start again")
    assert first.state() == "interrupted" or lock_is_held(first.path)  # seen at once, or already started again
    wait_until(lambda: find_sweep(sweep.id).read_meta().get("ended_ts") is not None, timeout=240, what="the sweep to end")
    progress = sweep_progress(find_sweep(sweep.id))
    assert sorted(run.read_config().train.seed for run, _, _ in progress.runs) == [1, 2]  # each point once
    assert all(state == "finished" for _, _, state in progress.runs), progress.runs
    assert recorded_epochs(first) == [1, 2]
    assert f"{first.id}: started again" in (queue.queue_dir() / "feeder.log").read_text()


def test_a_dead_feeders_claim_whose_run_was_made_but_not_started_is_started_by_the_next_feeder() -> None:
    config = load_experiment("digits-mlp", TINY)
    entry = queue.enqueue(config)
    assert queue.claim(entry)
    with HandedLock() as lock:  # the feeder made the run and died before starting its process
        made = create_run(entry.experiment(), queue_entry=entry.id, lock=lock)
    fed = subprocess.run([sys.executable, "-m", "workbench", "queue", "feed"], capture_output=True, text=True, timeout=240)
    assert fed.returncode == 0 and f"{made.id}: started again" in fed.stdout, fed.stdout + fed.stderr
    assert [r.id for r in all_runs()] == [made.id] and made.state() == "finished"
    assert recorded_epochs(made) == [1, 2]
    assert not queue.read_queue().entries and not list((queue.queue_dir() / queue.CLAIMED).iterdir())


#: A `workbench train --sweep` killed (SIGKILL) after it queued the first of its 3 points.
SWEEP_COMMAND_KILLED = """
import os, signal
from workbench.experiment.presets import load_experiment
from workbench.experiment.sweep_points import plan_points
from workbench.scheduling import queue
from workbench.scheduling.sweep import create_sweep, point_entry_id
from workbench.schema.sweep import SweepSpec, parse_axis

base = load_experiment("digits-mlp", ["train.epochs=1", "data.subset=300"])
spec = SweepSpec(axes=(parse_axis("train.seed=1,2,3"),))
points = plan_points(base, spec)
sweep = create_sweep(base, spec, points)
first = points[0]
queue.enqueue(first.config, entry_id=point_entry_id(sweep.id, 1), sweep=sweep.id, point=1, label=first.label())
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_points_a_killed_sweep_command_did_not_queue_are_queued_by_the_next_feeder_each_once() -> None:
    killed = subprocess.run([sys.executable, "-c", SWEEP_COMMAND_KILLED], capture_output=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    assert len(queue.read_queue().entries) == 1
    fed = subprocess.run([sys.executable, "-m", "workbench", "queue", "feed"], capture_output=True, text=True, timeout=240)
    assert fed.returncode == 0 and fed.stdout.count("queued (the command that started its sweep stopped") == 2, fed.stdout
    (sweep,) = all_sweeps()
    progress = sweep_progress(sweep)
    assert sorted(run.read_config().train.seed for run, _, _ in progress.runs) == [1, 2, 3]
    assert all(state == "finished" for _, _, state in progress.runs)
    assert sweep.read_meta()["ended_ts"] is not None and sweep.read_meta()["queueing"] is None


#: A launcher that made a run holding its lock (to hand to a process it has not started yet),
#: says so, then waits: what the app is while a run it launched imports torch.
LAUNCHER_HOLDING = """
import sys, time
from workbench.experiment.presets import load_experiment
from workbench.runs.liveness import HandedLock
from workbench.runs.store import create_run

lock = HandedLock()
print(create_run(load_experiment("digits-mlp"), lock=lock).id, flush=True)
time.sleep(600)
"""


def test_a_stop_while_a_run_starts_never_reaches_the_launcher_that_still_holds_its_lock() -> None:
    """The kernel's lock table names the process that took a lock: the launcher (the app), until
    the trainer takes over the lock it was handed. x in that moment sent the app a SIGTERM."""
    from workbench.errors import WorkbenchError
    from workbench.runs.process_control import send_request

    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER_HOLDING], stdout=subprocess.PIPE, text=True)
    try:
        assert launcher.stdout is not None
        run = find_run(launcher.stdout.readline().strip())
        assert run.state() == "starting" and lock_is_held(run.path)
        for action in ("stop", "pause"):
            with pytest.raises(WorkbenchError, match="is still starting; try again in a moment"):
                send_request(run, action)
        assert launcher.poll() is None  # never signalled
    finally:
        launcher.kill()
        launcher.wait()
    assert run.state() == "interrupted"  # its launcher gone, nothing will start it: at once
