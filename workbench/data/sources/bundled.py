"""Real datasets that ship inside scikit-learn, so the default presets train offline."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.data.raw import RawDataset

#: Sizes of the bundled sets, so the registry can describe them without loading scikit-learn.
DIGITS_SAMPLES = 1797
DIABETES_SAMPLES = 442
DIABETES_FEATURES = 10
DIGIT_NAMES = tuple(str(d) for d in range(10))


def load_digits() -> RawDataset:
    """8x8 grey digits; the 0..16 intensities become 0..255 so they are stored like any image."""
    import numpy as np  # here, not at the top: validating an experiment (the app's first frame) needs no numpy
    from sklearn.datasets import load_digits as sklearn_digits

    from workbench.data.raw import split_fixed

    bunch = sklearn_digits()
    images = np.rint(bunch.images * (255 / 16)).astype(np.uint8)[:, None, :, :]
    return split_fixed(images, bunch.target.astype(np.int64), DIGIT_NAMES, "digits")


def load_diabetes() -> RawDataset:
    """Disease progression from 10 raw (unscaled) measurements; loading standardises them."""
    import numpy as np  # here, not at the top: validating an experiment (the app's first frame) needs no numpy
    from sklearn.datasets import load_diabetes as sklearn_diabetes

    from workbench.data.raw import split_fixed

    bunch = sklearn_diabetes(scaled=False)
    features = bunch.data.astype(np.float32)
    target = bunch.target.astype(np.float32)[:, None]
    return split_fixed(features, target, (), "diabetes")
