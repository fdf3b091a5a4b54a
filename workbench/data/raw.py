"""A dataset as it comes from its source: numpy arrays for a fixed train and test split.

Every source returns this one shape of data, so loading, batching and previews treat digits,
a CSV file and CIFAR-10 alike. Images are uint8 ``(N, C, H, W)`` exactly as stored; tabular
data and points are float32 ``(N, F)``. Targets are int64 class indices ``(N,)`` or float32
regression targets ``(N, T)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RawSplit:
    inputs: np.ndarray
    targets: np.ndarray

    def __len__(self) -> int:
        return len(self.inputs)

    def take(self, indices: np.ndarray) -> RawSplit:
        return RawSplit(self.inputs[indices], self.targets[indices])


@dataclass(frozen=True)
class RawDataset:
    train: RawSplit
    test: RawSplit
    class_names: tuple[str, ...]  # empty for regression


def split_fixed(inputs: np.ndarray, targets: np.ndarray, class_names: tuple[str, ...], what: str) -> RawDataset:
    """A RawDataset from all samples of a set that has no official test split."""
    from workbench.data.splitting import fixed_test_split

    train, test = fixed_test_split(len(inputs), what)
    everything = RawSplit(inputs, targets)
    return RawDataset(everything.take(train), everything.take(test), class_names)
