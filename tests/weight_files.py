"""Backbone weights files written by the tests in torchvision's real format, so nothing downloads.

A file's values are a freshly initialised model's (seeded), saved with ``torch.save`` as
torchvision publishes its state dicts; its name carries the first hex digits of its own SHA-256,
as torchvision's names do (``resnet18-1a2b3c4d.pth``), so that the hash check passes, or not.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
from pathlib import Path

import pytest
import torch

from workbench import paths
from workbench.model.backbones import BACKBONES


def write_weights(model: str, folder: Path, seed: int = 1, *, name: str | None = None) -> Path:
    """``model``'s state dict (ImageNet head and all) in ``folder``, named ``<model>-<its hash
    prefix>.pth``, or ``name``."""
    spec = BACKBONES[model]
    torch.manual_seed(seed)
    module = getattr(importlib.import_module(f"torchvision.models.{spec.module}"), spec.name)(weights=None)
    folder.mkdir(parents=True, exist_ok=True)
    written = folder / f".{model}.part"
    torch.save(module.state_dict(), written)
    digest = hashlib.sha256(written.read_bytes()).hexdigest()
    return written.rename(folder / (name or f"{model}-{digest[:8]}.pth"))


def write_published_weights(model: str, monkeypatch: pytest.MonkeyPatch, seed: int = 1) -> Path:
    """Weights that stand in for ``model``'s published file: written into the cache under a name
    that carries their hash, and the table's entry pointed at that name for the test (as torchvision's
    CIFAR-10 checksums are in the data tests), so that ``weights = "imagenet"`` loads them."""
    path = write_weights(model, paths.cache_dir() / "weights", seed)
    spec = BACKBONES[model]
    monkeypatch.setitem(BACKBONES, model, dataclasses.replace(spec, url=spec.url.rsplit("/", 1)[0] + "/" + path.name))
    return path
