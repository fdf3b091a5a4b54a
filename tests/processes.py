"""Real training processes for tests: `workbench train` started as a user would, and waits on
the run's own files (never on a fixed sleep)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from workbench.runs.folder import RunDir
from workbench.runs.listing import list_runs

#: Enough epochs of digits-cnn (about 0.2 s each) that a test acts in the middle of the run.
LONG_EPOCHS = "400"


def wait_until(condition: Callable[[], object], timeout: float = 90.0, what: str = "condition") -> None:
    """Poll ``condition()`` until it is true; generous, since a loaded machine starts torch slowly."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(0.02)


def workbench(*args: str, **options: object) -> subprocess.Popen[str]:
    """``workbench ARGS`` in a process of its own (in the test's WORKBENCH_HOME)."""
    return subprocess.Popen(
        [sys.executable, "-m", "workbench", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **options,  # type: ignore[call-overload]
    )


def only_run() -> RunDir:
    (summary,) = list_runs()
    return RunDir(Path(summary.path))


def epochs_done(run: RunDir) -> int:
    return run.read_status().epochs_done


#: A process that takes a run's lock the way a trainer does, says so, then waits to be killed.
LOCK_HOLDER = """
import sys, time
from pathlib import Path
from workbench.runs.liveness import RunLock
RunLock(Path(sys.argv[1])).acquire("test")
print("locked", flush=True)
time.sleep(600)
"""


def hold_lock(run: RunDir) -> subprocess.Popen[str]:
    """A stand-in trainer: a live process holding ``run``'s lock (kill it when done)."""
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(run.path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    run.update_status(pid=holder.pid)
    return holder


def train_in_background(*args: str) -> tuple[subprocess.Popen[str], RunDir]:
    """A non-detached `workbench train digits-cnn` with a long run; returns it once it trains."""
    process = workbench("train", "digits-cnn", "--epochs", LONG_EPOCHS, *args)
    wait_until(lambda: list_runs() and list_runs()[-1].state == "running", what="the run to start")
    run = RunDir(Path(list_runs()[-1].path))
    wait_until(lambda: epochs_done(run) >= 1, what="a first epoch")
    return process, run
