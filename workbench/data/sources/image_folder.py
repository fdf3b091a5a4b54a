"""A user's folder of images, one sub-folder per class (the ImageFolder layout).

Either ``<path>/train/<class>/*`` and ``<path>/test/<class>/*``, or ``<path>/<class>/*`` which is
split into train and test with the constant test-split seed. Every image becomes a
``size`` x ``size`` RGB uint8 array. Scanning only lists folders, so the registry can describe
a set of any size; decoding happens at load time (all at once, or per batch when streaming).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.data.raw import RawDataset, RawSplit
from workbench.data.sources.local_path import option_path
from workbench.data.splitting import fixed_test_split
from workbench.errors import DataError
from workbench.formatting import counted

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")
CHANNELS = 3


@dataclass(frozen=True)
class FolderScan:
    class_names: tuple[str, ...]
    train_files: tuple[str, ...]
    train_labels: np.ndarray  # int64
    test_files: tuple[str, ...]
    test_labels: np.ndarray

    def estimated_bytes(self, size: int) -> int:
        """Memory the decoded uint8 images of both splits take."""
        return (len(self.train_files) + len(self.test_files)) * CHANNELS * size * size


def scan_image_folder(options: dict[str, Any]) -> FolderScan:
    """The folder's classes and image paths, listed again only when a folder in it changed.

    Every keystroke in the app checks the experiment, and listing a folder of 30,000 images
    takes about a second; adding, removing or renaming anything in a folder changes that
    folder's modification time, so comparing the times of the folders seen last time (a few
    hundred stats at most) tells whether the last listing still holds."""
    root = option_path(options)
    if not root.is_dir():
        what = "a file" if root.is_file() else "not a folder"
        raise DataError(f"data.options.path: {root} is {what}, expected a folder of class folders")
    key = str(root.resolve())
    cached = _SCANS.get(key)
    if cached is not None and _folder_times(cached[0]) == cached[0]:
        return cached[1]
    folders: list[Path] = [root]
    started = time.time_ns()
    scan = _scan(root, folders)
    times = _folder_times({str(folder): 0 for folder in folders})
    # A folder changed within the clock's granularity of the listing may change again with the
    # same time: such a listing is not kept (git's "racy" rule).
    if max(times.values()) < started - RACY_NS:
        _SCANS[key] = (times, scan)
    return scan


#: Nanoseconds: a folder modified this close to its listing is listed again next time.
RACY_NS = 2_000_000_000
#: The last listing of each folder scanned, with the modification times of every folder in it.
_SCANS: dict[str, tuple[dict[str, int], FolderScan]] = {}


def _folder_times(folders: dict[str, int]) -> dict[str, int]:
    """The modification time of each folder now (-1 for one that is gone)."""
    times = {}
    for folder in folders:
        try:
            times[folder] = os.stat(folder).st_mtime_ns
        except OSError:
            times[folder] = -1
    return times


def _scan(root: Path, folders: list[Path]) -> FolderScan:
    if (root / "train").is_dir() and (root / "test").is_dir():
        folders += [root / "train", root / "test"]
        names, train_files, train_labels = _scan_classes(root / "train", None, folders)
        _, test_files, test_labels = _scan_classes(root / "test", names, folders)
        if not test_files:
            raise DataError(f"{root / 'test'}: no images in any class folder")
        return FolderScan(names, train_files, train_labels, test_files, test_labels)
    names, files, labels = _scan_classes(root, None, folders)
    train, test = fixed_test_split(len(files), str(root))
    return FolderScan(names, tuple(files[i] for i in train), labels[train], tuple(files[i] for i in test), labels[test])


def decode_scan(scan: FolderScan, options: dict[str, Any]) -> RawDataset:
    """Every image of a scanned folder decoded into memory."""
    size, workers = options["size"], options["workers"]
    return RawDataset(
        RawSplit(decode_images(scan.train_files, size, workers), scan.train_labels),
        RawSplit(decode_images(scan.test_files, size, workers), scan.test_labels),
        scan.class_names,
    )


def decode_image(path: str, size: int) -> np.ndarray:
    """One image as uint8 (3, size, size), whatever its mode and shape on disk."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            pixels = image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise DataError(f"{path}: not a readable image ({error})") from None
    return np.ascontiguousarray(np.asarray(pixels, dtype=np.uint8).transpose(2, 0, 1))


def decode_images(paths: tuple[str, ...], size: int, workers: int) -> np.ndarray:
    """Decode many images in threads (PIL releases the GIL while decoding and resizing)."""
    out = np.empty((len(paths), CHANNELS, size, size), dtype=np.uint8)

    def fill(i: int) -> None:
        out[i] = decode_image(paths[i], size)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(fill, range(len(paths))))
    return out


def _scan_classes(
    folder: Path, known: tuple[str, ...] | None, folders: list[Path]
) -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray]:
    """Class names (sorted folder names), image paths and their labels under ``folder``; every
    folder met on the way is added to ``folders``.

    With ``known`` (the training classes) the folder is a test split: its classes must be
    among them, and a class may be missing or empty.
    """
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if known is None and len(classes) < 2:
        raise DataError(
            f"{folder}: found {counted(len(classes), 'class folder')}; expected at least 2, "
            "laid out as <path>/<class>/<image> or <path>/train/<class>/<image> and <path>/test/<class>/<image>"
        )
    names = known if known is not None else tuple(classes)
    files: list[str] = []
    labels: list[int] = []
    for name in classes:
        if name not in names:
            raise DataError(f"{folder / name}: class {name!r} is not among the training classes ({', '.join(names)})")
        entries = list((folder / name).rglob("*"))
        images = sorted(str(p) for p in entries if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
        folders += [folder / name, *(p for p in entries if p.suffix.lower() not in IMAGE_EXTENSIONS and p.is_dir())]
        if not images and known is None:
            raise DataError(f"{folder / name}: no images ({', '.join(IMAGE_EXTENSIONS)})")
        files.extend(images)
        labels.extend([names.index(name)] * len(images))
    return names, tuple(files), np.array(labels, dtype=np.int64)
