"""What a training checkpoint holds, built from and restored into the run's components.

Every component that a resume must put back (model, optimizer, schedule, grad scaler, position,
best and early-stopping trackers, the epoch's metric totals, the random generators) is saved
through its own ``state_dict()`` and restored through ``load_state_dict()``, here and only here,
so the two directions cannot drift apart. The file format itself is :mod:`checkpoint_io`'s.

Every checkpoint also says how the model's inputs were standardised (``"input"``: the mean and
std of the training split, per channel or column, on the scale the samples are stored in), so
that the model can be used from the file alone in plain PyTorch, with the code view's
``preprocess`` (the README shows it in ten lines); before, the numbers were only in an exported
script. Plain lists, so ``torch.load(weights_only=True)`` reads them; older files lack the key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from workbench.data.normalise import Normaliser
from workbench.engine.loop_state import BestTracker, Position
from workbench.engine.metrics import MetricTotals
from workbench.engine.seeding import capture_rng
from workbench.errors import CheckpointError
from workbench.optim.build import Schedule
from workbench.runs import events as ev
from workbench.runs.folder import RunDir
from workbench.schema import config as config_io
from workbench.schema.config import CheckpointConfig, RunConfig


class _Stateful(Protocol):
    def state_dict(self) -> Any: ...

    def load_state_dict(self, state: Any, /) -> Any: ...


@dataclass
class TrainingState:
    """The components a checkpoint saves, so that a resumed run continues exactly where it was."""

    module: torch.nn.Module
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    scaler: torch.amp.GradScaler
    position: Position
    best: BestTracker
    early: BestTracker
    epoch_totals: MetricTotals


def input_record(normaliser: Normaliser, input_shape: Sequence[int]) -> dict[str, Any]:
    """How a batch of samples as stored (``input_shape`` each: uint8 0..255 for images) becomes
    what the model takes: ``(x - mean) / std`` per channel or column, after the resize a backbone
    does (the code view's ``preprocess``); token ids go in as they are."""
    return {
        "input_shape": list(input_shape),
        "mean": normaliser.mean.flatten().tolist(),
        "std": normaliser.std.flatten().tolist(),
        "tokens": normaliser.tokens,
    }


def _saved_as_they_are(training: TrainingState) -> dict[str, _Stateful]:
    """The components whose state is saved and restored unchanged, by their checkpoint key."""
    return {"model": training.module, "optimizer": training.optimizer, "schedule": training.schedule}


def build_checkpoint(
    training: TrainingState,
    *,
    run_id: str,
    config: RunConfig,
    task: str,
    metrics: dict[str, dict[str, float]],
    epoch_ended: ev.EpochEnded | None = None,
    elapsed_s: float = 0.0,
    epoch_totals: MetricTotals | None = None,
    worker_rngs: list[dict[str, Any]] | None = None,
    inputs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The checkpoint of the run as it is now; ``metrics``: the last epoch's, for readers of the file;
    ``epoch_ended``: the record of the epoch it completes, recorded again on resume if a crash
    came between the checkpoint and the record; ``elapsed_s``: the run's training time so far,
    which a resume continues from. A distributed run's first worker passes the workers'
    ``epoch_totals`` summed (a resume gives them to its first worker) and every worker's random
    state (``worker_rngs``, in rank order; ``rng`` stays the first's, for a single process);
    ``inputs``: how the model's inputs are standardised (:func:`input_record`)."""
    position = training.position.state_dict()
    return {
        "run_id": run_id,
        "config": config_io.to_dict(config),
        "task": task,
        **{key: component.state_dict() for key, component in _saved_as_they_are(training).items()},
        "scaler": training.scaler.state_dict() if training.scaler.is_enabled() else None,
        **position,  # epoch, step, global_step: top-level keys every reader knows
        # Mid-epoch, the epoch's metrics so far, so that its EpochEnded covers the steps before the stop.
        "epoch_totals": (epoch_totals or training.epoch_totals).state_dict() if position["step"] else None,
        "metrics": metrics,
        "best": training.best.state_dict() | {"monitor": training.best.monitor},
        "early_stopping": training.early.state_dict(),
        "rng": worker_rngs[0] if worker_rngs else capture_rng(),
        "worker_rngs": worker_rngs,
        "epoch_ended": epoch_ended.to_dict() if epoch_ended is not None else None,
        "elapsed_s": elapsed_s,
        "input": inputs,
    }


def restore_checkpoint(training: TrainingState, checkpoint: dict[str, Any], path: Path) -> None:
    """Load ``checkpoint`` (read from ``path``) into the components; the random generators are left
    to the caller, who restores them (``checkpoint["rng"]``) once the data is positioned where the run stopped."""
    try:
        for key, component in _saved_as_they_are(training).items():
            component.load_state_dict(checkpoint[key])
        if checkpoint.get("scaler") and training.scaler.is_enabled():
            training.scaler.load_state_dict(checkpoint["scaler"])
        training.best.load_state_dict(checkpoint["best"])
        training.early.load_state_dict(checkpoint["early_stopping"])
        training.position.load_state_dict(checkpoint)
        if checkpoint.get("epoch_totals"):
            training.epoch_totals.load_state_dict(checkpoint["epoch_totals"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        reason = str(error).splitlines()[0]
        raise CheckpointError(f"{path}: does not fit the run's model and optimizer ({reason})") from None


# ----------------------------------------------------------------------------- which files, kept how long


def checkpoint_kinds(policy: CheckpointConfig, epoch: int, is_best: bool) -> tuple[str, ...]:
    """The files an end-of-epoch checkpoint goes to: epoch-NNN as the policy says, last, best."""
    kinds = ["last"]
    if policy.every and epoch % policy.every == 0:
        kinds.insert(0, "epoch")
    if is_best:
        kinds.append("best")
    return tuple(kinds)


def checkpoint_paths(run: RunDir, kinds: Sequence[str], epochs_done: int) -> list[Path]:
    """The files of ``kinds`` for a checkpoint after ``epochs_done`` epochs, in that order."""
    paths = {"epoch": run.epoch_checkpoint(epochs_done), "last": run.last_checkpoint, "best": run.best_checkpoint}
    return [paths[kind] for kind in kinds]


def prune_epoch_checkpoints(run: RunDir, policy: CheckpointConfig, kinds: Sequence[str]) -> None:
    """Retention: once a save wrote an epoch-NNN file, only the policy's ``keep_last`` newest stay."""
    if "epoch" in kinds and policy.keep_last:
        for _, old in run.epoch_checkpoints()[: -policy.keep_last]:
            old.unlink(missing_ok=True)
