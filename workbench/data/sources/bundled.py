"""The two small real data sets that ship inside Workbench, so the default presets train offline.

They are scikit-learn's copies of the UCI handwritten digits and of the diabetes data (Efron et
al.), kept as ``.npz`` files in ``bundled_data/`` beside this module under scikit-learn's BSD
licence (``bundled_data/NOTICE.md``; ``scripts/bundle_datasets.py`` writes them). Reading one takes
a few milliseconds with numpy alone: Workbench does not depend on scikit-learn, whose import
(with scipy) cost about a second, more than a whole digits run trains.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.data.raw import RawDataset

#: Sizes of the bundled sets, so the registry can describe them without reading their files.
DIGITS_SAMPLES = 1797
DIABETES_SAMPLES = 442
DIABETES_FEATURES = 10
#: scikit-learn's names of the diabetes measurements, in column order (what `predict` reads rows by).
DIABETES_FEATURE_NAMES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
DIGIT_NAMES = tuple(str(d) for d in range(10))


def bundled_file(name: str) -> Path:
    """The shipped ``.npz`` of the bundled set ``name`` ("digits" or "diabetes")."""
    return Path(__file__).with_name("bundled_data") / f"{name}.npz"


def load_digits() -> RawDataset:
    """8x8 grey digits; the 0..16 intensities become 0..255 so they are stored like any image."""
    import numpy as np  # here, not at the top: validating an experiment (the app's first frame) needs no numpy

    from workbench.data.raw import split_fixed

    with np.load(bundled_file("digits"), allow_pickle=False) as arrays:
        pixels, labels = arrays["images"], arrays["target"]
    # reshape, not [:, None]: torch picks a convolution kernel by the strides, even a length-1 axis's
    # ((64, 64, 8, 1) here, (64, 1, 8, 1) the other way), and with it the last bit of every figure.
    images = np.rint(pixels * (255 / 16)).astype(np.uint8).reshape(-1, 1, 8, 8)
    return split_fixed(images, labels.astype(np.int64), DIGIT_NAMES, "digits")


def load_diabetes() -> RawDataset:
    """Disease progression from 10 raw (unscaled) measurements; loading standardises them."""
    import numpy as np

    from workbench.data.raw import split_fixed

    with np.load(bundled_file("diabetes"), allow_pickle=False) as arrays:
        features, target = arrays["data"], arrays["target"]
    return split_fixed(features.astype(np.float32), target.astype(np.float32).reshape(-1, 1), (), "diabetes")
