"""How samples are divided into train, validation and test, and an epoch into batches.

The test split of a dataset without an official one is drawn with a constant seed, so it never
changes between runs, seeds or machines: scores on it stay comparable. The validation split is
carved from the training split with the run's seed; the test split is never touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.errors import DataError
from workbench.formatting import counted

if TYPE_CHECKING:
    import numpy as np

#: Share of samples held out as the test set where a dataset has no official test split.
TEST_FRACTION = 0.2
#: Constant, so that the test set of digits, diabetes, spirals, csv... is the same for every run.
TEST_SPLIT_SEED = 20240229


def fixed_split_sizes(total: int, what: str) -> tuple[int, int]:
    """(train, test) sizes of the fixed split of ``total`` samples."""
    if total < 2:
        raise DataError(f"{what}: {counted(total, 'sample')}; need at least 2 to hold out a test set")
    test = min(total - 1, max(1, round(total * TEST_FRACTION)))
    return total - test, test


def fixed_test_split(total: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, test) indices of the fixed split; independent of any run setting."""
    import numpy as np  # here, not at the top: validating an experiment (the app's first frame) needs no numpy

    _, test = fixed_split_sizes(total, what)
    order = np.random.default_rng(TEST_SPLIT_SEED).permutation(total)
    return np.sort(order[test:]), np.sort(order[:test])


def carve_validation(train_total: int, val_fraction: float, subset: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, val) indices into the training split, drawn with the run's ``seed``.

    ``val_fraction`` > 0 always leaves at least one sample on each side; ``subset`` (> 0) then
    keeps a seeded random choice of that many training samples.
    """
    import numpy as np  # here, not at the top: validating an experiment (the app's first frame) needs no numpy

    val = validation_size(train_total, val_fraction)
    order = np.random.default_rng(seed).permutation(train_total)
    train = order[val:]
    if subset > 0:
        train = train[:subset]
    return np.sort(train), np.sort(order[:val])


def validation_size(train_total: int, val_fraction: float) -> int:
    """Samples :func:`carve_validation` holds out of a training split of ``train_total``."""
    if val_fraction <= 0 or train_total < 2:
        return 0
    return min(train_total - 1, max(1, round(train_total * val_fraction)))


def batch_bounds(count: int, batch_size: int, training: bool) -> list[tuple[int, int]]:
    """(start, stop) of each batch. Training drops a last batch of one sample, on which
    BatchNorm cannot compute a variance; evaluation keeps every sample."""
    bounds = [(start, min(start + batch_size, count)) for start in range(0, count, batch_size)]
    if training and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds.pop()
    return bounds


def steps_per_epoch(train_samples: int, batch_size: int) -> int:
    """Optimizer steps in one epoch over ``train_samples``: what the training batches yield."""
    return len(batch_bounds(train_samples, batch_size, training=True))
