"""Start a run as a training process of its own, detached from whoever started it.

The app and ``workbench train --detach`` come here. The run folder is made first (so the run
has an id, a config.toml and a log file at once), then ``workbench train --run-dir`` (or
``workbench resume``) is started in a process session of its own: no controlling terminal, its
output going to the run's ``log``. Closing the app, the terminal or the SSH connection that
started it does not stop it. Nothing here imports the engine: a run is trained by a command.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from workbench.runs.folder import RunDir
from workbench.runs.resume_rules import check_new_total, check_resumable
from workbench.runs.status import STARTING
from workbench.runs.store import create_run
from workbench.schema.config import RunConfig


def launch_new_run(
    config: RunConfig,
    *,
    device: str | None = None,
    tensorboard: str | None = None,
    notify: str | None = None,
    sweep: str = "",
    queue_entry: str = "",
) -> RunDir:
    """Make the run's folder (the config validated and normalised) and start training it.
    ``tensorboard``: also write event files, to that folder ("": the run's own ``tb/``);
    ``notify``: a command or URL told when the run ends (``--notify``); ``sweep``,
    ``queue_entry``: the run's sweep and queue entry (the queue's feeder starts it)."""
    run = create_run(config, sweep=sweep, queue_entry=queue_entry)
    args = ["train", "--run-dir", str(run.path), *(["--device", device] if device else [])]
    _spawn(args + _notify_args(notify) + _tensorboard_args(tensorboard), run)
    return run


def launch_resume(
    run: RunDir,
    *,
    epochs: int | None = None,
    device: str | None = None,
    tensorboard: str | None = None,
    notify: str | None = None,
) -> RunDir:
    """Continue ``run`` from its last checkpoint in a new training process (``tensorboard``,
    ``notify``: as for :func:`launch_new_run`)."""
    check_resumable(run)
    status = run.read_status()
    check_new_total(run.id, status.epochs_done, status.epochs, epochs)
    run.update_status(state=STARTING, pid=None, launched_ts=time.time(), message="")
    args = ["resume", str(run.path)]
    if epochs is not None:
        args += ["--epochs", str(epochs)]
    if device:
        args += ["--device", device]
    _spawn(args + _notify_args(notify) + _tensorboard_args(tensorboard), run)
    return run


def _notify_args(notify: str | None) -> list[str]:
    return ["--notify", notify] if notify else []


def _tensorboard_args(tensorboard: str | None) -> list[str]:
    """``--tensorboard [DIR]`` last on the line: its DIR is optional, so nothing may follow it."""
    if tensorboard is None:
        return []
    return ["--tensorboard", tensorboard] if tensorboard else ["--tensorboard"]


def training_command(args: list[str]) -> list[str]:
    """The command line of a Workbench command run by this same interpreter."""
    return [sys.executable, "-m", "workbench", *args]


def _spawn(args: list[str], run: RunDir) -> None:
    spawn_detached(args, run.log_path)


def spawn_detached(args: list[str], log_path: Path) -> None:
    """Start the Workbench command ``args`` in a session of its own, its output going to ``log_path``."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            training_command(args),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # setsid: no controlling terminal, no SIGHUP when it closes
            close_fds=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    # Reap it when it ends, so that a long-lived launcher (the app) keeps no zombie around.
    threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()
