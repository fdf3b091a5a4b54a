"""When a run can be resumed, and with what total of epochs: one set of rules for the trainer,
``workbench resume`` and the Runs screen."""

from __future__ import annotations

from workbench.errors import CheckpointError, ConfigError
from workbench.runs.folder import RunDir
from workbench.runs.liveness import RunBusyError, handed_to_this_process, lock_is_held
from workbench.runs.status import FINISHED, LIVE_STATES, STARTING, RunStatus


def check_resumable(run: RunDir) -> None:
    """Raise, in one line, why ``run`` cannot be resumed now (a live process, no checkpoint)."""
    state = run.state()
    # A process was started for it: this may be it (holding the lock its launcher handed it).
    launched = state == STARTING and (not lock_is_held(run.path) or handed_to_this_process(run.path))
    if state in LIVE_STATES and not launched:
        raise RunBusyError(f"run {run.id} is {state} in process {run.read_status().pid}; it needs no resume")
    if not run.last_checkpoint.is_file() and not starts_over(run):
        raise CheckpointError(f"run {run.id} has no checkpoint to resume from ({run.last_checkpoint} is missing)")


def starts_over(run: RunDir, status: RunStatus | None = None) -> bool:
    """True when ``run`` never trained an epoch and has no checkpoint: its process died (or
    failed) before, or was never started (a launcher killed between making the folder and
    starting it). Resuming it trains it from scratch, as the same run; nothing is lost."""
    status = status or run.read_status()  # ``status``: already read, by a caller that lists runs
    return status.epochs_done == 0 and not run.last_checkpoint.exists()


def needs_new_total(epochs_done: int, total: int, state: str, mid_epoch: bool = False) -> bool:
    """True when the run has trained every epoch it planned and recorded its end: resuming needs
    a larger total. A run in any other ``state`` (recorded or shown) that trained every epoch was
    killed, or failed, in its final test: a resume runs that test and the run ends finished."""
    return epochs_done >= total and not mid_epoch and state == FINISHED


def suggested_total(epochs: int) -> int:
    """The total of epochs proposed for training further a run that trained all ``epochs``:
    half as many again, at least one more (the Runs screen's r asks, with this filled in)."""
    return epochs + max(1, epochs // 2)


def check_new_total(
    run_id: str, epochs_done: int, total: int, state: str, requested: int | None, mid_epoch: bool = False
) -> None:
    """Raise a ConfigError when ``requested`` (``--epochs``) cannot continue the run."""
    if requested is not None and requested <= epochs_done:
        raise ConfigError(
            f"--epochs {requested}: run {run_id} has done {epochs_done} epochs; give a larger total", field="train.epochs"
        )
    if requested is None and needs_new_total(epochs_done, total, state, mid_epoch):
        raise ConfigError(
            f"run {run_id} has done all {total} epochs; pass --epochs N (N > {epochs_done}) to train further",
            field="train.epochs",
        )
