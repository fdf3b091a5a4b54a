"""Image folders too large for memory: decode per batch in DataLoader worker processes.

Same interface and the same seeded order, augmentation and normalisation as the in-memory
batches; only where pixels come from differs. Normalisation statistics are estimated from a
seeded sample of training images, since decoding the whole set once just for them would cost
as much as an epoch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from workbench.data.augment import augment_batch
from workbench.data.batching import plan_epoch, shard_bounds
from workbench.data.normalise import Normaliser
from workbench.data.sharding import WHOLE, Shard
from workbench.data.sources.image_folder import decode_image, decode_images
from workbench.schema.config import AugmentConfig

#: Training images decoded to estimate the normalisation statistics of a streamed set.
STATS_SAMPLE = 2000


class ImageFiles(Dataset):
    """Image files with their labels; each item decoded to uint8 (3, size, size)."""

    def __init__(self, files: Sequence[str], labels: np.ndarray, size: int) -> None:
        self.files = list(files)
        self.labels = labels
        self.size = size

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        return torch.from_numpy(decode_image(self.files[index], self.size)), int(self.labels[index])


class _PlannedBatches(Sampler[list[int]]):
    """A batch sampler whose batches are replaced each epoch, so persistent workers live on."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class LoaderBatches:
    """A split streamed from image files through a DataLoader."""

    def __init__(
        self,
        files: ImageFiles,
        *,
        batch_size: int,
        workers: int,
        device: torch.device,
        normaliser: Normaliser,
        shuffle_seed: int | None = None,
        augment: AugmentConfig | None = None,
        shard: Shard = WHOLE,
    ) -> None:
        self.num_samples = len(files)
        self.batch_size = batch_size
        self._files = files
        self._device = device
        self._normaliser = normaliser.to(device)
        self._seed = shuffle_seed
        self._augment = augment
        self._bounds = shard_bounds(self.num_samples, batch_size, shuffle_seed is not None, shard)
        self._sampler = _PlannedBatches()
        self._loader = DataLoader(
            files,
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
            yield self._normaliser(images), labels.to(self._device, non_blocking=True)

    def raw_images(self, indices: Sequence[int] | Tensor) -> Tensor:
        picked = torch.as_tensor(indices, dtype=torch.long).tolist()
        return torch.from_numpy(decode_images(tuple(self._files.files[i] for i in picked), self._files.size, workers=1))


def fit_streamed(files: ImageFiles, standardise: bool, seed: int, workers: int) -> Normaliser:
    """Normalisation statistics from a seeded sample of at most STATS_SAMPLE training images."""
    count = min(len(files), STATS_SAMPLE) if standardise else 0
    picked = np.sort(np.random.default_rng(seed).choice(len(files), size=count, replace=False))
    sample = decode_images(tuple(files.files[i] for i in picked), files.size, workers)
    return Normaliser.fit(torch.from_numpy(sample), standardise)
