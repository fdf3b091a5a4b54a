"""Interleaved 2-D spirals, one arm per class (as in TensorFlow Playground).

A classic test of whether a network can learn a non-linear boundary; generated from a fixed
data seed, so the same options always give the same points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.data.raw import RawDataset

#: How many turns each arm makes from the centre to the rim. Playground's two arms make 1.75;
#: with three or more arms that packs them so close that a small MLP cannot separate them in a
#: short run, while one turn still needs a clearly non-linear boundary.
TURNS = 1.0
#: The two coordinates of a point, by name (what `predict` reads rows by).
FEATURE_NAMES = ("x", "y")


def class_names(classes: int) -> tuple[str, ...]:
    return tuple(str(k) for k in range(classes))


def make_spirals(options: dict[str, Any]) -> RawDataset:
    """Points of ``classes`` arms, ``samples_per_class`` each, with Gaussian ``noise`` (radius 1)."""
    import numpy as np  # here, not at the top: validating an experiment (the app's first frame) needs no numpy

    from workbench.data.raw import split_fixed

    classes, per_class = options["classes"], options["samples_per_class"]
    rng = np.random.default_rng(options["data_seed"])
    radius = np.linspace(0.0, 1.0, per_class, endpoint=False)
    arm = np.arange(classes)[:, None]
    angle = 2 * np.pi * (TURNS * radius[None, :] + arm / classes)
    points = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=-1).reshape(-1, 2)
    points = points + rng.normal(0.0, options["noise"], size=points.shape)
    labels = np.repeat(np.arange(classes, dtype=np.int64), per_class)
    return split_fixed(points.astype(np.float32), labels, class_names(classes), "spirals")
