"""Write the two small data sets Workbench ships (workbench/data/sources/bundled_data/) from
scikit-learn's copies, so that the package needs no scikit-learn (and its scipy and joblib).

    python -m scripts.bundle_datasets

Each ``.npz`` holds scikit-learn's arrays as its loader returns them, in the smallest dtype that
keeps every value (digits' 0..16 pixels and 0..9 labels as uint8; diabetes as float64).
``tests/data/test_bundled_files.py`` checks that the shipped files still equal what scikit-learn
gives. Their licence is in ``bundled_data/NOTICE.md``.
"""

from __future__ import annotations

import numpy as np

from workbench.data.sources.bundled import bundled_file


def scikit_learn_arrays() -> dict[str, dict[str, np.ndarray]]:
    """Each shipped file's arrays, from scikit-learn (raw diabetes measurements: ``scaled=False``)."""
    from sklearn.datasets import load_diabetes, load_digits

    digits = load_digits()
    diabetes = load_diabetes(scaled=False)
    return {
        "digits": {"images": exactly(digits.images, np.uint8), "target": exactly(digits.target, np.uint8)},
        "diabetes": {"data": diabetes.data, "target": diabetes.target},
    }


def exactly(values: np.ndarray, dtype: type[np.generic]) -> np.ndarray:
    """``values`` as ``dtype``; a ValueError if that changes any of them (a newer copy with other values)."""
    converted = values.astype(dtype)
    if not np.array_equal(converted, values):
        raise ValueError(f"scikit-learn's values do not fit {np.dtype(dtype).name} exactly")
    return converted


def main() -> None:
    for name, arrays in scikit_learn_arrays().items():
        path = bundled_file(name)
        with path.open("wb") as file:
            np.savez_compressed(file, **arrays)
        print(f"{path}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
