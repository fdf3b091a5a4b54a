"""Build what a run computes with from its config: device, data, model, loss, precision.

Training and evaluation share this, so a checkpoint evaluated later sees the same splits (the
validation split is carved with the run's seed), the same model layout and the same device rules
as the run that wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from workbench.data.loading import Splits, load_splits
from workbench.data.resize import InputResize
from workbench.data.sharding import check_global_batch
from workbench.engine.device import (
    Precision,
    PreparedModel,
    device_memory,
    device_name,
    prepare_model,
    resolve_device,
    resolve_precision,
)
from workbench.engine.distributed import Team, worker_device
from workbench.engine.seeding import seed_everything
from workbench.errors import ConfigError, DataError
from workbench.experiment.validation import dataset_info
from workbench.formatting import counted
from workbench.model.backbones import IMAGENET_MEAN, IMAGENET_STD, FrozenPart, backbone_input, frozen_parts
from workbench.model.build import build_model
from workbench.model.memory import byte_size, memory_text, training_memory
from workbench.model.shapes import analyse_model
from workbench.optim.build import build_loss
from workbench.schema.config import ModelConfig, RunConfig


@dataclass
class Parts:
    device: torch.device
    precision: Precision
    splits: Splits
    prepared: PreparedModel
    loss_fn: nn.Module
    warnings: list[str] = field(default_factory=list)
    #: The pretrained backbones' frozen parameters, by layer (the trainer unfreezes them on time).
    frozen: tuple[FrozenPart, ...] = ()

    @property
    def task(self) -> str:
        return self.splits.info.task

    @property
    def num_outputs(self) -> int:
        return self.splits.info.num_outputs

    def steps_per_epoch(self) -> int:
        """Training batches per epoch; a split too small for one batch is refused in one line."""
        steps = len(self.splits.train)
        if steps == 0:
            raise DataError(
                f"data: no batch can be made of {counted(self.splits.train.num_samples, 'training sample')}; "
                "use more (data.subset, data.val_fraction)"
            )
        return steps


def build_parts(config: RunConfig, *, device: str | None = None, for_training: bool, team: Team | None = None) -> Parts:
    """Everything but the optimizer. Seeds before the data split and again before the weights,
    so that the initial weights depend on the seed alone (not on how the data was loaded).

    ``team``: the workers of a distributed run, which this process joins here; it then takes its
    GPU (one per worker on a machine), its share of the data, and a model wrapped in
    DistributedDataParallel. Each worker's later random draws (dropout) are its own."""
    team = team or Team()
    where = "--device" if device else "train.device"
    resolved = worker_device(team.place, resolve_device(device or config.train.device, where))
    if not team.alone:
        check_global_batch(config.data.batch_size, team.place.workers)
        refuse_unfreezing_together(config.model)
    refuse_what_cannot_fit(config, resolved)
    team.join(resolved)
    seed_everything(config.train.seed)
    splits = load_splits(config.data, config.train.seed, resolved, input_resize(config.model), shard=team.place.shard)
    seed_everything(config.train.seed)
    # Evaluation loads a checkpoint next, which holds every weight: published ones are not read.
    module = build_model(
        config.model,
        splits.info.input_shape,
        splits.info.num_outputs,
        vocab_size=splits.info.vocab_size,
        published_weights=for_training,
    )
    prepared = prepare_model(module, config.train, resolved, for_training=for_training, team=team)
    if team.place.rank:
        seed_everything(config.train.seed + team.place.rank)
    precision, warnings = resolve_precision(config.train.precision, resolved)
    loss_fn = build_loss(config.loss).to(resolved)
    frozen = frozen_parts(
        analyse_model(config.model, splits.info.input_shape, splits.info.num_outputs, vocab_size=splits.info.vocab_size).layers
    )
    return Parts(resolved, precision, splits, prepared, loss_fn, warnings + prepared.warnings, frozen)


def refuse_unfreezing_together(model: ModelConfig) -> None:
    """DistributedDataParallel averages the gradients of the parameters that train when it is
    built: a backbone unfrozen later would train apart on each worker. One line, naming the layer."""
    for index, layer in enumerate(model.layers):
        if layer.params.get("unfreeze_after"):
            raise ConfigError(
                f"model.layers.{index}.unfreeze_after: several workers cannot unfreeze a backbone during a run "
                "(DistributedDataParallel syncs only what trains from the start); train the frozen epochs and the "
                "rest as two runs, or use one worker",
                field=f"model.layers.{index}.unfreeze_after",
            )


def input_resize(model: ModelConfig) -> InputResize | None:
    """How the model's input images are resized and normalised: for a backbone that starts it."""
    wanted = backbone_input(model.layers)
    if wanted is None:
        return None
    if not wanted.imagenet:
        return InputResize(wanted.size, wanted.interpolation)
    return InputResize(wanted.size, wanted.interpolation, IMAGENET_MEAN, IMAGENET_STD)


def refuse_what_cannot_fit(config: RunConfig, device: torch.device) -> None:
    """One line with the numbers, before any data is loaded or memory allocated, for an
    experiment whose estimated training memory exceeds all the device has."""
    info = dataset_info(config)
    estimate = training_memory(
        analyse_model(config.model, info.input_shape, info.num_outputs, vocab_size=info.vocab_size),
        config.data.batch_size,
        config.optimizer.name,
    )
    available = device_memory(device)
    if available is not None and estimate.total > available:
        raise ConfigError(
            f"model: {memory_text(estimate)}, more than the {byte_size(available)} of {device_name(device)}; "
            "make the model or data.batch_size smaller",
            field="model",
        )
