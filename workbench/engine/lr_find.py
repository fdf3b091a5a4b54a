"""The learning-rate finder: a short exponential LR ramp on the real model and data.

Leslie Smith's range test, as fastai and Lightning run it: a fresh copy of the experiment's
model (built and seeded as a run would build it, :func:`~workbench.engine.setup.build_parts`)
trains for ``steps`` batches with the experiment's optimizer while the learning rate grows
exponentially from ``start`` to ``end``; the loss of every step is recorded and smoothed
(exponential moving average, corrected for its start). The ramp stops early once the smoothed
loss passes :data:`DIVERGED` times its best: the LR is then far too high and the rest of the
ramp would only draw noise.

The suggestion is the LR where the smoothed loss falls fastest against log(LR): the steepest
descent. It is a starting point: the minimum of the curve is already too high to train at
(the loss is about to blow up there), and the best LR for a whole run is often a bit below the
steepest point. Nothing is saved and the experiment is not changed: the finder returns an
:class:`LRFind` that the command and the app render.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from workbench.engine.device import device_name
from workbench.engine.setup import Parts, build_parts
from workbench.engine.step import train_step
from workbench.optim.build import build_optimizer
from workbench.optim.lr_ramp import END_LR, START_LR, STEPS, check_ramp, ramp_lrs
from workbench.schema.config import RunConfig

#: The weight of the running average in the smoothed loss. fastai and Lightning use 0.98, which
#: over a 100-step ramp averages some 50 steps (4 decades of LR) and lags so far behind that on
#: spirals-mlp (seed 1) the steepest "descent" fell on the flat start (5e-7); 0.9 averages about
#: 10 steps, under a decade, and finds the descent of digits and spirals. (diabetes-regression,
#: 16 samples a batch, stays noise until it diverges: its suggestion is not to be trusted.)
SMOOTHING = 0.9
#: The ramp stops when the smoothed loss exceeds this many times its best (Lightning's).
DIVERGED = 4.0
#: Steps left out at the start of the curve when looking for the steepest descent: the
#: smoothed loss is still mostly its first few values there (a tenth of the ramp, at most 10).
SKIP_START = 10
#: What the suggestion is and is not, written next to it wherever it is shown.
CAVEAT = "a starting point, not an answer: try it and a bit lower; the LR at the loss's minimum is already too high"


class LRFindCancelled(Exception):
    """The person stopped the ramp (escape in the app): nothing to show."""


@dataclass(frozen=True)
class LRFind:
    """What one ramp measured and suggests (``suggestion`` is None when the loss never fell
    steadily: the ramp started too high, or ended before the loss could move)."""

    name: str  # the experiment's
    optimizer: str
    start: float
    end: float
    steps: int  # asked for
    lrs: list[float]  # the LR of each step taken
    losses: list[float]  # each step's batch loss
    smoothed: list[float]  # the smoothed loss after each step
    diverged: bool  # stopped early: the smoothed loss passed DIVERGED times its best
    suggestion: float | None
    min_loss_lr: float | None  # where the smoothed loss was lowest (too high to train at)
    note: str  # the caveat beside a suggestion, or why there is none
    device: str
    seconds: float  # the whole finder: data, model and ramp
    ramp_seconds: float  # the ramp alone

    @property
    def chart_top(self) -> float:
        """Where a chart of the smoothed loss is cut at the top: its first value, so that the
        descent keeps the chart's height and a divergence runs off it (the CLI's chart and the
        app's alike). At least a hair above the lowest, for a flat curve."""
        finite = [value for value in self.smoothed if math.isfinite(value)]
        if not finite:
            return math.inf
        return max(finite[0], min(finite) * 1.001 + 1e-12)

    @property
    def taken(self) -> int:
        """Steps taken (fewer than ``steps`` when the loss diverged)."""
        return len(self.lrs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"taken": self.taken}


def find_lr(
    config: RunConfig,
    *,
    start: float = START_LR,
    end: float = END_LR,
    steps: int = STEPS,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.monotonic,
) -> LRFind:
    """Run the ramp on a fresh copy of ``config``'s model and data (a validated experiment).

    ``progress(step, steps)`` is called after each step; ``cancelled()`` is asked before each
    one, and raises :class:`LRFindCancelled` when it says so. Bad ramp values and data that
    cannot be loaded raise a :class:`~workbench.errors.WorkbenchError` before anything trains.
    """
    check_ramp(start, end, steps)
    began = clock()
    parts = build_parts(config, for_training=True)
    parts.steps_per_epoch()  # refuses a split too small for one batch
    optimizer = build_optimizer(config.optimizer, parts.prepared.module.parameters())
    scaler = torch.amp.GradScaler(parts.device.type, enabled=parts.precision.needs_grad_scaler)
    parts.prepared.model.train()
    lrs, losses, smoothed = [], [], []
    average = _SmoothedLoss()
    diverged = False
    ramp_began = clock()
    for step, (lr, (inputs, targets)) in enumerate(zip(ramp_lrs(start, end, steps), _batches(parts), strict=False), 1):
        if cancelled():
            raise LRFindCancelled
        for group in optimizer.param_groups:
            group["lr"] = lr
        _, loss = train_step(parts, optimizer, scaler, config.train.grad_clip, inputs, targets)
        value = loss.item()  # sync: the ramp decides after every step whether to go on
        lrs.append(lr)
        losses.append(value)
        smoothed.append(average.add(value))
        if progress is not None:
            progress(step, steps)
        if not math.isfinite(value) or smoothed[-1] > DIVERGED * average.best:
            diverged = True
            break
    ended = clock()
    suggestion, lowest, note = suggest(lrs, smoothed)
    return LRFind(
        name=config.name,
        optimizer=config.optimizer.name,
        start=start,
        end=end,
        steps=steps,
        lrs=lrs,
        losses=losses,
        smoothed=smoothed,
        diverged=diverged,
        suggestion=suggestion,
        min_loss_lr=lowest,
        note=note,
        device=f"{parts.device} ({device_name(parts.device)})",
        seconds=ended - began,
        ramp_seconds=ended - ramp_began,
    )


def suggest(lrs: list[float], smoothed: list[float]) -> tuple[float | None, float | None, str]:
    """(the LR at the steepest descent of the smoothed loss, the LR at its minimum, the note).

    The curve looked at leaves out its first :data:`SKIP_START` steps (the average is still its
    first values there) and its last (the step that diverged). The slope is taken against
    log10(LR), and only below the curve's minimum: past it the loss is rising, and a noisy dip
    there is no place to train.
    """
    skip = min(SKIP_START, len(lrs) // 10)
    curve = [(lr, loss) for lr, loss in zip(lrs[skip:-1], smoothed[skip:-1], strict=True) if math.isfinite(loss)]
    if len(curve) < 3:
        return None, None, "no suggestion: too few steps before the loss diverged; start the ramp lower"
    lowest = min(range(len(curve)), key=lambda i: curve[i][1])
    if lowest < 2:
        return None, curve[lowest][0], "no suggestion: the loss never fell; start the ramp lower, or check the model and data"
    falling = curve[: lowest + 1]
    slopes = np.gradient(np.asarray([loss for _, loss in falling]), np.log10([lr for lr, _ in falling]))
    steepest = int(slopes[:-1].argmin())  # strictly below the minimum
    return falling[steepest][0], curve[lowest][0], CAVEAT


class _SmoothedLoss:
    """The running average of the losses, corrected for its start (the first value is not pulled
    toward 0), and the best average so far. Non-finite losses are left out."""

    def __init__(self) -> None:
        self._average = self._weight = 0.0
        self.best = math.inf

    def add(self, loss: float) -> float:
        if not math.isfinite(loss):
            return loss
        self._average = SMOOTHING * self._average + (1 - SMOOTHING) * loss
        self._weight = SMOOTHING * self._weight + (1 - SMOOTHING)
        value = self._average / self._weight
        self.best = min(self.best, value)
        return value


def _batches(parts: Parts) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Training batches, epoch after epoch, for as long as the ramp asks."""
    epoch = 1
    while True:
        yield from parts.splits.train.epoch(epoch)
        epoch += 1
