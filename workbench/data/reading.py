"""Read any dataset's raw arrays from wherever it lives, fetching a missing download once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench.data.download import download
from workbench.data.raw import RawDataset
from workbench.data.registry import dataset_spec
from workbench.data.sources import bundled, first_marker, spirals, torchvision_sets
from workbench.data.sources.csv_table import load_csv


def _read_code(options: dict[str, Any]) -> RawDataset:
    """A code data set's items (the user's class imported: a training process only); torch is
    imported here, not with this module, which the app's previews of the other sets use."""
    from workbench.data.code_loading import read_code_raw

    return read_code_raw(options)


_READERS: dict[str, Callable[[dict[str, Any]], RawDataset]] = {
    "code": _read_code,
    "digits": lambda options: bundled.load_digits(),
    "diabetes": lambda options: bundled.load_diabetes(),
    "spirals": spirals.make_spirals,
    "first-marker": first_marker.make_first_marker,
    "csv": load_csv,
}


def read_raw(name: str, options: dict[str, Any]) -> RawDataset:
    """The dataset's fixed train and test splits as numpy arrays.

    A downloadable set that is not in the cache is downloaded first (once; a failure is a
    DataError saying where to put the files); every other set is local by nature. Image
    folders are not read here: loading decodes them into memory or streams them; a code data
    set is read here when it fits memory (materialised once, cached).
    """
    if dataset_spec(name).download is not None:
        download(name)
        return torchvision_sets.load_torchvision(name)
    return _READERS[name](options)
