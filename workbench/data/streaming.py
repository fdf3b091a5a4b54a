"""Sets too large for memory (an image folder, a code data set): read per batch in DataLoader
worker processes.

Same interface and the same seeded order, augmentation and normalisation as the in-memory
batches; only where samples come from differs. Normalisation statistics are estimated from a
seeded sample of training items, since reading the whole set once just for them would cost
as much as an epoch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from workbench.data.augment import augment_batch
from workbench.data.batching import plan_epoch, shard_bounds
from workbench.data.normalise import Normaliser
from workbench.data.sharding import WHOLE, Shard
from workbench.data.sources.image_folder import decode_image, decode_images
from workbench.errors import DataError
from workbench.schema.config import AugmentConfig

#: Training items read to estimate the normalisation statistics of a streamed set.
STATS_SAMPLE = 2000


class StreamedItems(Protocol):
    """What a streamed split reads: items ``(input, target)`` for DataLoader workers, and inputs
    and targets of a few items at once, for statistics and pictures."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> tuple[Tensor, Any]: ...

    def inputs(self, indices: Sequence[int]) -> np.ndarray:
        """The inputs of these items as stored (uint8 pictures stay uint8)."""
        ...

    def targets(self, indices: Sequence[int]) -> np.ndarray: ...


class ImageFiles(Dataset):
    """Image files with their labels; each item decoded to uint8 (3, size, size); ``threads``
    decode many at once (statistics, pictures)."""

    def __init__(self, files: Sequence[str], labels: np.ndarray, size: int, threads: int = 1) -> None:
        self.files = list(files)
        self.labels = labels
        self.size = size
        self.threads = threads

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        return torch.from_numpy(decode_image(self.files[index], self.size)), int(self.labels[index])

    def inputs(self, indices: Sequence[int]) -> np.ndarray:
        return decode_images(tuple(self.files[i] for i in indices), self.size, self.threads)

    def targets(self, indices: Sequence[int]) -> np.ndarray:
        return self.labels[list(indices)]


class _PlannedBatches(Sampler[list[int]]):
    """A batch sampler whose batches are replaced each epoch, so persistent workers live on."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class LoaderBatches:
    """A split streamed through a DataLoader (image files, or a code data set's items)."""

    def __init__(
        self,
        files: StreamedItems,
        *,
        batch_size: int,
        workers: int,
        device: torch.device,
        normaliser: Normaliser,
        shuffle_seed: int | None = None,
        augment: AugmentConfig | None = None,
        shard: Shard = WHOLE,
        target_scale: Normaliser | None = None,
    ) -> None:
        """``target_scale``: regression targets standardised (with training statistics)."""
        self.num_samples = len(files)
        self.batch_size = batch_size
        self._files = files
        self._device = device
        self._normaliser = normaliser.to(device)
        self._seed = shuffle_seed
        self._augment = augment
        self._target_scale = target_scale.to(device) if target_scale is not None else None
        self._bounds = shard_bounds(self.num_samples, batch_size, shuffle_seed is not None, shard)
        self._sampler = _PlannedBatches()
        self._loader: DataLoader[tuple[Tensor, Any]] = DataLoader(
            files,  # type: ignore[arg-type]
            batch_sampler=self._sampler,
            num_workers=workers,
            pin_memory=device.type == "cuda",
            persistent_workers=workers > 0,
        )

    def __len__(self) -> int:
        return len(self._bounds)

    def epoch(self, epoch: int) -> Iterator[tuple[Tensor, Tensor]]:
        if self._seed is None:
            order, draw = torch.arange(self.num_samples), None
        else:
            plan = plan_epoch(self.num_samples, self._seed, epoch, self._augment)
            order = plan.order
            draw = plan.augment.to(self._device) if plan.augment is not None else None
        self._sampler.batches = [order[start:stop].tolist() for start, stop in self._bounds]
        for (start, stop), (images, labels) in zip(self._bounds, self._loader, strict=True):
            images = images.to(self._device, non_blocking=True)
            if draw is not None:
                images = augment_batch(images, draw, start, stop)
            labels = labels.to(self._device, non_blocking=True)
            yield self._normaliser(images), self._target_scale(labels) if self._target_scale else labels

    def raw_images(self, indices: Sequence[int] | Tensor) -> Tensor:
        picked = torch.as_tensor(indices, dtype=torch.long).tolist()
        images = self._files.inputs(picked)
        if images.dtype != np.uint8:
            raise DataError("this dataset has no images to show (its samples are numbers)")
        return torch.from_numpy(images)


def stats_sample(count: int, standardise: bool, seed: int) -> np.ndarray:
    """The seeded sample of at most STATS_SAMPLE training items that statistics are estimated on
    (none without ``standardise``)."""
    size = min(count, STATS_SAMPLE) if standardise else 0
    return np.sort(np.random.default_rng(seed).choice(count, size=size, replace=False))


def fit_streamed(files: StreamedItems, standardise: bool, seed: int) -> Normaliser:
    """Normalisation statistics from a seeded sample of at most STATS_SAMPLE training items
    (without ``standardise``: the first item, for its shape and dtype)."""
    picked = stats_sample(len(files), standardise, seed)
    sample = files.inputs(picked.tolist() if len(picked) else [0])
    return Normaliser.fit(torch.from_numpy(sample), standardise)
