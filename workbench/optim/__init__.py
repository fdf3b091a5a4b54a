"""Losses, optimizers and learning-rate schedules.

``catalog`` describes them as plain data without importing torch (the app paints and the
config validates before torch has loaded); ``build`` makes the torch objects and the run's
:class:`Schedule`; ``preview`` computes the learning rate of every step ahead of a run.
The names below are importable from ``workbench.optim``; the torch-backed ones load torch
only when first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from workbench.optim.catalog import LOSSES, OPTIMIZERS, SCHEDULES, Choice, check_loss, check_optimizer, check_schedule, choice

_TORCH_BACKED = {
    "Schedule": "build",
    "build_loss": "build",
    "build_optimizer": "build",
    "build_schedule": "build",
    "LRPreview": "preview",
    "lr_preview": "preview",
}

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULES",
    "Choice",
    "check_loss",
    "check_optimizer",
    "check_schedule",
    "choice",
    *_TORCH_BACKED,
]


def __getattr__(name: str) -> Any:
    if name in _TORCH_BACKED:
        return getattr(import_module(f"workbench.optim.{_TORCH_BACKED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
