"""Vectorised image augmentation of whole training batches on the training device.

The random choices of an epoch (crop offsets, flips) are drawn once from the epoch's seeded
generator, one per position in the epoch's order, so a resumed run augments exactly as the
original would have. Works on uint8 images before normalisation, padding with black, as
torchvision's RandomCrop(padding=p) and RandomHorizontalFlip do per sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from workbench.schema.config import AugmentConfig


@dataclass(frozen=True)
class AugmentDraw:
    """One epoch's random choices, indexed by position in the epoch's order."""

    padding: int
    offsets: Tensor | None  # (N, 2) int64 row/column offsets in [0, 2 * padding], or None
    flips: Tensor | None  # (N,) bool, or None

    def to(self, device: torch.device) -> AugmentDraw:
        return AugmentDraw(
            self.padding,
            None if self.offsets is None else self.offsets.to(device),
            None if self.flips is None else self.flips.to(device),
        )


def is_active(augment: AugmentConfig) -> bool:
    return augment.random_crop_padding > 0 or augment.horizontal_flip


def draw_augmentation(augment: AugmentConfig, count: int, generator: torch.Generator) -> AugmentDraw:
    padding = augment.random_crop_padding
    offsets = torch.randint(0, 2 * padding + 1, (count, 2), generator=generator) if padding > 0 else None
    flips = torch.rand(count, generator=generator) < 0.5 if augment.horizontal_flip else None
    return AugmentDraw(padding, offsets, flips)


def augment_batch(images: Tensor, draw: AugmentDraw, start: int, stop: int) -> Tensor:
    """Augment the batch that holds positions ``start:stop`` of the epoch's order."""
    offsets = None if draw.offsets is None else draw.offsets[start:stop]
    flips = None if draw.flips is None else draw.flips[start:stop]
    return crop_and_flip(images, offsets, flips, draw.padding)


def crop_and_flip(images: Tensor, offsets: Tensor | None, flips: Tensor | None, padding: int) -> Tensor:
    """Pad each (C, H, W) image by ``padding``, cut an H x W window at its own offset, and
    mirror it where ``flips`` says: one gather for the whole batch, whichever is asked."""
    batch, channels, height, width = images.shape
    source = F.pad(images, (padding, padding, padding, padding)) if padding else images
    rows = torch.arange(height, device=images.device).expand(batch, height)
    cols = torch.arange(width, device=images.device).expand(batch, width)
    if offsets is not None:
        rows = rows + offsets[:, 0, None]
        cols = cols + offsets[:, 1, None]
    if flips is not None:
        cols = torch.where(flips[:, None], cols.flip(1), cols)
    index = rows[:, :, None] * (width + 2 * padding) + cols[:, None, :]
    index = index.reshape(batch, 1, height * width).expand(batch, channels, height * width)
    return source.reshape(batch, channels, -1).gather(2, index).reshape(batch, channels, height, width)
