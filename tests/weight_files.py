"""Published backbone weights written by the tests in their real format, so nothing downloads."""

from __future__ import annotations

import importlib
from pathlib import Path

import torch

from workbench import paths
from workbench.model.backbones import BACKBONES


def write_published_weights(model: str, seed: int = 1) -> Path:
    """A freshly initialised ``model``'s state dict (ImageNet head and all), saved as torchvision
    publishes it: ``torch.save`` under the published file name in the cache's weights folder."""
    spec = BACKBONES[model]
    torch.manual_seed(seed)
    module = getattr(importlib.import_module(f"torchvision.models.{spec.module}"), spec.name)(weights=None)
    folder = paths.cache_dir() / "weights"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / spec.file_name
    torch.save(module.state_dict(), path)
    return path
