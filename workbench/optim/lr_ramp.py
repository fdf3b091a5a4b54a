"""The LR finder's ramp as plain numbers, without torch: its defaults, its learning rates and
the check of its bounds, so that the command refuses bad options (and prints its help) before
torch loads. :mod:`workbench.engine.lr_find` runs it."""

from __future__ import annotations

import math

from workbench.errors import WorkbenchError

#: The ramp's defaults: 100 steps from 1e-7 to 10, as Lightning's ``lr_find``.
START_LR, END_LR, STEPS = 1e-7, 10.0, 100
#: The fewest steps a ramp may take (a suggestion needs a curve).
MIN_STEPS = 10


def ramp_lrs(start: float, end: float, steps: int) -> list[float]:
    """``steps`` LRs from ``start`` to ``end``, evenly spaced on a log scale (both ends included)."""
    ratio = end / start
    return [start * ratio ** (i / (steps - 1)) for i in range(steps)]


def check_ramp(start: float, end: float, steps: int) -> None:
    """Refuse a ramp that cannot be run, in one line naming the option."""
    if not (math.isfinite(start) and start > 0):
        raise WorkbenchError(f"--start: {start:g} is not a learning rate; use a number > 0 such as 1e-7")
    if not (math.isfinite(end) and end > start):
        raise WorkbenchError(f"--end: {end:g} must be above --start ({start:g}); the ramp goes up, e.g. 1e-7 to 10")
    if steps < MIN_STEPS:
        raise WorkbenchError(f"--steps: {steps} is too few for a curve; use at least {MIN_STEPS} (100 is usual)")
