"""A checkpoint's model rebuilt with its data: what ``eval``, ``predict`` and ``export`` start from.

The checkpoint is read with :func:`checkpoint_io.read_checkpoint` (weights only, checksum
verified), its experiment validated like any other before a model is built from it, and the
parts rebuilt by :func:`setup.build_parts`, so the data splits and the normalisation fitted on
the training samples are exactly those of the run that wrote it. A run that trained the user's
own code is rebuilt with the run's copy of it (:mod:`workbench.usercode.copies`): the code it
trained with, whatever the user changed since, and only once that copy passed the trust checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from workbench.engine.checkpoint_io import read_checkpoint
from workbench.engine.setup import Parts, build_parts
from workbench.errors import CheckpointError, ConfigError
from workbench.experiment.validation import validate
from workbench.schema import config as config_io
from workbench.schema.config import RunConfig
from workbench.usercode.copies import check_named_code, use_run_code


@dataclass
class RestoredModel:
    """The trained model of one checkpoint, its experiment and the parts built from it."""

    path: Path
    checkpoint: dict[str, Any]
    config: RunConfig
    parts: Parts
    epoch: int

    @property
    def module(self) -> nn.Module:
        """The plain model (not compiled, not wrapped) with the checkpoint's weights, in eval mode."""
        return self.parts.prepared.module

    @property
    def run_id(self) -> str:
        return str(self.checkpoint.get("run_id", ""))


def restore_model(path: Path, *, device: str | None = None) -> RestoredModel:
    """Read the checkpoint at ``path`` and rebuild its model and data; one line for any problem.
    A checkpoint in a run's folder (``<run>/checkpoints/``) that names the user's code runs the
    run's copy of it, refused unless this user made it and it is unchanged (or this process was
    told to trust it: the commands' ``--trust-code``, :mod:`workbench.cli.code_trust`); one
    elsewhere runs the files its experiment names only if they are this user's alone."""
    state = read_checkpoint(path)
    folder = Path(path).resolve().parent
    run = folder.parent if folder.name == "checkpoints" and (folder.parent / "config.toml").is_file() else None
    try:  # validated like any experiment before a model is built from it (sizes, catalogs, shapes);
        # not the weights file or the device it trained with: the checkpoint holds the weights
        stored = config_io.from_dict(state["config"])
        if run is not None:  # before validation runs the code; the commands say what changed since
            use_run_code(run, stored)
        else:
            check_named_code(stored, Path(path))
        config = validate(stored, machine=False)
    except ConfigError as error:
        raise CheckpointError(f"{path}: its experiment is not valid: {error}") from None
    parts = build_parts(config, device=device, for_training=False)
    try:
        parts.prepared.module.load_state_dict(state["model"])
    except (RuntimeError, TypeError) as error:
        raise CheckpointError(f"{path}: its weights do not fit its own model ({str(error).splitlines()[0]})") from None
    epoch = state["epoch"]
    if not isinstance(epoch, int):
        raise CheckpointError(f"{path}: its epoch is {epoch!r}, not a whole number")
    parts.prepared.module.eval()
    return RestoredModel(Path(path), state, config, parts, epoch)
