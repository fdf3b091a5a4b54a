"""Pause, continue and stop a run's training process from any other process of the same user.

The channel is POSIX signals to the process that holds the run's lock: the kernel lets a user
signal only their own processes, so another user can never control a run, and there is nothing
to poll or clean up. The training process turns each signal into a request to its trainer
(:mod:`workbench.engine.signals`), which acts at the next step boundary and records the new
state in status.json; :func:`wait_for_state` watches for that. A signal goes only to a process
that holds the run's lock, never to a pid that a dead run left in its status.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable

from workbench.errors import WorkbenchError
from workbench.runs.folder import RunDir
from workbench.runs.liveness import lock_holder, lock_is_held
from workbench.runs.status import INTERRUPTED, LIVE_STATES, PAUSED, RUNNING, STALE, STARTING, RunStatus

PAUSE_SIGNAL = signal.SIGUSR1
CONTINUE_SIGNAL = signal.SIGUSR2
STOP_SIGNAL = signal.SIGTERM

ACTIONS: dict[str, signal.Signals] = {"pause": PAUSE_SIGNAL, "continue": CONTINUE_SIGNAL, "stop": STOP_SIGNAL}


def send_request(run: RunDir, action: str) -> RunStatus:
    """Ask the process training ``run`` to pause, continue or stop; returns the status seen.

    Raises a WorkbenchError in one line when the run has no live process here to ask.
    """
    status = run.read_status()
    state = run.state()
    if state not in LIVE_STATES:
        raise WorkbenchError(_not_live(run, state, action))
    if status.host and status.host != socket.gethostname():
        raise WorkbenchError(f"run {run.id} trains on host {status.host}; {action} it from there")
    if state == STARTING and not _trainer_holds_lock(run, status):
        raise WorkbenchError(f"run {run.id} is still starting; try again in a moment")
    if action == "pause" and state == PAUSED:
        raise WorkbenchError(f"run {run.id} is already paused; `workbench continue {run.id}` continues it")
    if action == "continue" and state == RUNNING:
        raise WorkbenchError(f"run {run.id} is running, not paused")
    _signal(run, status, action)
    return status


def _trainer_holds_lock(run: RunDir, status: RunStatus) -> bool:
    """True once the run's own training process holds its lock."""
    holder = lock_holder(run.path)
    return _trainer(holder, status) is not None if holder is not None else lock_is_held(run.path)


def _trainer(holder: int | None, status: RunStatus) -> int | None:
    """The lock ``holder`` the kernel's table names, unless it may be the launcher: a lock handed
    over (status.lock_handed) is named after the process that took it, the app or the queue's
    feeder, until the trainer takes it over and writes its pid in the status just after. A stop
    must never reach the launcher."""
    launching = status.state == STARTING and status.lock_handed
    return holder if not launching or holder == status.pid else None


def _signal(run: RunDir, status: RunStatus, action: str) -> None:
    """Signal the process that holds the run's lock: the kernel's lock table names it exactly
    (a pid left in a status may be a dead run's, reused since), but never a launcher that handed
    the lock over (:func:`_trainer`). Where that table cannot be read, the status's pid is used
    once the lock is held; the trainer writes it just after taking the lock, so a moment's wait
    may be needed."""
    for _ in range(100):
        holder = lock_holder(run.path)
        pid = _trainer(holder, status)
        if holder is None and lock_is_held(run.path):
            pid = status.pid if status.state in (RUNNING, PAUSED) else None
        if pid is not None:
            try:
                os.kill(pid, ACTIONS[action])
                return
            except ProcessLookupError:
                pass
            except PermissionError:
                raise WorkbenchError(
                    f"run {run.id} is trained by process {pid} of another user; only its owner can {action} it"
                ) from None
        if not lock_is_held(run.path):
            raise WorkbenchError(f"run {run.id}: its process has just ended")
        time.sleep(0.02)
        status = run.read_status()
    raise WorkbenchError(f"run {run.id}: its training process cannot be reached")


def _not_live(run: RunDir, state: str, action: str) -> str:
    if state == INTERRUPTED:
        return f"run {run.id} is interrupted (its process is gone); `workbench resume {run.id}` continues it from its last checkpoint"
    if state == STALE:
        return f"run {run.id} has not been heard from on its host for a while; it cannot be reached from here"
    return f"run {run.id} is {state}; there is nothing to {action}"


#: What each request is waiting to see in the run's state.
REACHED: dict[str, Callable[[str], bool]] = {
    "pause": lambda state: state != RUNNING and state != STARTING,
    "continue": lambda state: state != PAUSED,
    "stop": lambda state: state not in LIVE_STATES,
}


def wait_for_state(run: RunDir, action: str, timeout_s: float, poll_s: float = 0.1) -> str | None:
    """Wait until ``action`` has taken effect; returns the state then, or None on a timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            state = run.state()
        except OSError:
            return "deleted"
        if REACHED[action](state):
            return state
        if time.monotonic() >= deadline:
            return None
        time.sleep(poll_s)
