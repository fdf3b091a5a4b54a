"""Standardisation with training statistics, applied per batch on the training device.

Images stay uint8 in memory (4x smaller than float, and what pictures are drawn from); each
batch becomes float only when it is used. Statistics are per channel for images and per
column for tabular data, always computed from the training samples alone, so nothing about
the validation or test sets leaks into training.
"""

from __future__ import annotations

import torch
from torch import Tensor

#: Samples per chunk when summing statistics, to bound the float64 temporary.
STATS_CHUNK = 1024
#: A channel or column with a smaller spread is left unscaled rather than blown up.
MIN_STD = 1e-6


class Normaliser:
    """``(batch - mean) / std`` with broadcastable ``mean`` and ``std`` of shape (1, C, 1, 1) or (1, F).

    Token ids (int64 samples of a text or sequence set) pass through untouched: they index an
    Embedding, and scaling them would make them meaningless.
    """

    def __init__(self, mean: Tensor, std: Tensor, *, tokens: bool = False) -> None:
        self.mean = mean
        self.std = std
        self._scale = 1.0 / std
        self.tokens = tokens

    @classmethod
    def fit(cls, train_inputs: Tensor, standardise: bool) -> Normaliser:
        """Statistics of ``train_inputs``, or, without ``standardise``, just uint8 0..255 -> 0..1."""
        if train_inputs.dtype == torch.int64:
            return cls(torch.zeros(()), torch.ones(()), tokens=True)
        shape = (1, train_inputs.shape[1]) + (1,) * (train_inputs.ndim - 2)
        if not standardise:
            spread = 255.0 if train_inputs.dtype == torch.uint8 else 1.0
            return cls(torch.zeros(shape), torch.full(shape, spread))
        mean, std = channel_stats(train_inputs)
        return cls(mean.reshape(shape), std.reshape(shape))

    def to(self, device: torch.device) -> Normaliser:
        return Normaliser(self.mean.to(device), self.std.to(device), tokens=self.tokens)

    def __call__(self, batch: Tensor) -> Tensor:
        """Images (uint8) or features in, float32 out. The subtraction casts uint8 as it reads,
        to the same values as ``batch.float()`` first: one kernel fewer per batch, which counts
        on a GPU, where a small model's step is bound by launching kernels."""
        if self.tokens:
            return batch
        values = batch if batch.dtype == torch.uint8 else batch.float()
        return (values - self.mean) * self._scale


def channel_stats(inputs: Tensor) -> tuple[Tensor, Tensor]:
    """Float32 mean and std over every dimension but the second (channels or columns)."""
    dims = [0, *range(2, inputs.ndim)]
    total = torch.zeros(inputs.shape[1], dtype=torch.float64, device=inputs.device)
    squares = torch.zeros_like(total)
    for chunk in inputs.split(STATS_CHUNK):
        values = chunk.double()
        total += values.sum(dims)
        squares += values.square().sum(dims)
    count = max(1, inputs.numel() // max(1, inputs.shape[1]))
    mean = total / count
    std = (squares / count - mean.square()).clamp_min(0).sqrt()
    std = torch.where(std < MIN_STD, torch.ones_like(std), std)
    return mean.float(), std.float()
