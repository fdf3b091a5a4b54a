"""Load a dataset for a run: train, validation and test splits, ready to batch on the device.

Small sets (all the presets) are materialised once as tensors on the training device (uint8
for images), then batched by slicing; image folders and code data sets too large for memory
stream (:mod:`workbench.data.streaming`; a code data set: :mod:`workbench.data.code_loading`).
The validation split is carved from the training split with the run's seed; the test split
is the dataset's fixed one and is never touched. Normalisation statistics come from the
training samples only. Regression targets are standardised with training statistics too, so
losses have the same scale on every dataset.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from workbench.data import code_loading
from workbench.data.batching import Batches, TensorBatches
from workbench.data.normalise import Normaliser
from workbench.data.raw import RawDataset, RawSplit
from workbench.data.reading import read_raw
from workbench.data.registry import DatasetInfo, dataset_options, describe
from workbench.data.resize import InputResize, resizing
from workbench.data.sharding import WHOLE, Shard
from workbench.data.sources.image_folder import FolderScan, decode_scan, scan_image_folder
from workbench.data.splitting import carve_validation
from workbench.data.streaming import ImageFiles, LoaderBatches, StreamedItems, fit_streamed, stats_sample
from workbench.schema.config import DataConfig

#: An image folder whose decoded pixels would take more than this streams from disk (storage = "auto").
IN_MEMORY_LIMIT_BYTES = 1 << 30

__all__ = ["Batches", "Splits", "load_splits"]


@dataclass
class Splits:
    info: DatasetInfo  # sizes are those actually loaded
    train: Batches
    val: Batches | None  # None when data.val_fraction is 0
    test: Batches
    #: The inputs' standardisation, fitted on the training samples: what a sample from outside
    #: the dataset (``workbench predict``) goes through too.
    normaliser: Normaliser
    #: Regression: the targets' standardisation, to turn the model's outputs back into the
    #: target's own units. None for classification.
    target_scale: Normaliser | None = None


def load_splits(
    data: DataConfig, seed: int, device: torch.device | str, resize: InputResize | None = None, shard: Shard = WHOLE
) -> Splits:
    """Read, split and place the dataset of ``data`` on ``device``; downloads a missing set once.

    ``resize``: images are resized per batch for a model that works at a fixed size (a backbone).
    ``shard``: the worker of a distributed run the batches are for (each split's sizes stay whole)."""
    info = describe(data)
    options = dataset_options(data)
    device = torch.device(device)
    if data.dataset == "code" and code_loading.streams(options, info):  # the user's class, imported here
        train_items, test_items = code_loading.streamed_items(options, info)
        streamed = _Streamed(train_items.subset, test_items, options["workers"], len(train_items))
        return _streamed_splits(data, seed, device, info, streamed, resize, shard)
    if data.dataset != "image-folder":
        return _tensor_splits(data, seed, device, info, read_raw(data.dataset, options), resize, shard)
    scan = scan_image_folder(options)
    if _streams(scan, options):
        return _streamed_splits(data, seed, device, info, _image_files(scan, options), resize, shard)
    return _tensor_splits(data, seed, device, info, decode_scan(scan, options), resize, shard)


def _tensor_splits(
    data: DataConfig,
    seed: int,
    device: torch.device,
    info: DatasetInfo,
    raw: RawDataset,
    resize: InputResize | None,
    shard: Shard,
) -> Splits:
    train_idx, val_idx = carve_validation(len(raw.train), data.val_fraction, data.subset, seed)
    train, val, test = raw.train.take(train_idx), raw.train.take(val_idx), raw.test
    normaliser = resizing(Normaliser.fit(torch.from_numpy(train.inputs), _own_statistics(data, resize)), resize)
    rescale_targets = None
    if info.task == "regression":
        rescale_targets = Normaliser.fit(torch.from_numpy(train.targets), standardise=True)
    augment = data.augment if info.kind == "image" else None

    def batches(split: RawSplit, training: bool) -> TensorBatches:
        targets = torch.from_numpy(split.targets)
        return TensorBatches(
            torch.from_numpy(split.inputs).to(device),
            (rescale_targets(targets) if rescale_targets else targets).to(device),
            batch_size=data.batch_size if training else data.eval_batch_size,
            normaliser=normaliser,
            shuffle_seed=seed if training else None,
            augment=augment if training else None,
            shard=shard,
        )

    return Splits(
        info=dataclasses.replace(info, train_size=len(raw.train), test_size=len(raw.test), cached=True),
        train=batches(train, training=True),
        val=batches(val, training=False) if len(val) else None,
        test=batches(test, training=False),
        normaliser=normaliser,
        target_scale=rescale_targets,
    )


def _own_statistics(data: DataConfig, resize: InputResize | None) -> bool:
    """Whether the dataset's statistics are computed: not when the weights bring their own."""
    return data.normalize and (resize is None or resize.mean is None)


def _streams(scan: FolderScan, options: dict[str, Any]) -> bool:
    if options["storage"] == "auto":
        return scan.estimated_bytes(options["size"]) > IN_MEMORY_LIMIT_BYTES
    return options["storage"] == "stream"


@dataclass(frozen=True)
class _Streamed:
    """A set that streams: its training items picked by index (``pick``, the validation split
    is carved from them), its test items, and the DataLoader workers that read them."""

    pick: Callable[[np.ndarray], StreamedItems]
    test: StreamedItems
    workers: int
    #: Items of the whole training split (before validation is carved from it).
    train_total: int


def _image_files(scan: FolderScan, options: dict[str, Any]) -> _Streamed:
    size, workers = options["size"], options["workers"]
    files = np.array(scan.train_files, dtype=object)

    def pick(picked: np.ndarray) -> StreamedItems:
        return ImageFiles(files[picked].tolist(), scan.train_labels[picked], size, threads=workers)

    return _Streamed(pick, ImageFiles(scan.test_files, scan.test_labels, size), workers, len(scan.train_files))


def _streamed_splits(
    data: DataConfig,
    seed: int,
    device: torch.device,
    info: DatasetInfo,
    streamed: _Streamed,
    resize: InputResize | None,
    shard: Shard,
) -> Splits:
    train_idx, val_idx = carve_validation(streamed.train_total, data.val_fraction, data.subset, seed)
    train_items = streamed.pick(train_idx)
    standardise = _own_statistics(data, resize)
    normaliser = resizing(fit_streamed(train_items, standardise, seed), resize)
    target_scale = None
    if info.task == "regression":
        picked = stats_sample(len(train_items), True, seed).tolist()
        target_scale = Normaliser.fit(torch.from_numpy(train_items.targets(picked)), standardise=True)

    def batches(split: StreamedItems, training: bool) -> LoaderBatches:
        return LoaderBatches(
            split,
            batch_size=data.batch_size if training else data.eval_batch_size,
            workers=streamed.workers,
            device=device,
            normaliser=normaliser,
            shuffle_seed=seed if training else None,
            augment=data.augment if training and info.kind == "image" else None,
            shard=shard,
            target_scale=target_scale,
        )

    return Splits(
        info=info,
        train=batches(train_items, training=True),
        val=batches(streamed.pick(val_idx), training=False) if len(val_idx) else None,
        test=batches(streamed.test, training=False),
        normaliser=normaliser,
        target_scale=target_scale,
    )
