"""Real datasets that ship inside scikit-learn, so the default presets train offline.

Importing scikit-learn costs about a second (it brings scipy and pandas), more than a whole
digits run trains, so the arrays read from it are kept in the cache folder as a ``.npz`` after
the first load, and later runs read that alone. The cache is keyed on scikit-learn's version
and the size and time of its data files, found without importing it: a new or changed copy of
the library makes the next load read it again.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

from workbench import paths
from workbench.atomic import atomic_write_bytes

if TYPE_CHECKING:
    import numpy as np

    from workbench.data.raw import RawDataset

#: Sizes of the bundled sets, so the registry can describe them without loading scikit-learn.
DIGITS_SAMPLES = 1797
DIABETES_SAMPLES = 442
DIABETES_FEATURES = 10
#: scikit-learn's names of the diabetes measurements, in column order (what `predict` reads rows by).
DIABETES_FEATURE_NAMES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
DIGIT_NAMES = tuple(str(d) for d in range(10))

#: The files in scikit-learn's ``datasets/data`` folder each set is read from (its cache key).
SKLEARN_FILES = {"digits": ("digits.csv.gz",), "diabetes": ("diabetes_data_raw.csv.gz", "diabetes_target.csv.gz")}

_Arrays = tuple["np.ndarray", "np.ndarray"]  # inputs, targets


def load_digits() -> RawDataset:
    """8x8 grey digits; the 0..16 intensities become 0..255 so they are stored like any image."""
    from workbench.data.raw import split_fixed

    images, targets = cached_arrays("digits", _read_digits)
    return split_fixed(images, targets, DIGIT_NAMES, "digits")


def load_diabetes() -> RawDataset:
    """Disease progression from 10 raw (unscaled) measurements; loading standardises them."""
    from workbench.data.raw import split_fixed

    features, target = cached_arrays("diabetes", _read_diabetes)
    return split_fixed(features, target, (), "diabetes")


def _read_digits() -> _Arrays:
    import numpy as np  # here, not at the top: validating an experiment (the app's first frame) needs no numpy
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    # reshape, not [:, None]: the channel axis gets the strides a cached copy reads back with.
    # Strides differ on a length-1 axis ((64, 1, 8, 1) against (64, 64, 8, 1)) make torch take
    # another convolution kernel, and a first run's figures then differ from later runs' in the last bit.
    images = np.rint(bunch.images * (255 / 16)).astype(np.uint8).reshape(-1, 1, 8, 8)
    return images, bunch.target.astype(np.int64)


def _read_diabetes() -> _Arrays:
    import numpy as np
    from sklearn.datasets import load_diabetes as sklearn_diabetes

    bunch = sklearn_diabetes(scaled=False)
    return bunch.data.astype(np.float32), bunch.target.astype(np.float32).reshape(-1, 1)  # reshape: as for digits


# ----------------------------------------------------------------------------- the cache


def cache_path(name: str) -> Path:
    return paths.datasets_dir() / "bundled" / f"{name}.npz"


def source_key(name: str) -> str:
    """What the cached arrays of ``name`` were read from: scikit-learn's version and the size
    and modification time of each data file. Computed without importing scikit-learn (its
    import is what the cache saves); empty when scikit-learn cannot be found."""
    from importlib import metadata  # here: 15 ms that only loading pays, not every command that validates

    spec = find_spec("sklearn")  # a top-level name: found, not imported
    if spec is None or not spec.submodule_search_locations:
        return ""
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    try:
        version = metadata.version("scikit-learn")
        stats = [(folder / file).stat() for file in SKLEARN_FILES[name]]
    except (OSError, metadata.PackageNotFoundError):
        return ""
    files = ";".join(f"{file}:{stat.st_size}:{stat.st_mtime_ns}" for file, stat in zip(SKLEARN_FILES[name], stats, strict=True))
    return f"scikit-learn {version};{files}"


def cached_arrays(name: str, read: Callable[[], _Arrays]) -> _Arrays:
    """``read()``'s arrays, from the cache when it holds them for the same source, else read
    and cached (atomically: a crash leaves the old file or the new one, never half of one).
    A damaged cache file is read again from the source and replaced."""
    key = source_key(name)
    path = cache_path(name)
    cached = _read_cache(path, key) if key else None
    if cached is not None:
        return cached
    inputs, targets = read()
    if key:
        _write_cache(path, key, inputs, targets)
    return inputs, targets


def _read_cache(path: Path, key: str) -> _Arrays | None:
    """The arrays in ``path`` if it was written for ``key``; None when missing, stale or damaged."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as archive:
            if str(archive["key"]) != key:
                return None
            return archive["inputs"], archive["targets"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def _write_cache(path: Path, key: str, inputs: np.ndarray, targets: np.ndarray) -> None:
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, key=np.array(key), inputs=inputs, targets=targets)
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError:  # a full or read-only cache folder: the cache only saves time, the data is read
        pass
