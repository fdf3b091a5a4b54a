"""Batches for the training loop: tensors on the training device, cut by slicing.

The hot loop does no per-sample Python: a batch is one index (or slice) of tensors that went
to the device once, then one vectorised augmentation and one fused normalisation. The order
of an epoch comes from a generator seeded by (seed, epoch) alone, so a run resumed at epoch 7
sees exactly the batches the original run saw. Validation and test splits are never shuffled
or augmented: their batches come in sample order 0..N-1.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from workbench.data.augment import AugmentDraw, augment_batch, draw_augmentation, is_active
from workbench.data.normalise import Normaliser
from workbench.data.sharding import WHOLE, Shard, evaluation_bounds, training_shard
from workbench.data.splitting import batch_bounds
from workbench.errors import DataError
from workbench.schema.config import AugmentConfig


class Batches(Protocol):
    """One split, ready to iterate: in memory on the device, or streamed from files."""

    num_samples: int
    batch_size: int

    def __len__(self) -> int:
        """Batches per epoch."""
        ...

    def epoch(self, epoch: int) -> Iterator[tuple[Tensor, Tensor]]:
        """(inputs, targets) on the device: inputs float, normalised (and augmented for training)."""
        ...

    def raw_images(self, indices: Sequence[int] | Tensor) -> Tensor:
        """uint8 (N, C, H, W) images of these samples as stored, for pictures (image sets only)."""
        ...


@dataclass(frozen=True)
class EpochPlan:
    order: Tensor  # (N,) int64 on the CPU: the samples in the order this epoch visits them
    augment: AugmentDraw | None


def plan_epoch(count: int, seed: int, epoch: int, augment: AugmentConfig | None) -> EpochPlan:
    """The shuffled order and augmentation choices of one epoch, from (seed, epoch) only."""
    (state,) = np.random.SeedSequence([seed, epoch]).generate_state(1, dtype=np.uint64)
    generator = torch.Generator().manual_seed(int(state))
    order = torch.randperm(count, generator=generator)
    draw = draw_augmentation(augment, count, generator) if augment is not None and is_active(augment) else None
    return EpochPlan(order, draw)


def shard_bounds(count: int, batch_size: int, training: bool, shard: Shard) -> list[tuple[int, int]]:
    """(start, stop) of the batches one worker takes (all of them when it works alone): positions
    in the epoch's order for training, sample positions for evaluation."""
    if training:
        return training_shard(batch_bounds(count, batch_size, training=True), shard)
    return evaluation_bounds(count, batch_size, shard)


class TensorBatches:
    """A split held as tensors on the training device (uint8 images, float32 features)."""

    def __init__(
        self,
        inputs: Tensor,
        targets: Tensor,
        *,
        batch_size: int,
        normaliser: Normaliser,
        shuffle_seed: int | None = None,
        augment: AugmentConfig | None = None,
        shard: Shard = WHOLE,
    ) -> None:
        """``shuffle_seed`` makes this a training split (seeded order per epoch, ``augment`` applied);
        ``shard``: the worker of a distributed run these batches are for (its share of each)."""
        self.num_samples = len(inputs)
        self.batch_size = batch_size
        self._inputs = inputs
        self._targets = targets
        self._normaliser = normaliser.to(inputs.device)
        self._seed = shuffle_seed
        self._augment = augment
        self._bounds = shard_bounds(self.num_samples, batch_size, shuffle_seed is not None, shard)

    def __len__(self) -> int:
        return len(self._bounds)

    def epoch(self, epoch: int) -> Iterator[tuple[Tensor, Tensor]]:
        if self._seed is None:
            for start, stop in self._bounds:
                yield self._normaliser(self._inputs[start:stop]), self._targets[start:stop]
            return
        plan = plan_epoch(self.num_samples, self._seed, epoch, self._augment)
        order = plan.order.to(self._inputs.device)
        draw = plan.augment.to(self._inputs.device) if plan.augment is not None else None
        for start, stop in self._bounds:
            picked = order[start:stop]
            inputs = self._inputs[picked]
            if draw is not None:
                inputs = augment_batch(inputs, draw, start, stop)
            yield self._normaliser(inputs), self._targets[picked]

    def raw_images(self, indices: Sequence[int] | Tensor) -> Tensor:
        if self._inputs.dtype != torch.uint8:
            raise DataError("this dataset has no images to show (its samples are numbers)")
        picked = torch.as_tensor(indices, dtype=torch.long, device=self._inputs.device)
        return self._inputs[picked].cpu()
