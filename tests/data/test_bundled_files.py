"""The two bundled data sets ship as files in the package: read with numpy alone (no scikit-learn,
scipy or joblib), equal to scikit-learn's copies, and the same samples, order and labels as ever."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from tests.test_layering import _loaded_after_importing
from workbench.data.sources import bundled


@pytest.mark.parametrize("name", ["digits", "diabetes"])
def test_the_shipped_files_equal_what_scikit_learn_returns(name: str) -> None:
    pytest.importorskip("sklearn", reason="scikit-learn is the reference (the dev extra)")
    from scripts.bundle_datasets import scikit_learn_arrays

    reference = scikit_learn_arrays()[name]
    with np.load(bundled.bundled_file(name), allow_pickle=False) as shipped:
        assert sorted(shipped.files) == sorted(reference)
        for key, expected in reference.items():
            assert shipped[key].dtype == expected.dtype and np.array_equal(shipped[key], expected), f"{name}.npz: {key}"


@pytest.mark.slow  # a fresh interpreter
def test_loading_the_bundled_sets_imports_no_scikit_learn_scipy_or_joblib() -> None:
    """They were read from scikit-learn, whose import (with scipy) took about a second; a fresh
    process that loads both must not import it, nor need it installed."""
    probe = "workbench.data.sources.bundled.load_digits(), workbench.data.sources.bundled.load_diabetes()\n"
    loaded = _loaded_after_importing(["workbench.data.sources.bundled"], probe)
    assert "workbench.data.raw" in loaded
    assert not {"sklearn", "scipy", "joblib"} & loaded


#: sha256 (first 16 hex digits) of each split's inputs and targets, as scikit-learn's copies gave
#: them before the files were shipped: the default preset trains on these samples, in this order.
FINGERPRINTS = {
    "digits": {"train": ("39b669a914f485c6", "fbe506c2e5b1d09a"), "test": ("ba9f3c240492c557", "20d79b3799415327")},
    "diabetes": {"train": ("60cf2851b346657e", "081284f85b5db30b"), "test": ("413c47ba130b901e", "2414ceb29a20ffc3")},
}


@pytest.mark.parametrize("name", ["digits", "diabetes"])
def test_the_loaded_splits_are_the_samples_order_and_labels_scikit_learn_gave(name: str) -> None:
    raw = {"digits": bundled.load_digits, "diabetes": bundled.load_diabetes}[name]()
    for split, (inputs_hash, targets_hash) in FINGERPRINTS[name].items():
        part = getattr(raw, split)
        assert [hashlib.sha256(a.tobytes()).hexdigest()[:16] for a in (part.inputs, part.targets)] == [inputs_hash, targets_hash]
    if name == "digits":
        assert raw.train.inputs.dtype == np.uint8 and raw.train.inputs.shape[1:] == (1, 8, 8)
        # strides too: torch picks kernels by them, even on a length-1 axis
        assert raw.train.inputs.strides == (64, 64, 8, 1) and raw.train.targets.dtype == np.int64
        assert raw.class_names == bundled.DIGIT_NAMES
    else:
        assert raw.train.inputs.dtype == raw.train.targets.dtype == np.float32
        assert raw.train.targets.shape == (len(raw.train), 1) and raw.class_names == ()
