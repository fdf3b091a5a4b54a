"""Downloadable datasets, read by torchvision's own dataset classes from the cache folder.

torchvision parses the real file formats (MNIST idx files, CIFAR pickles, SVHN .mat) and checks
their checksums; this module only turns what it read into the arrays every source returns.
Nothing here touches the network: :mod:`workbench.data.download` does, on request.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.data.raw import RawDataset, RawSplit
from workbench.data.registry import dataset_folder, dataset_spec
from workbench.errors import DataError

#: The torchvision class that reads each downloadable dataset.
TORCHVISION_CLASSES = {
    "mnist": "MNIST",
    "fashion-mnist": "FashionMNIST",
    "kmnist": "KMNIST",
    "cifar10": "CIFAR10",
    "cifar100": "CIFAR100",
    "svhn": "SVHN",
}
#: Datasets whose torchvision class keeps images as (N, H, W, C); the others are (N, C, H, W) or grey (N, H, W).
_CHANNELS_LAST = {"cifar10", "cifar100"}


def open_split(name: str, train: bool, download: bool) -> Any:
    """The torchvision dataset object of one split; ``download=True`` may fetch or unpack files."""
    import torchvision.datasets

    cls = getattr(torchvision.datasets, TORCHVISION_CLASSES[name])
    root = str(dataset_folder(name))
    if name == "svhn":
        return cls(root, split="train" if train else "test", download=download)
    return cls(root, train=train, download=download)


def read_split(name: str, train: bool) -> RawSplit:
    """One split as uint8 (N, C, H, W) images and int64 labels, from files already in the cache."""
    try:
        dataset = open_split(name, train, download=False)
    except Exception as error:  # torchvision raises RuntimeError, ValueError, AssertionError... for bad files
        folder = dataset_folder(name)
        raise DataError(
            f"{name}: cannot read the files in {folder} ({error_gist(error)}); "
            "delete that folder to download it again, or put intact files there"
        ) from error
    images = dataset.data.numpy() if hasattr(dataset.data, "numpy") else np.asarray(dataset.data)
    if images.ndim == 3:
        images = images[:, None]
    elif name in _CHANNELS_LAST:
        images = images.transpose(0, 3, 1, 2)
    labels = np.asarray(dataset.labels if name == "svhn" else dataset.targets, dtype=np.int64)
    classes = len(dataset_spec(name).class_names)
    if len(labels) and (labels.min() < 0 or labels.max() >= classes):
        raise DataError(f"{name}: labels in {dataset_folder(name)} fall outside 0..{classes - 1}; the files are not {name}")
    return RawSplit(np.ascontiguousarray(images, dtype=np.uint8), labels)


def load_torchvision(name: str) -> RawDataset:
    return RawDataset(read_split(name, train=True), read_split(name, train=False), dataset_spec(name).class_names)


def error_gist(error: BaseException) -> str:
    """A library's error in one line. Multi-line messages (torchvision lists every mirror it
    tried) end with the cause, so the last line is kept."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
