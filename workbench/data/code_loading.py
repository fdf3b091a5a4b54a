"""A data set from the user's own class, read for training: materialised once, or streamed.

A set whose inputs fit :data:`MEMORY_BUDGET_BYTES` (2 GiB, with the test set: the budget of
a laptop that also holds the model) is read item by item ONCE into arrays, kept in
``cache_dir()/code-datasets`` keyed on the code's content (every ``*.py`` of its folder), the
class, its arguments and the size and time of every file an argument names; from then on it is
one more :class:`~workbench.data.raw.RawDataset` and trains at the engine's speed (tensors on
the device, sliced batches, vectorised augmentation). A larger one (or ``storage = "stream"``)
is read per batch by DataLoader worker processes, in the same seeded order. Any error of the
user's ``__getitem__`` is one line naming their file and line and the item's index.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, Subset

from workbench.atomic import TEMP_PREFIX
from workbench.data.raw import RawDataset, RawSplit, split_fixed
from workbench.data.registry import DatasetInfo, describe
from workbench.data.sources.code_dataset import code_facts, code_ref, dataset_request
from workbench.data.sources.code_items import Item, UserItems, open_items
from workbench.data.splitting import carve_validation, fixed_test_split
from workbench.errors import DataError
from workbench.paths import cache_dir
from workbench.schema.config import DataConfig
from workbench.usercode.probing import code_fingerprint

#: A code data set whose inputs (train and test) take more than this streams (storage = "auto").
MEMORY_BUDGET_BYTES = 2 << 30
CACHE_VERSION = 1


def streams(options: dict[str, Any], info: DatasetInfo) -> bool:
    """Whether the set is read per batch rather than held in memory."""
    if options["storage"] != "auto":
        return bool(options["storage"] == "stream")
    facts = code_facts(options)  # the probe's answer, cached: the inputs' dtype
    sample = math.prod(info.input_shape) * np.dtype(facts.train.dtype).itemsize
    return (info.train_size + info.test_size) * sample > MEMORY_BUDGET_BYTES


# ----------------------------------------------------------------------------- in memory


def read_code_raw(options: dict[str, Any]) -> RawDataset:
    """Every item as arrays, from the cache when this code with these arguments and files was
    read before; else read once (and kept)."""
    info = describe(DataConfig(dataset="code", options=options))  # the probe's answer, cached
    path = _cache_path(options)
    cached = _read_cache(path)
    if cached is None:
        cached = _materialise(options, info)
        _write_cache(path, cached)
    train_x, train_y, test_x, test_y = cached
    if test_x is None or test_y is None:
        return split_fixed(train_x, train_y, info.class_names, code_ref(options).label)
    return RawDataset(RawSplit(train_x, train_y), RawSplit(test_x, test_y), info.class_names)


_Arrays = tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]


def _materialise(options: dict[str, Any], info: DatasetInfo) -> _Arrays:
    train = _read_all(open_items(options, "args"), info)
    test = _read_all(open_items(options, "test_args"), info) if options.get("test_args") is not None else (None, None)
    return train[0], train[1], test[0], test[1]


def _read_all(items: UserItems, info: DatasetInfo) -> tuple[np.ndarray, np.ndarray]:
    first = items.item(0)
    inputs = np.empty((len(items), *first.x.shape), dtype=first.x.dtype)
    targets = np.empty((len(items), *first.y.shape), dtype=first.y.dtype)
    for index in range(len(items)):
        item = first if index == 0 else items.item(index)
        _check_fits(items, index, item, info)
        inputs[index], targets[index] = item.x, item.y
    return inputs, targets


def _check_fits(items: UserItems, index: int, item: Item, info: DatasetInfo) -> None:
    """An item against the facts the probe read (the model was sized on them): a label past
    the classes the probe saw in the first items is one line, not a crash in the loss. (Its
    shape, NaN and the rest are checked against the first item as it is read.)"""
    if info.task == "classification" and int(item.y) >= info.num_outputs:
        raise DataError(
            f"{items.where(index)}: label {int(item.y)}, but the items read first had {info.num_outputs} classes; "
            "give the class a classes attribute (the names of every class) so that all are known before training"
        )


def _cache_path(options: dict[str, Any]) -> Path:
    ref = code_ref(options)
    request = dataset_request(options)
    key = json.dumps(
        {"v": CACHE_VERSION, "items": "every", "request": request, "code": code_fingerprint([ref.folder])}, sort_keys=True
    )
    return cache_dir() / "code-datasets" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.npz"


def _read_cache(path: Path) -> _Arrays | None:
    try:
        with np.load(path, allow_pickle=False) as arrays:
            has_test = "test_x" in arrays
            return (
                arrays["train_x"],
                arrays["train_y"],
                arrays["test_x"] if has_test else None,
                arrays["test_y"] if has_test else None,
            )
    except (OSError, ValueError, KeyError):  # absent, or damaged: read again
        return None


def _write_cache(path: Path, arrays: _Arrays) -> None:
    """Kept beside the other caches; a write that fails (a full disk) only costs the next run
    the reading again."""
    named = {"train_x": arrays[0], "train_y": arrays[1]}
    if arrays[2] is not None and arrays[3] is not None:
        named |= {"test_x": arrays[2], "test_y": arrays[3]}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX + path.name + ".", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **named)  # type: ignore[arg-type]
        os.replace(temp, path)
    except OSError:
        Path(temp).unlink(missing_ok=True)


# ----------------------------------------------------------------------------- streamed


class CodeItems(Dataset):
    """Some items of the user's set (``indices``), each as tensors: ``(x, y)``, checked as the
    materialised ones are (``info``: the facts the model was sized on); what DataLoader workers
    read when the set streams."""

    def __init__(self, items: UserItems, indices: Sequence[int], info: DatasetInfo) -> None:
        self.items = items
        self.indices = list(indices)
        self.info = info

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self._tensors(self._item(index))

    def _item(self, index: int) -> Item:
        item = self.items.item(self.indices[index])
        _check_fits(self.items, self.indices[index], item, self.info)
        return item

    @staticmethod
    def _tensors(item: Item) -> tuple[Tensor, Tensor]:
        return torch.from_numpy(item.x), torch.from_numpy(item.y)

    def subset(self, picked: np.ndarray) -> CodeItems:
        """The items at positions ``picked`` of these (a validation split carved from them)."""
        return CodeItems(self.items, [self.indices[i] for i in picked.tolist()], self.info)

    def inputs(self, indices: Sequence[int]) -> np.ndarray:
        return np.stack([self._item(i).x for i in indices])

    def targets(self, indices: Sequence[int]) -> np.ndarray:
        return np.stack([self._item(i).y for i in indices])


def user_training_items(options: dict[str, Any], info: DatasetInfo, val_fraction: float, subset: int, seed: int) -> Dataset:
    """The user's own data set over the items a run trains on (validation carved out with the
    run's seed): what a tutorial's DataLoader over their class reads, for ``workbench bench``."""
    train, _ = streamed_items(options, info)
    picked, _ = carve_validation(len(train), val_fraction, subset, seed)
    return Subset(train.items.dataset, train.subset(picked).indices)


def streamed_items(options: dict[str, Any], info: DatasetInfo) -> tuple[CodeItems, CodeItems]:
    """The training items (to split further) and the test items of a set that streams."""
    train = open_items(options, "args")
    if options.get("test_args") is not None:
        test = open_items(options, "test_args")
        return CodeItems(train, range(len(train)), info), CodeItems(test, range(len(test)), info)
    train_idx, test_idx = fixed_test_split(len(train), code_ref(options).label)
    return CodeItems(train, train_idx.tolist(), info), CodeItems(train, test_idx.tolist(), info)
