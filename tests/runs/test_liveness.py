"""Who trains a run is exact: an OS lock held by the training process, a heartbeat for other hosts."""

from __future__ import annotations

import os
import signal
import time

import pytest

from workbench.experiment.presets import load_experiment
from workbench.runs.folder import RunDir
from workbench.runs.liveness import LOCK_NAME, STALE_AFTER_S, START_GRACE_S, RunBusyError, RunLock, lock_holder, lock_is_held
from workbench.runs.store import create_run

from ..processes import hold_lock


def _run() -> RunDir:
    return create_run(load_experiment("digits-mlp"))


@pytest.mark.slow
def test_a_running_run_is_running_while_its_process_holds_the_lock_and_interrupted_the_moment_it_dies() -> None:
    run = _run()
    holder = hold_lock(run)
    run.update_status(state="running")
    assert run.state() == "running"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert run.state() == "interrupted"  # no grace period: the kernel let go of the lock


@pytest.mark.slow
def test_a_second_trainer_of_the_same_run_is_refused_naming_the_first() -> None:
    run = _run()
    holder = hold_lock(run)
    try:
        with pytest.raises(RunBusyError, match=f"process {holder.pid}"):
            RunLock(run.path).acquire(run.id, run.read_status())
    finally:
        holder.kill()
        holder.wait()
    lock = RunLock(run.path)
    lock.acquire(run.id)  # free again once the first is gone, even after a kill -9
    assert lock.held and lock_is_held(run.path)
    lock.release()
    assert not lock_is_held(run.path)


def test_probing_the_lock_never_keeps_a_trainer_from_taking_it() -> None:
    run = _run()
    lock = RunLock(run.path)
    for _ in range(50):
        assert not lock_is_held(run.path)
    lock.acquire(run.id)
    assert lock_is_held(run.path)
    lock.release()


def test_a_launched_run_is_starting_until_its_grace_runs_out_without_a_process() -> None:
    run = _run()
    assert run.state() == "starting"
    run.update_status(created_ts=time.time() - START_GRACE_S - 1)
    assert run.state() == "interrupted"


def test_a_run_on_another_host_is_trusted_while_its_heartbeat_is_fresh_then_stale() -> None:
    run = _run()
    run.update_status(state="running", host="another-machine")
    (run.path / LOCK_NAME).touch()
    assert run.state() == "running"
    old = time.time() - STALE_AFTER_S - 5
    os.utime(run.path / LOCK_NAME, (old, old))
    assert run.state() == "stale"


def test_the_heartbeat_touches_the_lock_file_while_the_lock_is_held(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.runs import liveness

    monkeypatch.setattr(liveness, "HEARTBEAT_INTERVAL_S", 0.01)
    run = _run()
    lock = RunLock(run.path)
    lock.acquire(run.id)
    old = time.time() - 100
    os.utime(run.path / LOCK_NAME, (old, old))
    deadline = time.monotonic() + 30
    while liveness.heartbeat_age(run.path) > 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    lock.release()
    assert liveness.heartbeat_age(run.path) < 50


@pytest.mark.slow
def test_the_kernel_names_the_process_holding_the_lock() -> None:
    run = _run()
    assert lock_holder(run.path) is None
    holder = hold_lock(run)
    try:
        assert lock_holder(run.path) == holder.pid
    finally:
        holder.kill()
        holder.wait()
    assert lock_holder(run.path) is None


@pytest.mark.slow
def test_a_stop_request_goes_to_the_lock_holder_never_to_a_pid_left_in_the_status() -> None:
    from workbench.runs.process_control import send_request

    run = _run()
    holder = hold_lock(run)
    run.update_status(state="running", pid=os.getpid())  # a stale pid: here, this very test process
    try:
        send_request(run, "stop")
        assert holder.wait(timeout=30) == -signal.SIGTERM
    finally:
        holder.kill()
        holder.wait()
