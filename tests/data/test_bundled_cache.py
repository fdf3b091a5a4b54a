"""The bundled datasets' cache: later loads read it instead of importing scikit-learn, and it
follows scikit-learn's copy (a changed copy, a damaged cache file: read from the source again)."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from workbench.data.sources import bundled


def counting(read: Callable[[], tuple[np.ndarray, np.ndarray]]) -> tuple[list[int], Callable[[], tuple[np.ndarray, np.ndarray]]]:
    """``read``, and a list that grows by one each time it is called."""
    calls: list[int] = []

    def counted() -> tuple[np.ndarray, np.ndarray]:
        calls.append(1)
        return read()

    return calls, counted


def test_a_second_load_reads_the_cache_not_the_source() -> None:
    calls, read = counting(bundled._read_digits)
    first = bundled.cached_arrays("digits", read)
    second = bundled.cached_arrays("digits", read)
    assert len(calls) == 1
    assert bundled.cache_path("digits").is_file()
    for a, b in zip(first, second, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("name", ["digits", "diabetes"])
def test_the_cached_arrays_are_those_scikit_learn_gives(name: str) -> None:
    read = {"digits": bundled._read_digits, "diabetes": bundled._read_diabetes}[name]
    bundled.cached_arrays(name, read)
    cached = bundled.cached_arrays(name, lambda: pytest.fail("read the source although the cache holds it"))
    for a, b in zip(cached, read(), strict=True):
        # strides too: torch picks kernels by them, even on a length-1 axis
        assert a.dtype == b.dtype and a.shape == b.shape and a.strides == b.strides and np.array_equal(a, b)


def test_the_key_names_scikit_learns_version_and_its_files_size_and_time() -> None:
    from sklearn.datasets import data as sklearn_data

    key = bundled.source_key("diabetes")
    assert key.startswith(f"scikit-learn {importlib.metadata.version('scikit-learn')};")
    for file in bundled.SKLEARN_FILES["diabetes"]:
        stat = (Path(sklearn_data.__file__).parent / file).stat()
        assert f"{file}:{stat.st_size}:{stat.st_mtime_ns}" in key


def test_a_cache_written_for_another_copy_of_scikit_learn_is_read_again() -> None:
    inputs, targets = bundled._read_digits()
    bundled._write_cache(bundled.cache_path("digits"), "scikit-learn 0.1;digits.csv.gz:1:1", inputs[:5], targets[:5])
    calls, read = counting(bundled._read_digits)
    fresh_inputs, _ = bundled.cached_arrays("digits", read)
    assert len(calls) == 1
    assert len(fresh_inputs) == bundled.DIGITS_SAMPLES
    bundled.cached_arrays("digits", read)
    assert len(calls) == 1  # and the cache now holds this copy's arrays


def test_a_damaged_cache_file_is_read_again_from_the_source_and_replaced() -> None:
    bundled.cached_arrays("digits", bundled._read_digits)
    path = bundled.cache_path("digits")
    path.write_bytes(path.read_bytes()[:1000])
    calls, read = counting(bundled._read_digits)
    inputs, _ = bundled.cached_arrays("digits", read)
    assert len(calls) == 1 and len(inputs) == bundled.DIGITS_SAMPLES
    bundled.cached_arrays("digits", read)
    assert len(calls) == 1


def test_a_cache_folder_that_cannot_be_written_still_gives_the_data() -> None:
    """A read-only or full cache folder made every digits command fail ('…/cache: read-only file
    system'): the cache only saves time; the data is read from scikit-learn as before."""
    folder = bundled.cache_path("digits").parent
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("a file where the cache folder should be")
    inputs, targets = bundled.cached_arrays("digits", bundled._read_digits)
    assert inputs.shape == (1797, 1, 8, 8) and targets.shape == (1797,)
