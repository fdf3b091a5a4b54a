"""Parity with plain PyTorch: the engine trains the cifar10-tutorial network exactly like the
"Training a classifier" tutorial's own loop does, over the same batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn, optim

from workbench.data.loading import load_splits
from workbench.engine.seeding import seed_everything
from workbench.engine.trainer import Trainer
from workbench.experiment.presets import load_experiment
from workbench.runs import events as ev

from .tiny import Recorder


class Net(nn.Module):
    """The tutorial's network, verbatim."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def write_image_folder(root: Path, classes: int = 10, per_class: int = 6) -> Path:
    """Small synthetic 32x32 RGB images: noise around a colour that depends on the class."""
    rng = np.random.default_rng(7)
    for label in range(classes):
        folder = root / f"class{label}"
        folder.mkdir(parents=True)
        colour = rng.integers(0, 256, size=3)
        for i in range(per_class):
            pixels = np.clip(colour + rng.normal(0, 40, size=(32, 32, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")
    return root


def test_the_engine_matches_the_tutorials_plain_loop_epoch_by_epoch(tmp_path: Path) -> None:
    folder = write_image_folder(tmp_path / "images")
    config = load_experiment(
        "cifar10-tutorial",
        ["data.dataset=image-folder", f'data.options.path="{folder}"', "data.options.size=32", "train.epochs=2"],
    )
    rec = Recorder()
    Trainer(config, [rec]).run()
    engine_losses = [e.train["loss"] for e in rec.of(ev.EpochEnded)]

    # The tutorial: same seed, same batches, zero_grad / forward / loss / backward / step.
    splits = load_splits(config.data, config.train.seed, "cpu")
    seed_everything(config.train.seed)
    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    plain_losses = []
    for epoch in (1, 2):
        running, seen = 0.0, 0
        for inputs, labels in splits.train.epoch(epoch):
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running += loss.item() * len(labels)
            seen += len(labels)
        plain_losses.append(running / seen)

    assert len(engine_losses) == 2
    assert engine_losses == pytest.approx(plain_losses, abs=5e-6)  # agree to 5 decimals
    assert engine_losses[1] < engine_losses[0]
