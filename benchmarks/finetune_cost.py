"""What freezing a pretrained backbone saves: training seconds per epoch, frozen versus unfrozen.

Builds the cifar10-finetune preset's model (resnet18 with published weights, its head replaced)
twice, through the engine's own set-up: once with ``freeze = "all_but_head"`` (only the head
trains; no gradient flows into the backbone and its BatchNorm stays in eval mode) and once with
``freeze = "none"``. Both train on the same small subset of the bundled digits (offline; grey
8x8 pictures repeated to 3 channels and resized per batch to ``--size``) with the engine's
training step, epoch by epoch, the two sides alternating (ABBA) so that a busier moment of a
shared machine hits both alike. Prints the median seconds per epoch of each, their spread and
the ratio, with the machine's load. No download: a weights file is written in the published
format (fresh random values; the cost does not depend on them) into a temporary WORKBENCH_HOME,
named as torchvision names its files (its hash checked on loading), and the layer pointed at it.

    python -m benchmarks.finetune_cost [--samples 256] [--size 64] [--rounds 3] [--model resnet18] [--device cpu]

Measured on 2 CPU cores shared with other work (load average about 7): 256 samples at 64x64,
frozen 10.9 s/epoch against 32.5 s unfrozen (3.0x); 64 samples at 224x224, 9.1 s against 30.2 s
(3.3x).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from workbench import paths
from workbench.engine.setup import Parts, build_parts
from workbench.engine.step import train_step
from workbench.experiment.presets import load_experiment
from workbench.model.backbone_build import trained_parameters
from workbench.model.backbones import BACKBONES
from workbench.optim.build import build_optimizer


def write_weights(model: str) -> Path:
    """A fresh ``model``'s state dict in the cache, named ``<model>-<its SHA-256 prefix>.pth`` (no download)."""
    spec = BACKBONES[model]
    folder = paths.cache_dir() / "weights"
    folder.mkdir(parents=True, exist_ok=True)
    module = getattr(importlib.import_module(f"torchvision.models.{spec.module}"), spec.name)(weights=None)
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    path = folder / f"{model}-{hashlib.sha256(buffer.getvalue()).hexdigest()[:8]}.pth"
    path.write_bytes(buffer.getvalue())
    return path


class Side:
    """One way to fine-tune: the engine's parts and optimizer, trained an epoch at a time."""

    def __init__(self, freeze: str, args: argparse.Namespace, weights: Path) -> None:
        overrides = [
            f"model.layers.0.weights={weights}",
            "data.dataset=digits",
            f"data.subset={args.samples}",
            "data.batch_size=32",
            "data.augment.random_crop_padding=0",
            f"model.layers.0.model={args.model}",
            f"model.layers.0.input_size={args.size}",
            f"model.layers.0.freeze={freeze}",
            "model.layers.0.unfreeze_after=0",
            "train.precision=fp32",
            "train.channels_last=false",
        ]
        self.config = load_experiment("cifar10-finetune", overrides)
        self.parts: Parts = build_parts(self.config, device=args.device, for_training=True)
        module = self.parts.prepared.module
        self.optimizer = build_optimizer(self.config.optimizer, trained_parameters(module, self.parts.frozen))
        self.scaler = torch.amp.GradScaler(self.parts.device.type, enabled=False)
        self.epoch = 0
        self.trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)

    def train_epoch(self) -> float:
        """Seconds for one epoch of training steps (the engine's step, loss read at the end)."""
        self.epoch += 1
        self.parts.prepared.model.train()
        started = time.perf_counter()
        loss = torch.zeros(())
        for inputs, targets in self.parts.splits.train.epoch(self.epoch):
            _, loss = train_step(self.parts, self.optimizer, self.scaler, 0.0, inputs, targets)
        loss.item()  # sync: wait for the device, as the engine does at an epoch's end
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=256, help="training samples per epoch")
    parser.add_argument("--size", type=int, default=64, help="images are resized to this (224: the weights' own size)")
    parser.add_argument("--rounds", type=int, default=3, help="ABBA rounds (4 epochs each)")
    parser.add_argument("--model", default="resnet18", choices=tuple(BACKBONES))
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="workbench-finetune-")
    weights = write_weights(args.model)
    frozen, unfrozen = Side("all_but_head", args, weights), Side("none", args, weights)
    for side in (frozen, unfrozen):  # warm-up epoch each: first-call allocations and lazy imports
        side.train_epoch()
    times: dict[str, list[float]] = {"frozen": [], "unfrozen": []}
    for _ in range(args.rounds):
        for name, side in (("frozen", frozen), ("unfrozen", unfrozen), ("unfrozen", unfrozen), ("frozen", frozen)):
            times[name].append(side.train_epoch())
    load = os.getloadavg()
    print(
        f"{args.model}, {args.samples} samples resized to {args.size}x{args.size}, batch 32, {frozen.parts.device}, "
        f"torch threads {torch.get_num_threads()}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    for name, side in (("frozen", frozen), ("unfrozen", unfrozen)):
        values = times[name]
        print(
            f"  {name:<9} {side.trainable:>11,} trainable params: {statistics.median(values):6.2f} s/epoch "
            f"(min {min(values):.2f}, max {max(values):.2f}, {len(values)} epochs)"
        )
    ratio = statistics.median(times["unfrozen"]) / statistics.median(times["frozen"])
    pairs = [u / f for u, f in zip(times["unfrozen"], times["frozen"], strict=True)]
    print(f"  unfrozen / frozen: {ratio:.2f}x (per round pair: {min(pairs):.2f}x to {max(pairs):.2f}x)")


if __name__ == "__main__":
    main()
