"""Write small datasets in the real on-disk formats that torchvision and users' tools produce.

The tests put these files where a download would, and load them through the same code path
users get. Nothing here is committed: every file is generated into the test's WORKBENCH_HOME.
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def random_images(count: int, channels: int, size: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(count, channels, size, size), dtype=np.uint8)


def random_labels(count: int, classes: int, seed: int) -> np.ndarray:
    labels = np.arange(count) % classes  # every class present
    return np.random.default_rng(seed).permutation(labels).astype(np.int64)


# ----------------------------------------------------------------------------- MNIST idx files


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX format of LeCun's MNIST files: magic 0x0000 08 <ndim>, big-endian sizes, uint8 data."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(raw_folder: Path, train: int, test: int, *, gz: bool = False) -> dict[str, np.ndarray]:
    """The four MNIST files (raw, or .gz archives as downloaded); returns what was written."""
    raw_folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": random_images(train, 1, 28, seed=1)[:, 0],
        "train-labels-idx1-ubyte": random_labels(train, 10, seed=2).astype(np.uint8),
        "t10k-images-idx3-ubyte": random_images(test, 1, 28, seed=3)[:, 0],
        "t10k-labels-idx1-ubyte": random_labels(test, 10, seed=4).astype(np.uint8),
    }
    for name, array in arrays.items():
        if gz:
            (raw_folder / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(array)))
        else:
            (raw_folder / name).write_bytes(idx_bytes(array))
    return arrays


# ----------------------------------------------------------------------------- CIFAR pickles


def write_cifar10_archive(root: Path, per_batch: int, classes: tuple[str, ...]) -> tuple[dict[str, str], dict]:
    """cifar-10-python.tar.gz as downloaded (five train batches, a test batch, batches.meta).

    Returns the md5 of every file (torchvision checks them) and the arrays written.
    """
    folder = root / "build" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    written: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for seed, name in enumerate(names):
        images = random_images(per_batch, 3, 32, seed=10 + seed)
        labels = random_labels(per_batch, len(classes), seed=20 + seed)
        _pickle(folder / name, {"batch_label": name, "data": images.reshape(per_batch, -1), "labels": labels.tolist()})
        written[name] = (images, labels)
    _pickle(folder / "batches.meta", {"label_names": list(classes), "num_cases_per_batch": per_batch})
    sums = {path.name: md5(path) for path in folder.iterdir()}
    archive = root / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    sums[archive.name] = md5(archive)
    return sums, written


def write_cifar100_folder(root: Path, train: int, test: int, classes: tuple[str, ...]) -> tuple[dict[str, str], dict]:
    """The extracted cifar-100-python folder (train, test, meta pickles)."""
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    written = {}
    for seed, (name, count) in enumerate((("train", train), ("test", test))):
        images = random_images(count, 3, 32, seed=30 + seed)
        labels = random_labels(count, len(classes), seed=40 + seed)
        content = {"data": images.reshape(count, -1), "fine_labels": labels.tolist(), "coarse_labels": (labels // 5).tolist()}
        _pickle(folder / name, content)
        written[name] = (images, labels)
    _pickle(folder / "meta", {"fine_label_names": list(classes), "coarse_label_names": [f"c{i}" for i in range(20)]})
    return {path.name: md5(path) for path in folder.iterdir()}, written


def _pickle(path: Path, content: dict) -> None:
    path.write_bytes(pickle.dumps(content, protocol=2))


# ----------------------------------------------------------------------------- SVHN .mat


def write_svhn(root: Path, name: str, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A MATLAB file like train_32x32.mat: X is (32, 32, 3, N), y holds 1..10 with 10 for digit 0."""
    from scipy.io import savemat

    root.mkdir(parents=True, exist_ok=True)
    images = random_images(count, 3, 32, seed)
    digits = random_labels(count, 10, seed + 1)
    labels = np.where(digits == 0, 10, digits)[:, None].astype(np.uint8)
    savemat(root / name, {"X": images.transpose(2, 3, 1, 0), "y": labels})
    return images, digits


# ----------------------------------------------------------------------------- user files


def write_image_classes(folder: Path, classes: dict[str, int], size: tuple[int, int] = (12, 10), seed: int = 0) -> None:
    """``folder/<class>/<i>.png``: small RGB pictures whose colour says their class."""
    rng = np.random.default_rng(seed)
    for k, (name, count) in enumerate(classes.items()):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            pixels = rng.integers(0, 64, size=(size[1], size[0], 3), dtype=np.uint8)
            pixels[..., k % 3] += 128
            Image.fromarray(pixels).save(folder / name / f"{i:03d}.png")
