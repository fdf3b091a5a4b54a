"""Images resized per batch on the training device, for a model that works at a fixed size.

A pretrained backbone expects 3-channel images at the size its weights were trained at (224),
normalised with the statistics of their training set (ImageNet's). Resizing every stored image
once would multiply the dataset's memory by up to 49 (CIFAR's 32x32 to 224x224), so images stay
small and uint8 in memory and each batch is resized when it is used: one interpolation of the
whole batch, grey images repeated to 3 channels, then the usual fused normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from workbench.data.normalise import Normaliser

#: Images are uint8 in memory: statistics given on the 0..1 scale are scaled by this.
PIXEL_MAX = 255.0
CHANNELS = 3


@dataclass(frozen=True)
class InputResize:
    """How a batch of images is prepared for the model."""

    size: int  # resized to size x size
    interpolation: str  # "bilinear" or "bicubic", as the weights' own transform does
    #: Per-channel statistics on the 0..1 scale (ImageNet's for published weights); None keeps
    #: the dataset's own normalisation (data.normalize).
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None


class ResizingNormaliser(Normaliser):
    """Resize to ``size`` x ``size``, repeat grey to 3 channels, then ``(x - mean) / std``."""

    def __init__(self, mean: Tensor, std: Tensor, size: int, interpolation: str) -> None:
        super().__init__(mean, std)
        self.size = size
        self.interpolation = interpolation

    def to(self, device: torch.device) -> ResizingNormaliser:
        return ResizingNormaliser(self.mean.to(device), self.std.to(device), self.size, self.interpolation)

    def __call__(self, batch: Tensor) -> Tensor:
        images = batch.float()
        if images.shape[-2:] != (self.size, self.size):
            # antialias matters when shrinking (a folder of large photos) and is exact when enlarging.
            images = F.interpolate(images, size=(self.size, self.size), mode=self.interpolation, antialias=True)
            if self.interpolation == "bicubic":  # overshoots at edges; torchvision's uint8 path clamps too
                images = images.clamp(0.0, PIXEL_MAX)
        if images.shape[1] == 1:
            images = images.expand(-1, CHANNELS, -1, -1)
        return (images - self.mean) * self._scale


def resizing(normaliser: Normaliser, resize: InputResize | None) -> Normaliser:
    """``normaliser`` (the dataset's statistics) as it must be for ``resize``; unchanged without one."""
    if resize is None:
        return normaliser
    if resize.mean is None or resize.std is None:
        return ResizingNormaliser(normaliser.mean, normaliser.std, resize.size, resize.interpolation)
    shape = (1, CHANNELS, 1, 1)
    mean = torch.tensor(resize.mean).reshape(shape) * PIXEL_MAX
    std = torch.tensor(resize.std).reshape(shape) * PIXEL_MAX
    return ResizingNormaliser(mean, std, resize.size, resize.interpolation)
