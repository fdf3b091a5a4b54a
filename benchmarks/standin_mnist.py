"""MNIST's four files with random pixels, for measuring speed and memory where MNIST cannot be downloaded.

LeNet-5's samples/s and a run's peak memory depend on the images' shape and count, not on their
pixels: 60,000 + 10,000 random 28x28 images and labels in torchvision's own file format let
``workbench bench mnist-lenet5`` and ``benchmarks.peak_memory mnist-lenet5`` run on a machine
without network access. Any accuracy measured on them means nothing (the labels are noise).

It writes into the cache of the ``WORKBENCH_HOME`` given, which must be set (never the user's
own cache) and must not hold MNIST already:

    WORKBENCH_HOME=/tmp/wb-standin python -m benchmarks.standin_mnist
    WORKBENCH_HOME=/tmp/wb-standin workbench bench mnist-lenet5 --rounds 3
"""

from __future__ import annotations

import os
import struct
import sys

import numpy as np

from workbench.data.registry import dataset_folder, is_cached

#: (file prefix, images) of torchvision's MNIST files.
SPLITS = (("train", 60_000), ("t10k", 10_000))
SIDE = 28


def write_standin(seed: int = 0) -> str:
    """Write the four files under the dataset's cache folder; returns that folder."""
    raw = dataset_folder("mnist") / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for prefix, count in SPLITS:
        images = rng.integers(0, 256, size=(count, SIDE, SIDE), dtype=np.uint8)
        labels = rng.integers(0, 10, size=count, dtype=np.uint8)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, count, SIDE, SIDE) + images.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, count) + labels.tobytes())
    return str(raw)


def main() -> None:
    if not os.environ.get("WORKBENCH_HOME"):
        sys.exit("set WORKBENCH_HOME to a throw-away folder: stand-in data never goes into your own cache")
    if is_cached("mnist"):
        sys.exit(f"MNIST is already in {dataset_folder('mnist')}: nothing written")
    print(f"random-pixel MNIST written to {write_standin()} (for speed and memory only; accuracy on it means nothing)")


if __name__ == "__main__":
    main()
