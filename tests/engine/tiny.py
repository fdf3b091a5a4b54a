"""Tiny experiments for engine tests: real presets shrunk to train in a fraction of a second."""

from __future__ import annotations

from collections.abc import Sequence

from workbench.experiment.presets import load_experiment
from workbench.runs import events as ev
from workbench.schema.config import RunConfig

#: For the tests that compare runs bit for bit: on a GPU, runs repeat only with deterministic
#: kernels (on the CPU they do anyway, and the switch is checked to change nothing there).
DETERMINISTIC = "train.deterministic=true"


def tiny_digits(*overrides: str) -> RunConfig:
    """digits-cnn (conv, BatchNorm, Dropout, Adam, per-step cosine) on 256 samples with augmentation."""
    return load_experiment("digits-cnn", ["data.subset=256", "train.epochs=4", "data.augment.random_crop_padding=1", *overrides])


def tiny_spirals(*overrides: str) -> RunConfig:
    """spirals-mlp on 3 x 40 points."""
    return load_experiment("spirals-mlp", ["data.options.samples_per_class=40", "train.epochs=3", *overrides])


class Recorder:
    """A sink that keeps every event."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def __call__(self, event: ev.Event) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def kinds(self, skip: Sequence[type] = (ev.Progress,)) -> list[str]:
        return [type(e).__name__ for e in self.events if not isinstance(e, tuple(skip))]
