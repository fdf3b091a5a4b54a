"""Which checkpoint of a run: the one its test used, ``best``, ``last``, an epoch, or a file."""

from __future__ import annotations

from pathlib import Path

from workbench.errors import CheckpointError
from workbench.formatting import counted
from workbench.runs.folder import RunDir
from workbench.schema.config import RunConfig


def chosen_checkpoint(run: RunDir, config: RunConfig) -> Path:
    """The checkpoint a run's test metrics come from: best.pt (restore_best), else last.pt."""
    if config.train.early_stopping.restore_best and run.best_checkpoint.is_file():
        return run.best_checkpoint
    return run.last_checkpoint


def resolve_checkpoint(run: RunDir, which: str | None = None) -> Path:
    """``None`` (the run's chosen one), ``best``, ``last``, an epoch number (``5`` or ``epoch-5``,
    as the files are named), or a file path."""
    if which is not None and which.startswith("epoch-") and which[6:].isdigit():
        which = which[6:]
    if which is None:
        recorded = run.read_status().test_checkpoint
        if recorded and Path(recorded).is_file():
            return Path(recorded)
        return chosen_checkpoint(run, run.read_config())
    if which in ("best", "last"):
        path = run.best_checkpoint if which == "best" else run.last_checkpoint
    elif which.isdigit():
        path = run.epoch_checkpoint(int(which))
        if not path.is_file():
            kept = ", ".join(str(e) for e, _ in run.epoch_checkpoints()) or "none"
            raise CheckpointError(f"run {run.id} has no checkpoint for epoch {which} (kept epochs: {kept})")
    else:
        path = Path(which).expanduser()
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    return path


def checkpoint_choices(run: RunDir, best_epoch: int | None, epochs_done: int | None) -> list[tuple[Path, str]]:
    """best.pt, last.pt and the kept epoch files, newest epoch first, with what each holds."""
    choices = []
    if run.best_checkpoint.is_file():
        choices.append((run.best_checkpoint, f"epoch {best_epoch} (best)" if best_epoch else "best so far"))
    if run.last_checkpoint.is_file():
        choices.append(
            (run.last_checkpoint, f"{counted(epochs_done, 'epoch')} done" if epochs_done is not None else "the latest")
        )
    for epoch, path in reversed(run.epoch_checkpoints()):
        choices.append((path, f"epoch {epoch}"))
    return choices
