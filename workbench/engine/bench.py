"""Proof of speed on the user's own machine: the engine against the loops people write by hand.

One experiment (model, optimizer, batch size, training samples, device) trains three ways,
interleaved, for a few rounds, each way from the same seed on the same samples:

- ``engine``: Workbench's own :class:`~workbench.engine.trainer.Trainer`, the loop every run
  goes through (events, device-side metrics, validation and a checkpoint each epoch), in a
  scratch run folder that is deleted afterwards. Its samples/s are the engine's own figures for
  the training steps of each epoch (validation and saving are not counted, as for the others).
- ``plain``: the hand-written loop over tensors: the training samples normalised once and held
  on the device, a random permutation each epoch, zero_grad, forward, loss, backward, step.
- ``tutorial``: PyTorch's tutorial pipeline: a ``torch.utils.data.Dataset`` whose samples go
  through torchvision transforms (images as PIL images, ``ToTensor``, ``Normalize``), a shuffling
  ``DataLoader``, each batch moved to the device. For a data set of the user's own class, the
  tutorial is their class itself in the DataLoader, over the same training items, each batch
  normalised on the device as the engine does.

The order of the three turns each round, so that a busier moment of a shared machine hits each
alike; the spread across rounds is part of the result, with the machine's load before and after.
Nothing is downloaded: a dataset that is not in the cache is refused in one line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from workbench.data import code_loading
from workbench.data.download import missing_message
from workbench.data.normalise import Normaliser
from workbench.data.reading import read_raw
from workbench.data.registry import dataset_options, describe, is_cached
from workbench.data.splitting import batch_bounds, carve_validation
from workbench.engine.device import device_name, resolve_device
from workbench.engine.setup import Parts, build_parts, input_resize, refuse_what_cannot_fit
from workbench.engine.step import train_step
from workbench.engine.trainer import Trainer
from workbench.errors import ConfigError, DataError, WorkbenchError
from workbench.experiment.naming import data_file
from workbench.model.shapes import analyse_model
from workbench.optim.build import build_optimizer
from workbench.runs import events as ev
from workbench.runs.folder import RunDir
from workbench.schema.config import RunConfig

#: The three ways, in the order of the first round (later rounds turn it).
WAYS = ("engine", "plain", "tutorial")
#: Batches each way trains on in the warm-up, which is not counted.
WARM_UP_BATCHES = 8
#: Seconds of training per way and round that the epochs are chosen for, when not given.
TARGET_SECONDS = 2.0


class BenchOutOfMemory(WorkbenchError):
    """The device ran out of memory: the model or the batch is too large for it."""


@dataclass(frozen=True)
class Spread:
    """Samples/s of one way, one figure per round."""

    rates: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    @property
    def low(self) -> float:
        return min(self.rates)

    @property
    def high(self) -> float:
        return max(self.rates)


@dataclass(frozen=True)
class BenchResult:
    """What :func:`run_bench` measured; the command and the benchmark scripts render it."""

    name: str  # the experiment's
    device: str  # "cpu", "cuda:0"
    device_name: str  # "CPU (2 threads)", "NVIDIA H200"
    batch_size: int
    optimizer: str
    parameters: int
    train_samples: int
    epochs: int  # per way and round
    rounds: int
    loader_workers: int  # the tutorial DataLoader's
    ways: dict[str, Spread]  # by name, in WAYS order
    load_before: tuple[float, float, float]  # os.getloadavg()
    load_after: tuple[float, float, float]
    cpu_count: int
    torch_version: str
    #: Peak GPU memory per way in bytes (the allocator's counter), on CUDA only.
    peak_memory: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0  # the whole bench, data loading included
    #: What the tutorial's DataLoader reads: "Dataset + transforms", or the user's own class.
    tutorial_dataset: str = "Dataset + transforms"

    def ratio(self, way: str, over: str) -> float:
        """Median samples/s of ``way`` over those of ``over`` (> 1: ``way`` is faster)."""
        return self.ways[way].median / self.ways[over].median

    def round_ratios(self, way: str, over: str) -> list[float]:
        """The ratio in each round: the two measured in the same round, close in time."""
        return [a / b for a, b in zip(self.ways[way].rates, self.ways[over].rates, strict=True)]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ways"] = {
            name: {"samples_per_s": spread.rates, "median": spread.median, "min": spread.low, "max": spread.high}
            for name, spread in self.ways.items()
        }
        data["ratios"] = {"engine/plain": self.ratio("engine", "plain"), "engine/tutorial": self.ratio("engine", "tutorial")}
        return data


@dataclass(frozen=True)
class TrainingSamples:
    """The training split the engine would train on, as the source gives it (numpy arrays), with
    the normalisation the engine fits on it: what the plain loop and the tutorial start from."""

    inputs: np.ndarray  # uint8 (N, C, H, W) images, float32 (N, F) features
    targets: np.ndarray
    normaliser: Normaliser
    target_normaliser: Normaliser | None  # regression targets are standardised, as the engine does
    is_image: bool
    #: A code data set: the user's own class over the same training items, which the tutorial's
    #: DataLoader reads (item by item, as their own script would).
    user_dataset: torch.utils.data.Dataset | None = None


def check_bench(config: RunConfig, device: str | None) -> torch.device:
    """The device the bench runs on; one line for a device that is not there or data that is not
    downloaded (the bench never downloads), before anything loads."""
    resolved = resolve_device(device or config.train.device, "--device" if device else "train.device")
    info = describe(config.data)
    if info.name == "image-folder":
        raise ConfigError("data.dataset: the bench needs a dataset held in memory; image-folder is not supported")
    if info.name == "code" and code_loading.streams(dataset_options(config.data), info):
        raise ConfigError(
            "data.options.storage: the bench needs a dataset held in memory, and this code data set streams "
            f'(more than {code_loading.MEMORY_BUDGET_BYTES >> 30} GiB, or storage = "stream")',
            field="data.options.storage",
        )
    resize = input_resize(config.model)
    if resize is not None:
        raise ConfigError(
            f"model: a pretrained backbone (inputs resized to {resize.size}x{resize.size} on the device) is not benched yet; "
            "the bench compares loops over the dataset's own images"
        )
    if not is_cached(info.name):
        raise DataError(
            missing_message(info.name, "not in the cache and the bench does not download (a `workbench train` of it does, once)")
        )
    refuse_what_cannot_fit(config, resolved)
    return resolved


def run_bench(
    config: RunConfig,
    *,
    device: str | None = None,
    rounds: int = 3,
    epochs: int | None = None,
    loader_workers: int = 0,
    progress: Callable[[int, str, float], None] | None = None,
) -> BenchResult:
    """Train ``config`` the three ways, ``epochs`` each, ``rounds`` times, interleaved.

    ``epochs`` None: enough for about :data:`TARGET_SECONDS` of training per way and round, as
    the warm-up's speed predicts (a measurement much shorter is at the mercy of any other
    process on the machine). ``progress(round, way, samples_per_s)`` is called after each
    measurement. A device that is not there, data that is not cached and a model that does not
    fit raise a WorkbenchError (one line); so does running out of memory on the way.
    """
    _at_least("--rounds", rounds, 1)
    _at_least("--epochs", 1 if epochs is None else epochs, 1)
    _at_least("--workers", loader_workers, 0)
    began = time.perf_counter()
    resolved = check_bench(config, device)
    device_arg = str(resolved)
    info = describe(config.data)
    samples = training_samples(config)
    with _peak_memory(resolved, {}, "warm-up"):
        fastest = max(warm_up(config, device_arg, loader_workers).values())
    if epochs is None:
        epochs = max(1, math.ceil(TARGET_SECONDS * fastest / len(samples.inputs)))
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, epochs=epochs))
    measure = _measurements(config, device_arg, samples, loader_workers)
    load_before = os.getloadavg()
    rates: dict[str, list[float]] = {way: [] for way in WAYS}
    peaks: dict[str, int] = {}
    for index in range(rounds):
        for way in WAYS[index % 3 :] + WAYS[: index % 3]:
            with _peak_memory(resolved, peaks, way):
                rate = measure[way]()
            rates[way].append(rate)
            if progress is not None:
                progress(index + 1, way, rate)
    return BenchResult(
        name=config.name or "experiment",
        device=device_arg,
        device_name=device_name(resolved),
        batch_size=config.data.batch_size,
        optimizer=config.optimizer.name,
        parameters=analyse_model(config.model, info.input_shape, info.num_outputs, vocab_size=info.vocab_size).total_params,
        train_samples=len(samples.inputs),
        epochs=epochs,
        rounds=rounds,
        loader_workers=loader_workers,
        ways={way: Spread(rates[way]) for way in WAYS},
        load_before=load_before,
        load_after=os.getloadavg(),
        cpu_count=os.cpu_count() or 1,
        torch_version=torch.__version__,
        peak_memory=peaks,
        seconds=time.perf_counter() - began,
        tutorial_dataset=f"your {data_file(config.data)}" if info.name == "code" else "Dataset + transforms",
    )


def _at_least(flag: str, value: int, low: int) -> None:
    if value < low:
        raise ConfigError(f"{flag}: {value} is too few; at least {low}")


def _measurements(
    config: RunConfig, device: str, samples: TrainingSamples, loader_workers: int
) -> dict[str, Callable[[], float]]:
    """Each way as a call that trains a fresh model and returns its samples/s."""
    return {
        "engine": lambda: engine_samples_per_s(config, device),
        "plain": lambda: plain_samples_per_s(config, device, samples),
        "tutorial": lambda: tutorial_samples_per_s(config, device, samples, loader_workers),
    }


def warm_up(config: RunConfig, device: str, loader_workers: int) -> dict[str, float]:
    """Each way for one epoch of a few batches, not counted: what a process pays once (imports
    the first optimizer and DataLoader pull in, thread pools, the allocator's first blocks)
    would otherwise fall on whichever way happens to go first. Returns their samples/s, rough."""
    few = dataclasses.replace(
        config,
        data=dataclasses.replace(config.data, subset=_fewer(config.data.subset, WARM_UP_BATCHES * config.data.batch_size)),
        train=dataclasses.replace(config.train, epochs=1),
    )
    return {way: measure() for way, measure in _measurements(few, device, training_samples(few), loader_workers).items()}


def _fewer(subset: int, samples: int) -> int:
    """``data.subset`` for at most ``samples`` training samples, where ``subset`` (0: all) allows."""
    return min(subset, samples) if subset > 0 else samples


@contextlib.contextmanager
def _peak_memory(device: torch.device, peaks: dict[str, int], way: str) -> Iterator[None]:
    """Record the GPU's peak allocated bytes while the body runs (CUDA only), and turn running
    out of memory into one line (the engine's own loop words it the same way)."""
    if device.type != "cuda":
        yield
        return
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    try:
        yield
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        raise BenchOutOfMemory(
            f"{device_name(device)} ran out of memory in the {way} loop; "
            "make the model or data.batch_size smaller (--set data.batch_size=...)"
        ) from None
    peaks[way] = max(peaks.get(way, 0), torch.cuda.max_memory_allocated(device))


def training_samples(config: RunConfig) -> TrainingSamples:
    """The training split of ``config`` exactly as the engine carves it (same seed, same subset)."""
    data = config.data
    info = describe(data)
    raw = read_raw(data.dataset, dataset_options(data))
    train_idx, _ = carve_validation(len(raw.train), data.val_fraction, data.subset, config.train.seed)
    train = raw.train.take(train_idx)
    regression = info.task == "regression"
    user_dataset = None
    if data.dataset == "code":
        user_dataset = code_loading.user_training_items(
            dataset_options(data), info, data.val_fraction, data.subset, config.train.seed
        )
    return TrainingSamples(
        inputs=train.inputs,
        targets=train.targets,
        normaliser=Normaliser.fit(torch.from_numpy(train.inputs), data.normalize),
        target_normaliser=Normaliser.fit(torch.from_numpy(train.targets), standardise=True) if regression else None,
        is_image=info.kind == "image",
        user_dataset=user_dataset,
    )


# ----------------------------------------------------------------------------- the engine


def engine_samples_per_s(config: RunConfig, device: str | None) -> float:
    """The engine's training samples/s over all epochs of one run of ``config`` (its own
    figures), trained in a scratch run folder that is removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="workbench-bench-"))
    try:
        (folder / "checkpoints").mkdir()
        ended: list[ev.EpochEnded] = []

        def collect(event: ev.Event) -> None:
            if isinstance(event, ev.EpochEnded):
                ended.append(event)

        Trainer(config, [collect], run=RunDir(folder), device=device).run()
        return statistics.harmonic_mean(e.samples_per_s for e in ended)  # total samples / total seconds
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ----------------------------------------------------------------------------- by hand


def _fresh_model(config: RunConfig, device: str | None) -> tuple[Parts, torch.optim.Optimizer, torch.amp.GradScaler]:
    """The model as a run builds it (same seed, same initial weights), with its optimizer."""
    parts = build_parts(config, device=device, for_training=True)
    optimizer = build_optimizer(config.optimizer, parts.prepared.module.parameters())
    scaler = torch.amp.GradScaler(parts.device.type, enabled=parts.precision.needs_grad_scaler)
    return parts, optimizer, scaler


def _timed_epochs(
    config: RunConfig, device: str | None, batches: Callable[[torch.device], Iterator[tuple[Tensor, Tensor]]]
) -> float:
    """Train a fresh model for ``config.train.epochs`` over ``batches(device)`` with the loop of
    the tutorials (autocast and loss scaling as the experiment asks), without the engine's
    metrics, reports and checkpoints; returns samples/s."""
    parts, optimizer, scaler = _fresh_model(config, device)
    seen, seconds = 0, 0.0
    parts.prepared.model.train()
    for _ in range(config.train.epochs):
        total = torch.zeros((), device=parts.device)
        started = time.perf_counter()
        for inputs, targets in batches(parts.device):
            # The step every tutorial writes (engine.step: the engine's own, without its bookkeeping).
            _, loss = train_step(parts, optimizer, scaler, config.train.grad_clip, inputs, targets)
            total += loss.detach()
            seen += len(targets)
        total.item()  # wait for the device at the end of the epoch, as the engine does
        seconds += time.perf_counter() - started
    return seen / seconds


def plain_samples_per_s(config: RunConfig, device: str | None, samples: TrainingSamples) -> float:
    """The hand-written loop: samples normalised once onto the device, sliced by a permutation."""
    resolved = torch.device(device or "cpu")
    inputs = samples.normaliser.to(resolved)(torch.from_numpy(samples.inputs).to(resolved))
    targets = torch.from_numpy(samples.targets).to(resolved)
    if samples.target_normaliser is not None:
        targets = samples.target_normaliser.to(resolved)(targets)
    bounds = batch_bounds(len(inputs), config.data.batch_size, training=True)  # the engine's batches

    def batches(on: torch.device) -> Iterator[tuple[Tensor, Tensor]]:
        order = torch.randperm(len(inputs), device=on)
        for start, stop in bounds:
            picked = order[start:stop]
            yield inputs[picked], targets[picked]

    return _timed_epochs(config, device, batches)


class TutorialDataset(torch.utils.data.Dataset):
    """A map-style dataset as the tutorials write one: one sample at a time, through a transform
    (an image as a PIL image, as torchvision's MNIST and CIFAR10 hand them out)."""

    def __init__(self, samples: TrainingSamples) -> None:
        self.inputs, self.targets = samples.inputs, samples.targets
        self.is_image = samples.is_image
        self.transform = _transform(samples)
        self.target_transform = _standardise(samples.target_normaliser) if samples.target_normaliser else None

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index: int) -> tuple[Tensor, Any]:
        from PIL import Image

        sample = self.inputs[index]
        if self.is_image:  # (C, H, W) uint8 -> a PIL image, as a torchvision dataset returns it
            sample = Image.fromarray(sample[0] if sample.shape[0] == 1 else sample.transpose(1, 2, 0))
        target = self.targets[index]
        if self.target_transform is not None:
            target = self.target_transform(target)
        return self.transform(sample), target


def _transform(samples: TrainingSamples) -> Callable[[Any], Tensor]:
    """``Compose([ToTensor(), Normalize(mean, std)])`` for images (ToTensor scales to 0..1, so the
    engine's statistics of 0..255 pixels are scaled alike); standardisation for features."""
    from torchvision import transforms

    if samples.is_image:
        scale = 255.0
        mean = (samples.normaliser.mean.flatten() / scale).tolist()
        std = (samples.normaliser.std.flatten() / scale).tolist()
        return transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    return _standardise(samples.normaliser)


class _standardise:  # noqa: N801 - a transform, named as torchvision names them
    """One sample through the engine's normalisation (features standardised, token ids left as
    they are); a class, not a lambda, so that a DataLoader worker can be handed it."""

    def __init__(self, normaliser: Normaliser) -> None:
        self.normaliser = normaliser

    def __call__(self, values: np.ndarray) -> Tensor:
        return self.normaliser(torch.from_numpy(np.asarray(values))[None])[0]


def tutorial_samples_per_s(config: RunConfig, device: str | None, samples: TrainingSamples, workers: int) -> float:
    """The tutorial pipeline: Dataset + transforms + a shuffling DataLoader, batches to the device."""
    resolved = torch.device(device or "cpu")
    own = samples.user_dataset
    loader = torch.utils.data.DataLoader(
        own if own is not None else TutorialDataset(samples),
        batch_size=config.data.batch_size,
        shuffle=True,
        drop_last=len(samples.inputs) % config.data.batch_size == 1,  # as the engine: no batch of one
        num_workers=workers,
        pin_memory=resolved.type == "cuda",
    )

    normaliser = samples.normaliser.to(resolved)
    target_normaliser = samples.target_normaliser.to(resolved) if samples.target_normaliser else None

    def batches(on: torch.device) -> Iterator[tuple[Tensor, Tensor]]:
        for inputs, targets in loader:
            inputs, targets = inputs.to(on, non_blocking=True), targets.to(on, non_blocking=True)
            if own is not None:  # the user's items as their class gives them: normalised here
                inputs = normaliser(inputs)
                targets = target_normaliser(targets) if target_normaliser else targets
            yield inputs, targets

    return _timed_epochs(config, device, batches)
